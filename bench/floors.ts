// The floors a control-plane change cannot beat, measured in the same run as Gantry's own figures:
// one NATS JetStream publish → receive, one Redis GET of a snapshot manifest, one protobuf encode of
// a route configuration.
import { Redis } from 'ioredis';
import { connect, StringCodec } from 'nats';
import { encode } from '../libs/xds/encode.ts';
import type { RouteConfiguration } from '../libs/xds/types.ts';
import { stats } from './report.ts';

export interface Floors {
  natsPublishReceiveMs: number;
  redisGetMs: number;
  protobufEncodeMs: number;
}

async function natsFloor(url: string, rounds: number): Promise<number> {
  const nc = await connect({ servers: url });
  const js = nc.jetstream();
  const jsm = await nc.jetstreamManager();
  await jsm.streams.add({ name: 'BENCH_FLOOR', subjects: ['bench.floor.>'], max_msgs_per_subject: 1 });
  const sc = StringCodec();
  const sub = nc.subscribe('bench.floor.x');
  const it = sub[Symbol.asyncIterator]();
  const samples: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t0 = performance.now();
    await js.publish('bench.floor.x', sc.encode(String(i)), { msgID: `floor-${i}-${Date.now()}` });
    await it.next();
    samples.push(performance.now() - t0);
  }
  sub.unsubscribe();
  await jsm.streams.delete('BENCH_FLOOR');
  await nc.drain();
  return stats(samples).median;
}

async function redisFloor(url: string, value: string, rounds: number): Promise<number> {
  const redis = new Redis(url);
  await redis.set('bench:floor', value);
  const samples: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t0 = performance.now();
    await redis.get('bench:floor');
    samples.push(performance.now() - t0);
  }
  await redis.del('bench:floor');
  redis.disconnect();
  return stats(samples).median;
}

export function sampleRouteConfiguration(routes: number): RouteConfiguration {
  return {
    name: 'bench',
    virtual_hosts: [{
      name: 'bench', domains: ['echo.test', 'echo.test:8080'],
      routes: Array.from({ length: routes }, (_, i) => ({
        match: { prefix: `/svc${i}/`, headers: [{ name: 'x-bench', string_match: { exact: String(i) } }] },
        route: { weighted_clusters: { clusters: [{ name: `a${i}`, weight: { value: 80 } }, { name: `b${i}`, weight: { value: 20 } }] } },
      })),
    }],
  };
}

function encodeFloor(rounds: number): number {
  const rc = sampleRouteConfiguration(10);
  const samples: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t0 = performance.now();
    encode('envoy.config.route.v3.RouteConfiguration', rc);
    samples.push(performance.now() - t0);
  }
  return stats(samples).median;
}

export async function measureFloors(natsUrl: string, redisUrl: string, manifestJson: string): Promise<Floors> {
  return {
    natsPublishReceiveMs: await natsFloor(natsUrl, 200),
    redisGetMs: await redisFloor(redisUrl, manifestJson, 200),
    protobufEncodeMs: encodeFloor(500),
  };
}
