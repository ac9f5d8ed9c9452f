// Run as its own process by bench/translate.ts: the memory of a translator holding 10,000 routes
// on 100 Gateways (the index, the per-Gateway memory and every encoded snapshot), after a full
// translation and 30 route changes. Prints one JSON line: {rssMiB, heapMiB}.
import { encodeGatewaySnapshot } from '../libs/snapshots/encode.ts';
import { Translator } from '../libs/translator/index.ts';
import { StateIndex } from '../libs/translator/index-state.ts';
import { OPTIONS, route, stored, world } from '../test/support/synthetic-world.ts';

const n = Number(process.argv[2] ?? 10_000);
const index = StateIndex.of(world(n));
const translator = new Translator(OPTIONS);
const encoded = new Map(
  [...translator.translateIndex(index).snapshots].map(([gw, snap]) => [gw, encodeGatewaySnapshot(snap)]),
);
for (let e = 1; e <= 30; e++) {
  index.upsert(stored(route((e * 37) % n, e)));
  const result = translator.translateIndex(index);
  for (const gw of result.changed) encoded.set(gw, encodeGatewaySnapshot(result.snapshots.get(gw)!));
}
globalThis.gc?.();
const { rss, heapUsed } = process.memoryUsage();
process.stdout.write(`${JSON.stringify({ rssMiB: rss / 2 ** 20, heapMiB: heapUsed / 2 ** 20, gateways: encoded.size })}\n`);
