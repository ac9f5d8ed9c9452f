// Shared by the xds-server tests: a real NATS + Redis + xds-server per test, snapshot seeding the
// way the translator writes them, small Envoy resources, raw SotW and delta clients (ADS or a
// per-type service) and a proxy-event tap.
import * as grpc from '@grpc/grpc-js';
import { Redis } from 'ioredis';
import type { Subscription as NatsSubscription } from 'nats';
import pino from 'pino';
import { decodeEnvelope, ProxyEventSchema, SNAPSHOT_SCHEMA, SnapshotEventSchema, subjects, type ProxyEvent } from '../../libs/contracts/index.ts';
import { connectEventLog, ensureStreams, publishEvent, type EventLog } from '../../libs/eventlog/index.ts';
import { buildManifest, type EncodedResource, type EncodedSnapshot, type SnapshotManifest } from '../../libs/snapshots/manifest.ts';
import { keys, NO_LEASE, SnapshotWriter } from '../../libs/snapshots/redis-store.ts';
import { encode, pack } from '../../libs/xds/encode.ts';
import { CLUSTER, ENDPOINT, LISTENER, ROUTE, SECRET } from '../../libs/xds/type-urls.ts';
import type { DeltaDiscoveryRequest } from '../../protos/generated/envoy/service/discovery/v3/DeltaDiscoveryRequest';
import type { DeltaDiscoveryResponse__Output } from '../../protos/generated/envoy/service/discovery/v3/DeltaDiscoveryResponse';
import type { DiscoveryRequest } from '../../protos/generated/envoy/service/discovery/v3/DiscoveryRequest';
import type { DiscoveryResponse__Output } from '../../protos/generated/envoy/service/discovery/v3/DiscoveryResponse';
import { loadDiscoveryService } from '../../services/xds-server/ads-server.ts';
import { startXdsServer, XdsServerConfig, type RunningXdsServer } from '../../services/xds-server/service.ts';
import { startNats, startRedis, type RunningServer } from '../support/servers.ts';

export const log = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

// --- environment ------------------------------------------------------------------------------
export interface Env {
  nats: RunningServer;
  redisServer: RunningServer;
  redis: Redis;
  events: EventLog;
  writer: SnapshotWriter;
  xds: RunningXdsServer;
  startReplica(id: string, env?: Record<string, string>): Promise<RunningXdsServer>;
  stop(): Promise<void>;
}

export async function startEnv(): Promise<Env> {
  const [nats, redisServer] = await Promise.all([startNats(), startRedis()]);
  const events = await connectEventLog(nats.url, 'test', log);
  await ensureStreams(events.jsm);
  const redis = new Redis(redisServer.url);
  const replicas: RunningXdsServer[] = [];
  const startReplica = async (id: string, extra: Record<string, string> = {}) => {
    const config = XdsServerConfig.parse({
      GANTRY_NATS_URL: nats.url, GANTRY_REDIS_URL: redisServer.url, GANTRY_XDS_PORT: '0', GANTRY_REPLICA_ID: id, ...extra,
    });
    const r = await startXdsServer(config, log);
    replicas.push(r);
    return r;
  };
  const xds = await startReplica('replica-1');
  return {
    nats, redisServer, redis, events, writer: new SnapshotWriter(redis, NO_LEASE), xds, startReplica,
    stop: async () => {
      await Promise.all(replicas.map((r) => r.stop()));
      redis.disconnect();
      await events.close().catch(() => undefined);
      await Promise.all([nats.stop(), redisServer.stop()]);
    },
  };
}

/** Writes a snapshot as the translator does (blobs, manifest, head) and announces it on NATS. */
export async function seedSnapshot(env: Env, snap: EncodedSnapshot): Promise<SnapshotManifest> {
  const { manifest, blobs } = buildManifest(snap, {});
  await env.writer.write(manifest, blobs);
  await publishEvent(env.events.js, SnapshotEventSchema, subjects.snapshot(snap.gateway), {
    schema: SNAPSHOT_SCHEMA, gateway: snap.gateway, op: 'upsert', version: manifest.version,
    manifestKey: keys.manifest(snap.gateway, manifest.version), emittedAt: new Date().toISOString(),
  }, `${snap.gateway}:${manifest.version}`);
  return manifest;
}

