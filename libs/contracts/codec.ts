// Wire encoding of envelopes: JSON bytes, parsed with the family's schema on the way in so that a
// malformed or unknown message becomes an error value, never a crash.
import type { z } from 'zod';

export type Decoded<T> = { ok: true; value: T } | { ok: false; error: string };

export function encodeEnvelope(value: unknown): Uint8Array {
  return Buffer.from(JSON.stringify(value));
}

export function decodeEnvelope<S extends z.ZodType>(schema: S, data: Uint8Array): Decoded<z.output<S>> {
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(data).toString('utf8'));
  } catch (err) {
    return { ok: false, error: `not JSON: ${(err as Error).message}` };
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    return { ok: false, error: issues.join('; ') };
  }
  return { ok: true, value: parsed.data };
}
