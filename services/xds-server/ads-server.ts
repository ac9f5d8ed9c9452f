// The gRPC side of the xds-server: one grpc.Server offering, over one SnapshotCache, the aggregated
// service (ADS) and the per-type services (LDS, RDS, CDS, EDS, SDS) for proxies configured
// without ADS, each in both protocol variants. Every stream is served by discovery-stream.ts with
// the pure protocol module of its variant (libs/xds-server/sotw.ts or delta.ts).
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { SnapshotCache } from '../../libs/xds-server/cache.ts';
import { DeltaStream, type DeltaOutcome, type DeltaTypeState } from '../../libs/xds-server/delta.ts';
import { checkProxyIdentity, type ProxyIdentity } from '../../libs/xds-server/node.ts';
import { SotwStream, type SotwOutcome } from '../../libs/xds-server/sotw.ts';
import { DEFAULT_MAX_NAMES, StreamState } from '../../libs/xds-server/stream-state.ts';
import { serviceDefinition } from '../../libs/xds/grpc-services.ts';
import { CLUSTER, ENDPOINT, LISTENER, ROUTE, SECRET } from '../../libs/xds/type-urls.ts';
import type { DeltaDiscoveryRequest__Output } from '../../protos/generated/envoy/service/discovery/v3/DeltaDiscoveryRequest';
import type { DiscoveryRequest__Output } from '../../protos/generated/envoy/service/discovery/v3/DiscoveryRequest';
import { serveStream, type ProxyEventSink, type StreamVariant } from './discovery-stream.ts';

export type { ProxyEventDraft, ProxyEventSink } from './discovery-stream.ts';

/** The per-type services: service, its two streaming methods and the one type each serves. */
export const PER_TYPE_SERVICES = [
  { service: 'envoy.service.listener.v3.ListenerDiscoveryService', sotw: 'StreamListeners', delta: 'DeltaListeners', fetch: 'FetchListeners', typeUrl: LISTENER },
  { service: 'envoy.service.route.v3.RouteDiscoveryService', sotw: 'StreamRoutes', delta: 'DeltaRoutes', fetch: 'FetchRoutes', typeUrl: ROUTE },
  { service: 'envoy.service.cluster.v3.ClusterDiscoveryService', sotw: 'StreamClusters', delta: 'DeltaClusters', fetch: 'FetchClusters', typeUrl: CLUSTER },
  { service: 'envoy.service.endpoint.v3.EndpointDiscoveryService', sotw: 'StreamEndpoints', delta: 'DeltaEndpoints', fetch: 'FetchEndpoints', typeUrl: ENDPOINT },
  { service: 'envoy.service.secret.v3.SecretDiscoveryService', sotw: 'StreamSecrets', delta: 'DeltaSecrets', fetch: 'FetchSecrets', typeUrl: SECRET },
] as const;

/**
 * A client constructor for a discovery service by its full name, e.g.
 * `envoy.service.cluster.v3.ClusterDiscoveryService` (the tests' and the benchmark's raw clients),
 * from the same definitions the server uses (libs/xds/grpc-services.ts).
 */
export function loadDiscoveryService(fullName: string): grpc.ServiceClientConstructor {
  return grpc.makeClientConstructor(serviceDefinition(fullName), fullName);
}

export function loadAdsService(): grpc.ServiceClientConstructor {
  return loadDiscoveryService('envoy.service.discovery.v3.AggregatedDiscoveryService');
}

export const DEFAULT_MAX_RECEIVE_BYTES = 4 * 1024 * 1024;
export const DEFAULT_MAX_SEND_BYTES = 64 * 1024 * 1024;

export interface AdsServerOptions {
  cache: SnapshotCache;
  log: Logger;
  /** Reports connects, ACKs and NACKs (the PROXIES stream); errors are logged, never fatal. */
  reportProxyEvent?: ProxyEventSink;
  replica: string;
  /** Sees every protocol outcome of every state-of-the-world stream (embedders and tests). */
  observe?: (identity: ProxyIdentity, outcome: SotwOutcome) => void;
  /** The same for delta streams. */
  observeDelta?: (identity: ProxyIdentity, outcome: DeltaOutcome) => void;
  /** Largest request accepted (bytes); a larger one ends its stream with RESOURCE_EXHAUSTED. */
  maxReceiveBytes?: number;
  /** Largest response sent (bytes); a larger one ends its stream with RESOURCE_EXHAUSTED. */
  maxSendBytes?: number;
  /** Most resource names one stream may subscribe to, over all its types. */
  maxNames?: number;
  /**
   * A connection older than this gets a GOAWAY (grpc-js adds its own ±10% jitter per connection), so
   * proxies spread over replicas added since they connected. Unset: connections live forever.
   */
  maxConnectionAgeMs?: number;
  /** After the GOAWAY, streams still open (an ADS stream never ends by itself) are cut after this. */
  maxConnectionAgeGraceMs?: number;
  /** TLS (and mTLS when it checks client certificates) for the listening port; plaintext when unset. */
  credentials?: grpc.ServerCredentials;
  /**
   * Proxy authentication (needs mTLS): a stream whose client certificate has no SPIFFE ID naming
   * the Gateway of its node.cluster ends with PERMISSION_DENIED. `trustDomain` narrows the IDs accepted.
   */
  authenticateProxies?: { trustDomain?: string };
}