// --- Envoy resources --------------------------------------------------------------------------
const ads = { ads: {}, resource_api_version: 'V3' as const };

export function cluster(name: string): EncodedResource {
  return {
    typeUrl: CLUSTER, name,
    bytes: encode('envoy.config.cluster.v3.Cluster', {
      name, type: 'EDS', connect_timeout: { seconds: 1 }, lb_policy: 'ROUND_ROBIN',
      eds_cluster_config: { eds_config: ads },
    }),
  };
}

export function endpoints(clusterName: string, ports: number[], address = '127.0.0.1'): EncodedResource {
  return {
    typeUrl: ENDPOINT, name: clusterName,
    bytes: encode('envoy.config.endpoint.v3.ClusterLoadAssignment', {
      cluster_name: clusterName,
      endpoints: [{
        locality: { zone: 'z' },
        load_balancing_weight: { value: 1 },
        lb_endpoints: ports.map((port) => ({ endpoint: { address: { socket_address: { address, port_value: port } } } })),
      }],
    }),
  };
}

export interface VirtualHostSpec {
  domains: string[];
  cluster: string;
  /** Routes on this header (name → exact value) go to `headerCluster` instead. */
  header?: { name: string; value: string; cluster: string };
}

export function routeConfig(name: string, vhosts: VirtualHostSpec[]): EncodedResource {
  return {
    typeUrl: ROUTE, name,
    bytes: encode('envoy.config.route.v3.RouteConfiguration', {
      name,
      virtual_hosts: vhosts.map((v, i) => ({
        name: `vh-${i}`, domains: v.domains,
        routes: [
          ...(v.header ? [{
            match: { prefix: '/', headers: [{ name: v.header.name, string_match: { exact: v.header.value } }] },
            route: { cluster: v.header.cluster },
          }] : []),
          { match: { prefix: '/' }, route: { cluster: v.cluster } },
        ],
      })),
    }),
  };
}

function hcm(routeName: string, statPrefix?: string) {
  return pack('envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager', {
    ...(statPrefix ? { stat_prefix: statPrefix } : {}),
    rds: { route_config_name: routeName, config_source: ads },
    http_filters: [{ name: 'envoy.filters.http.router', typed_config: pack('envoy.extensions.filters.http.router.v3.Router', {}) }],
  });
}

export function socketListener(name: string, port: number, routeName: string): EncodedResource {
  return {
    typeUrl: LISTENER, name,
    bytes: encode('envoy.config.listener.v3.Listener', {
      name, address: { socket_address: { address: '0.0.0.0', port_value: port } },
      filter_chains: [{ filters: [{ name: 'envoy.filters.network.http_connection_manager', typed_config: hcm(routeName, name) }] }],
    }),
  };
}

/** The API listener template a proxyless gRPC client's `host:port` is answered with. */
export function apiListenerTemplate(routeName: string): EncodedResource {
  return {
    typeUrl: LISTENER, name: 'api-template',
    bytes: encode('envoy.config.listener.v3.Listener', { name: 'api-template', api_listener: { api_listener: hcm(routeName) } }),
  };
}

