// Manifest edit → the proxyless gRPC client's ACK of the new route configuration, through all five
// services (watcher → NATS → translator → Redis + NATS → xds-server → client), median of 20 edits.
// The floors (NATS publish→receive, Redis GET of the snapshot manifest, protobuf encode) are
// measured in the same run, on the same servers, so the ratio means something on a noisy machine.
import { Redis } from 'ioredis';
import { connect } from 'nats';
import { decodeEnvelope, ProxyEventSchema } from '../libs/contracts/index.ts';
import { keys, readHead } from '../libs/snapshots/redis-store.ts';
import { ROUTE } from '../libs/xds/type-urls.ts';
import { startPipeline } from '../test/support/pipeline.ts';
import { measureFloors } from './floors.ts';
import { stats, type Figure } from './report.ts';

const EDITS = 20;
// The services' default debounce windows (services/watcher, services/translator).
const WATCHER_DEBOUNCE_MS = 100;
const TRANSLATOR_DEBOUNCE_MS = 20;

const route = (n: number) => `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: bench, namespace: default}
spec:
  parentRefs: [{name: gw}]
  hostnames: [echo.test]
  rules:
    - matches: [{headers: [{name: x-edit, value: "${n}"}]}]
      backendRefs: [{name: echo-b, port: 9000}]
    - backendRefs: [{name: echo-a, port: 9000}]
`;

export async function benchPipeline(): Promise<Figure[]> {
  const p = await startPipeline(['a', 'b'], { logLevel: 'warn' });
  try {
    p.write('route.yaml', route(0));
    const client = await p.client('bench-client');
    await client.runUntil({ target: 'xds:///echo.test:8080', method: '/gantry.test.Echo/Call', count: 1 }, (r) => r.backends.a === 1, 30_000);

    const nc = await connect({ servers: p.nats.url });
    const acks: Array<{ version: string; at: number }> = [];
    let notify: (() => void) | undefined;
    const sub = nc.subscribe('gantry.proxy.>');
    void (async () => {
      for await (const m of sub) {
        const d = decodeEnvelope(ProxyEventSchema, m.data);
        if (d.ok && d.value.event === 'ack' && d.value.typeUrl === ROUTE && d.value.node === 'bench-client') {
          acks.push({ version: d.value.version ?? '', at: performance.now() });
          notify?.();
        }
      }
    })();
    await nc.flush();

    const samples: number[] = [];
    for (let i = 1; i <= EDITS; i++) {
      const seen = acks.length;
      const done = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`edit ${i}: no ACK within 10 s`)), 10_000);
        notify = () => { if (acks.length > seen) { clearTimeout(timer); resolve(); } };
      });
      const t0 = performance.now();
      p.write('route.yaml', route(i));
      await done;
      samples.push(acks[acks.length - 1].at - t0);
      await new Promise((r) => setTimeout(r, 150));
    }
    sub.unsubscribe();
    await nc.drain();

    const redis = new Redis(p.redis.url);
    const head = await readHead(redis, 'default/gw');
    const manifestJson = (await redis.get(keys.manifest('default/gw', head!))) ?? '{}';
    redis.disconnect();
    const floors = await measureFloors(p.nats.url, p.redis.url, manifestJson);
    const s = stats(samples);
    const floorSum = floors.natsPublishReceiveMs * 3 + floors.redisGetMs + floors.protobufEncodeMs;
    const debounce = WATCHER_DEBOUNCE_MS + TRANSLATOR_DEBOUNCE_MS;
    return [
      { name: 'edit_to_ack_median', value: s.median, unit: 'ms', note: `median of ${EDITS} edits (includes the watcher's debounce)` },
      { name: 'edit_to_ack_p90', value: s.p90, unit: 'ms' },
      { name: 'debounce_configured', value: debounce, unit: 'ms', note: `watcher ${WATCHER_DEBOUNCE_MS} + translator ${TRANSLATOR_DEBOUNCE_MS} (defaults)` },
      { name: 'edit_to_ack_median_past_debounce', value: s.median - debounce, unit: 'ms', note: 'file watch, 5 processes, NATS, Redis, gRPC' },
      { name: 'edit_to_ack_max', value: s.max, unit: 'ms' },
      { name: 'floor_nats_publish_receive', value: floors.natsPublishReceiveMs, unit: 'ms', note: 'JetStream publish → core subscriber, median' },
      { name: 'floor_redis_get_manifest', value: floors.redisGetMs, unit: 'ms', note: `GET of the snapshot manifest (${manifestJson.length} B), median` },
      { name: 'floor_protobuf_encode', value: floors.protobufEncodeMs, unit: 'ms', note: 'RouteConfiguration with 10 routes, median' },
      { name: 'past_debounce_over_floors', value: (s.median - debounce) / floorSum, unit: 'x', note: 'over 3 NATS hops + 1 Redis GET + 1 encode' },
    ];
  } finally {
    await p.stop();
  }
}