type SotwCall = grpc.ServerDuplexStream<DiscoveryRequest__Output, unknown>;
type DeltaCall = grpc.ServerDuplexStream<DeltaDiscoveryRequest__Output, unknown>;

export class AdsServer {
  readonly server: grpc.Server;
  private readonly streams = new Set<grpc.ServerDuplexStream<unknown, unknown>>();
  private streamCount = 0;

  constructor(private readonly opts: AdsServerOptions) {
    this.server = new grpc.Server({
      'grpc.keepalive_time_ms': 30_000,
      'grpc.keepalive_permit_without_calls': 1,
      'grpc.max_receive_message_length': opts.maxReceiveBytes ?? DEFAULT_MAX_RECEIVE_BYTES,
      'grpc.max_send_message_length': opts.maxSendBytes ?? DEFAULT_MAX_SEND_BYTES,
      ...(opts.maxConnectionAgeMs ? { 'grpc.max_connection_age_ms': opts.maxConnectionAgeMs } : {}),
      ...(opts.maxConnectionAgeMs && opts.maxConnectionAgeGraceMs !== undefined
        ? { 'grpc.max_connection_age_grace_ms': opts.maxConnectionAgeGraceMs } : {}),
    });
    this.server.addService(serviceDefinition('envoy.service.discovery.v3.AggregatedDiscoveryService'), {
      StreamAggregatedResources: (call: SotwCall) => this.serve(call, this.sotw('StreamAggregatedResources')),
      DeltaAggregatedResources: (call: DeltaCall) => this.serve(call, this.delta('DeltaAggregatedResources')),
    });
    for (const s of PER_TYPE_SERVICES) {
      this.server.addService(serviceDefinition(s.service), {
        [s.sotw]: (call: SotwCall) => this.serve(call, this.sotw(s.sotw, s.typeUrl)),
        [s.delta]: (call: DeltaCall) => this.serve(call, this.delta(s.delta, s.typeUrl)),
        // REST-style polling: Gantry serves streams only, where it can track what each proxy holds.
        [s.fetch]: (_call: unknown, callback: grpc.sendUnaryData<unknown>) =>
          callback({ code: grpc.status.UNIMPLEMENTED, details: `${s.fetch} is not served; use ${s.sotw}, ${s.delta} or ADS` }),
      });
    }
  }

  private sotw(method: string, onlyType?: string): StreamVariant<DiscoveryRequest__Output, SotwOutcome> {
    return {
      protocol: 'sotw', method, onlyType, observe: this.opts.observe,
      create: (identity, streamId, options) => new SotwStream(new StreamState(identity, streamId, options)),
    };
  }

  private delta(method: string, onlyType?: string): StreamVariant<DeltaDiscoveryRequest__Output, DeltaOutcome> {
    return {
      protocol: 'delta', method, onlyType, observe: this.opts.observeDelta,
      create: (identity, streamId, options) => new DeltaStream(new StreamState<DeltaTypeState>(identity, streamId, options)),
    };
  }

  private serve<Req extends { node: DiscoveryRequest__Output['node']; type_url: string }, O extends SotwOutcome | DeltaOutcome>(
    call: grpc.ServerDuplexStream<Req, unknown>, variant: StreamVariant<Req, O>,
  ): void {
    this.streams.add(call);
    serveStream({
      cache: this.opts.cache,
      log: this.opts.log,
      streamId: `${this.opts.replica}#${++this.streamCount}`,
      maxNames: this.opts.maxNames ?? DEFAULT_MAX_NAMES,
      maxSendBytes: this.opts.maxSendBytes ?? DEFAULT_MAX_SEND_BYTES,
      reportProxyEvent: this.opts.reportProxyEvent,
      authorize: this.opts.authenticateProxies && ((identity) => {
        const peer = call.getAuthContext().sslPeerCertificate;
        return checkProxyIdentity(peer?.subjectaltname, identity.gateway, this.opts.authenticateProxies?.trustDomain);
      }),
      onClosed: () => this.streams.delete(call),
    }, call, variant);
  }

  /** Binds `address:port` (port 0 picks one) and returns the bound port. */
  listen(address: string, port: number): Promise<number> {
    return new Promise((resolve, reject) =>
      this.server.bindAsync(`${address}:${port}`, this.opts.credentials ?? grpc.ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound))),
    );
  }

  /** Ends every stream (proxies reconnect to another replica) and stops the server. */
  async stop(): Promise<void> {
    for (const call of this.streams) call.emit('error', { code: grpc.status.UNAVAILABLE, details: 'xds-server shutting down' });
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => { this.server.forceShutdown(); resolve(); }, 2000);
      this.server.tryShutdown(() => { clearTimeout(t); resolve(); });
    });
  }
}