// --- raw discovery clients (state of the world and delta) -------------------------------------
/** A raw bidirectional stream of `Res` messages, with responses queued until taken. */
function rawStream<Req, Res extends { type_url: string }>(
  port: number, node: { id: string; cluster?: string }, service: string, method: string,
  describe: (r: Res) => string, credentials = grpc.credentials.createInsecure(),
): RawStream<Req, Res> {
  const Ctor = loadDiscoveryService(service);
  const client = new Ctor(`127.0.0.1:${port}`, credentials) as unknown as grpc.Client
    & Record<string, () => grpc.ClientDuplexStream<Req, Res>>;
  const stream = client[method]();
  const queue: Res[] = [];
  let wake: (() => void) | undefined;
  stream.on('data', (r: Res) => { queue.push(r); wake?.(); });
  stream.on('error', () => undefined);
  const status = new Promise<grpc.StatusObject>((resolve) => stream.on('status', resolve));
  let first = true;
  const take = (typeUrl?: string) => {
    const i = queue.findIndex((r) => !typeUrl || r.type_url === typeUrl);
    return i < 0 ? undefined : queue.splice(i, 1)[0];
  };
  return {
    send(req) {
      stream.write(first ? { node, ...req } : req);
      first = false;
    },
    async next(typeUrl, timeoutMs = 3000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const r = take(typeUrl);
        if (r) return r;
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no ${typeUrl ?? 'response'} within ${timeoutMs} ms (queued: ${queue.map((q) => q.type_url).join(', ') || 'none'})`);
        await new Promise<void>((resolve) => { wake = resolve; setTimeout(resolve, left); });
      }
    },
    async nothingWithin(ms) {
      await new Promise((r) => setTimeout(r, ms));
      if (queue.length > 0) throw new Error(`unexpected responses: ${queue.map(describe).join(', ')}`);
    },
    status,
    close() {
      stream.cancel();
      client.close();
    },
  };
}

export interface RawStream<Req, Res> {
  send(req: Req): void;
  /** The next response (of `typeUrl`, if given; responses of other types are kept queued). */
  next(typeUrl?: string, timeoutMs?: number): Promise<Res>;
  /** Resolves with no response received within `ms` (fails if one arrives). */
  nothingWithin(ms: number): Promise<void>;
  /** The status the stream ended with. */
  status: Promise<grpc.StatusObject>;
  close(): void;
}

export type AdsClient = RawStream<DiscoveryRequest, DiscoveryResponse__Output>;
export type DeltaClient = RawStream<DeltaDiscoveryRequest, DeltaDiscoveryResponse__Output>;

const ADS = 'envoy.service.discovery.v3.AggregatedDiscoveryService';

/** A state-of-the-world client: ADS by default, or a per-type service's Stream* method. */
export function adsClient(
  port: number, node: { id: string; cluster?: string }, via: { service: string; method: string } = { service: ADS, method: 'StreamAggregatedResources' },
  credentials?: grpc.ChannelCredentials,
): AdsClient {
  return rawStream(port, node, via.service, via.method, (q: DiscoveryResponse__Output) => `${q.type_url}@${q.version_info}`, credentials);
}

/** A delta client: ADS by default, or a per-type service's Delta* method. */
export function deltaClient(
  port: number, node: { id: string; cluster?: string }, via: { service: string; method: string } = { service: ADS, method: 'DeltaAggregatedResources' },
  credentials?: grpc.ChannelCredentials,
): DeltaClient {
  return rawStream(port, node, via.service, via.method,
    (q: DeltaDiscoveryResponse__Output) => `${q.type_url}+[${q.resources.map((r) => r.name).join(',')}]-[${q.removed_resources.join(',')}]`, credentials);
}

/** Resource names in a response, decoded from the Any values (every Envoy resource has `name` as field 1... except CLA). */
export function namesOf(r: DiscoveryResponse__Output): string[] {
  return r.resources.map((any) => {
    // Field 1 of Listener, Cluster, RouteConfiguration, Secret and ClusterLoadAssignment is the name.
    const buf = any.value as Buffer;
    if (buf[0] !== 0x0a) return '';
    let len = 0, shift = 0, i = 1;
    for (;;) { const b = buf[i++]; len |= (b & 0x7f) << shift; if (b < 0x80) break; shift += 7; }
    return buf.subarray(i, i + len).toString('utf8');
  }).sort();
}

// --- proxy events -----------------------------------------------------------------------------
export interface ProxyEventTap {
  events: ProxyEvent[];
  /** Waits until an event matching `pred` has been seen. */
  waitFor(pred: (e: ProxyEvent) => boolean, timeoutMs?: number): Promise<ProxyEvent>;
  stop(): void;
}

export function tapProxyEvents(env: Env): ProxyEventTap {
  const sub: NatsSubscription = env.events.nc.subscribe('gantry.proxy.>');
  const events: ProxyEvent[] = [];
  void (async () => {
    for await (const m of sub) {
      const d = decodeEnvelope(ProxyEventSchema, m.data);
      if (d.ok) events.push(d.value);
    }
  })();
  return {
    events,
    async waitFor(pred, timeoutMs = 3000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const e = events.find(pred);
        if (e) return e;
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error(`no matching proxy event within ${timeoutMs} ms; saw ${JSON.stringify(events.map((e) => [e.event, e.typeUrl, e.version]))}`);
    },
    stop: () => sub.unsubscribe(),
  };
}

export const TYPES = { CLUSTER, ENDPOINT, LISTENER, ROUTE, SECRET };
