// Translation at scale: N HTTPRoutes spread over 100 Gateways. Measures a full translation, then
// the translator's work for one route change (what the translator service does per event), at
// 100, 1,000 and 10,000 routes, and the heap the world takes. The floor in the same run is the
// protobuf encode of one route configuration.
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Translator } from '../libs/translator/index.ts';
import { StateIndex } from '../libs/translator/index-state.ts';
import { OPTIONS, route, stored, world } from '../test/support/synthetic-world.ts';
import { encodeGatewaySnapshot } from '../libs/snapshots/encode.ts';
import { encode } from '../libs/xds/encode.ts';
import { sampleRouteConfiguration } from './floors.ts';
import { stats, type Figure } from './report.ts';

const here = dirname(fileURLToPath(import.meta.url));

function heapMiB(): number {
  globalThis.gc?.();
  return process.memoryUsage().heapUsed / 2 ** 20;
}

export function benchTranslate(): Figure[] {
  const figures: Figure[] = [];
  const encodeFloor = stats(Array.from({ length: 200 }, () => {
    const rc = sampleRouteConfiguration(100);
    const t0 = performance.now();
    encode('envoy.config.route.v3.RouteConfiguration', rc);
    return performance.now() - t0;
  })).median;
  figures.push({ name: 'floor_encode_100_route_config', value: encodeFloor, unit: 'ms', note: 'protobuf encode, median' });
  const changeMedians: Record<number, number> = {};
  for (const n of [100, 1000, 10_000]) {
    const before = heapMiB();
    const input = world(n);
    const t0 = performance.now();
    const index = StateIndex.of(input);
    const translator = new Translator(OPTIONS);
    const full = translator.translateIndex(index);
    for (const snap of full.snapshots.values()) encodeGatewaySnapshot(snap);
    const fullMs = performance.now() - t0;
    const heap = heapMiB() - before;
    // What the translator service does per event: apply it to the index, translate, encode what changed.
    const samples: number[] = [];
    for (let e = 1; e <= 30; e++) {
      const r = (e * 37) % n;
      const t1 = performance.now();
      index.upsert(stored(route(r, e)));
      const result = translator.translateIndex(index);
      for (const gw of result.changed) encodeGatewaySnapshot(result.snapshots.get(gw)!);
      samples.push(performance.now() - t1);
    }
    changeMedians[n] = stats(samples).median;
    figures.push(
      { name: `full_translate_${n}_routes`, value: fullMs, unit: 'ms', note: 'index + translate + encode every snapshot' },
      { name: `one_route_change_${n}_routes`, value: changeMedians[n], unit: 'ms', note: 'median of 30 edits: apply, translate, encode what changed' },
      { name: `heap_${n}_routes`, value: heap, unit: 'MiB', note: 'heap growth holding the world, index and results' },
    );
  }
  const memory = JSON.parse(execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', join(here, 'translate-memory.ts'), '10000'], { encoding: 'utf8' }));
  figures.push(
    { name: 'translator_rss_10000_routes', value: memory.rssMiB, unit: 'MiB', note: 'own process: index + memory + encoded snapshots (bar: < 300)' },
    { name: 'translator_heap_10000_routes', value: memory.heapMiB, unit: 'MiB', note: 'same process, heap after GC' },
  );
  figures.push({ name: 'change_10000_over_100', value: changeMedians[10_000] / changeMedians[100], unit: 'x', note: 'bar: within 3x' });
  return figures;
}
