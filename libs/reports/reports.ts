// Turning translator reports into REPORTS events: only what changed is published, and a condition
// whose status did not change keeps the lastTransitionTime it had (as the Kubernetes API
// conventions ask), so a re-translation does not churn status.
import { createHash } from 'node:crypto';
import type { StatusReport } from '../translator/api.ts';

type Condition = { type: string; status: string; lastTransitionTime?: string; [k: string]: unknown };

export function reportKey(r: { cluster: string; kind: string; namespace: string; name: string }): string {
  return [r.cluster, r.kind, r.namespace, r.name].join('/');
}

function isCondition(v: unknown): v is Condition {
  return typeof v === 'object' && v !== null && 'type' in v && 'status' in v && typeof (v as Condition).type === 'string';
}

/**
 * Copies lastTransitionTime from `previous` into `next` for every condition (matched by its path
 * in the status tree and its type) whose status is unchanged. Pure: returns a new status.
 */
export function carryTransitionTimes(previous: unknown, next: unknown): unknown {
  if (Array.isArray(next)) {
    const prev = Array.isArray(previous) ? previous : [];
    return next.map((item, i) => {
      if (isCondition(item)) {
        const before = prev.find((p) => isCondition(p) && p.type === item.type) as Condition | undefined;
        return before && before.status === item.status && before.lastTransitionTime
          ? { ...item, lastTransitionTime: before.lastTransitionTime }
          : item;
      }
      return carryTransitionTimes(matchingElement(prev, item, i), item);
    });
  }
  if (typeof next === 'object' && next !== null) {
    const prev = (typeof previous === 'object' && previous !== null ? previous : {}) as Record<string, unknown>;
    return Object.fromEntries(Object.entries(next).map(([k, v]) => [k, carryTransitionTimes(prev[k], v)]));
  }
  return next;
}

/** Status lists (parents, listeners) are matched by their identity, not by position. */
function matchingElement(prev: unknown[], item: unknown, index: number): unknown {
  if (typeof item !== 'object' || item === null) return prev[index];
  const o = item as Record<string, unknown>;
  const id = (x: Record<string, unknown>) => JSON.stringify(x.name ?? x.parentRef ?? x.ancestorRef ?? null);
  const found = prev.find((p) => typeof p === 'object' && p !== null && id(p as Record<string, unknown>) === id(o));
  return found ?? prev[index];
}

/** A digest of a status that ignores transition times: equal digests mean nothing to publish. */
export function statusDigest(status: unknown): string {
  const strip = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(strip);
    if (typeof v === 'object' && v !== null) {
      return Object.fromEntries(Object.entries(v).filter(([k]) => k !== 'lastTransitionTime').sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, x]) => [k, strip(x)]));
    }
    return v;
  };
  return createHash('sha256').update(JSON.stringify(strip(status))).digest('hex').slice(0, 16);
}

export interface PublishedReport {
  digest: string;
  status: Record<string, unknown>;
  generation: number;
}

export interface ReportDiff {
  upserts: Array<StatusReport & { digest: string }>;
  deletes: Array<{ cluster: string; kind: string; namespace: string; name: string; apiVersion: string }>;
}

/** What to publish, given what the log already holds (`published`, keyed by reportKey). */
/**
 * Digests by report: an incremental translation hands back the same report object while the
 * object's status is unchanged, so most reports of a cycle cost a lookup, not a serialisation.
 * Transition times are not part of the digest, so the digest of a report before and after
 * carrying times over is the same.
 */
const digests = new WeakMap<StatusReport, string>();

function digestOf(r: StatusReport): string {
  let digest = digests.get(r);
  if (digest === undefined) digests.set(r, (digest = statusDigest({ status: r.status, generation: r.generation })));
  return digest;
}

export function diffReports(published: Map<string, PublishedReport & { apiVersion: string }>, reports: StatusReport[]): ReportDiff {
  const upserts: ReportDiff['upserts'] = [];
  const seen = new Set<string>();
  for (const r of reports) {
    const key = reportKey(r);
    seen.add(key);
    const before = published.get(key);
    const digest = digestOf(r);
    if (before?.digest === digest) continue;
    const status = carryTransitionTimes(before?.status, r.status) as Record<string, unknown>;
    upserts.push({ ...r, status, digest });
  }
  const deletes: ReportDiff['deletes'] = [];
  for (const [key, p] of published) {
    if (seen.has(key)) continue;
    const [cluster, kind, namespace, name] = key.split('/');
    deletes.push({ cluster, kind, namespace, name, apiVersion: p.apiVersion });
  }
  return { upserts, deletes };
}
