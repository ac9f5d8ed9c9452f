// The gRPC side of the xds-server: AggregatedDiscoveryService over one SnapshotCache. Each stream
// gets its StreamState and a protocol (state of the world for now); this file does the I/O those
// pure modules ask for: writing responses, ending streams, logging and reporting proxy events.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { Logger } from 'pino';
import { type ProxyEvent } from '../../libs/contracts/index.ts';
import type { SnapshotCache } from '../../libs/xds-server/cache.ts';
import { parseNode } from '../../libs/xds-server/node.ts';
import { SotwStream, type DiscoveryResponse, type SotwOutcome } from '../../libs/xds-server/sotw.ts';
import { StreamState } from '../../libs/xds-server/stream-state.ts';
import { envoyIncludeDirs } from '../../libs/xds/protos.ts';
import { typeNameOf } from '../../libs/xds/type-urls.ts';
import type { DiscoveryRequest__Output } from '../../protos/generated/envoy/service/discovery/v3/DiscoveryRequest';

export const ADS_PROTO = 'envoy/service/discovery/v3/ads.proto';

/** Options shared by the server and the tests' raw ADS client, so both see the same shapes. */
export const ADS_LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true, longs: String, enums: String, defaults: true, oneofs: true,
};

export function loadAdsService(): grpc.ServiceClientConstructor {
  const def = protoLoader.loadSync(ADS_PROTO, { ...ADS_LOADER_OPTIONS, includeDirs: envoyIncludeDirs() });
  const pkg = grpc.loadPackageDefinition(def) as unknown as {
    envoy: { service: { discovery: { v3: { AggregatedDiscoveryService: grpc.ServiceClientConstructor } } } };
  };
  return pkg.envoy.service.discovery.v3.AggregatedDiscoveryService;
}

/** A proxy event without the fields the server fills in (schema, replica, time), with its dedup id. */
export type ProxyEventDraft = Omit<ProxyEvent, 'schema' | 'replica' | 'emittedAt'>;
export type ProxyEventSink = (event: ProxyEventDraft, msgId: string) => Promise<void>;

export interface AdsServerOptions {
  cache: SnapshotCache;
  log: Logger;
  /** Reports connects, ACKs and NACKs (the PROXIES stream); errors are logged, never fatal. */
  reportProxyEvent?: ProxyEventSink;
  replica: string;
  /** Sees every protocol outcome of every stream (embedders and tests; not used by the service). */
  observe?: (identity: { gateway: string; nodeId: string }, outcome: SotwOutcome) => void;
}

type AdsCall = grpc.ServerDuplexStream<DiscoveryRequest__Output, DiscoveryResponse>;

export class AdsServer {
  readonly server = new grpc.Server({ 'grpc.keepalive_time_ms': 30_000, 'grpc.keepalive_permit_without_calls': 1 });
  private readonly streams = new Set<AdsCall>();
  private streamCount = 0;

  constructor(private readonly opts: AdsServerOptions) {
    const service = loadAdsService().service;
    this.server.addService(service, {
      StreamAggregatedResources: (call: AdsCall) => this.handleStream(call),
      DeltaAggregatedResources: (call: AdsCall) =>
        call.emit('error', { code: grpc.status.UNIMPLEMENTED, details: 'delta xDS is not served yet; use state-of-the-world ADS' }),
    });
  }

  /** Binds `address:port` (port 0 picks one) and returns the bound port. */
  listen(address: string, port: number): Promise<number> {
    return new Promise((resolve, reject) =>
      this.server.bindAsync(`${address}:${port}`, grpc.ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound))),
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

  private report(event: ProxyEventDraft, msgId: string, log: Logger): void {
    this.opts.reportProxyEvent?.(event, msgId).catch((err) =>
      log.warn({ err: (err as Error).message, event: event.event }, 'could not publish proxy event'));
  }

  private handleStream(call: AdsCall): void {
    const streamId = `${this.opts.replica}#${++this.streamCount}`;
    let log = this.opts.log.child({ stream: streamId, peer: call.getPeer() });
    let state: StreamState | undefined;
    let sotw: SotwStream | undefined;
    let unwatch: (() => void) | undefined;
    let closed = false;
    this.streams.add(call);

    const write = (outcomes: SotwOutcome[]) => {
      if (closed || !state) return;
      const { gateway, nodeId } = state.identity;
      for (const o of outcomes) {
        this.opts.observe?.(state.identity, o);
        switch (o.kind) {
          case 'response':
            log.info({ type: typeNameOf(o.typeUrl), version: o.version, nonce: o.nonce, snapshot: o.snapshot, resources: o.names.length }, 'sent response');
            log.debug({ type: typeNameOf(o.typeUrl), version: o.version, names: o.names }, 'response resources');
            call.write(o.response);
            break;
          case 'ack':
            log.debug({ type: typeNameOf(o.typeUrl), version: o.version, snapshot: o.snapshot }, 'ACK');
            if (o.first) {
              log.info({ type: typeNameOf(o.typeUrl), version: o.version, snapshot: o.snapshot }, 'proxy accepted version');
              this.report({ gateway, node: nodeId, event: 'ack', typeUrl: o.typeUrl, version: o.version, snapshot: o.snapshot, resourceNames: o.names },
                `${gateway}:${nodeId}:${typeNameOf(o.typeUrl)}:${o.version}:ack`, log);
            }
            break;
          case 'nack':
            log.warn({ type: typeNameOf(o.typeUrl), version: o.version, lastGood: o.lastGood, snapshot: o.snapshot, errorDetail: o.errorDetail.message },
              'proxy rejected version (NACK); it keeps its last good version');
            this.report({ gateway, node: nodeId, event: 'nack', typeUrl: o.typeUrl, version: o.version, snapshot: o.snapshot, resourceNames: o.names, errorDetail: o.errorDetail },
              `${gateway}:${nodeId}:${typeNameOf(o.typeUrl)}:${o.version}:nack`, log);
            break;
          case 'stale':
            log.debug({ type: typeNameOf(o.typeUrl), version: state.types.get(o.typeUrl)?.sent?.version, nonce: o.nonce, latest: o.latest }, 'ignored a stale request');
            break;
          case 'invalid':
            log.warn({ err: o.message }, 'ignored an invalid request');
            break;
        }
      }
    };

    const close = (why: string) => {
      if (closed) return;
      closed = true;
      this.streams.delete(call);
      unwatch?.();
      if (state) {
        const { gateway, nodeId } = state.identity;
        log.info({ why }, 'proxy disconnected');
        this.report({ gateway, node: nodeId, event: 'disconnected' }, `${gateway}:${nodeId}:disconnected:${state.streamId}`, log);
      }
    };

    call.on('data', (req: DiscoveryRequest__Output) => {
      if (closed) return;
      if (!state) {
        const parsed = parseNode(req.node);
        if (!parsed.ok) {
          log.warn({ err: parsed.error, nodeId: req.node?.id }, 'rejected stream: malformed node');
          closed = true;
          this.streams.delete(call);
          call.emit('error', { code: grpc.status.INVALID_ARGUMENT, details: parsed.error });
          return;
        }
        state = new StreamState(parsed.value, streamId);
        sotw = new SotwStream(state);
        const { gateway, nodeId } = parsed.value;
        log = log.child({ gateway, node: nodeId });
        log.info({ userAgent: req.node?.user_agent_name }, 'proxy connected');
        this.report({ gateway, node: nodeId, event: 'connected' }, `${gateway}:${nodeId}:connected:${streamId}`, log);
        unwatch = this.opts.cache.watch(gateway, (snap) => write(sotw!.onSnapshot(snap)));
      }
      const snap = this.opts.cache.current(state.identity.gateway);
      if (!snap) log.debug({ type: typeNameOf(req.type_url), version: req.version_info }, 'no snapshot yet; the request waits for one');
      write(sotw!.onRequest(req, snap));
    });
    call.on('end', () => {
      close('client ended the stream');
      call.end();
    });
    call.on('cancelled', () => close('cancelled'));
    call.on('error', (err: { message?: string; details?: string }) => close(`error: ${err.details ?? err.message}`));
    call.on('close', () => close('closed'));
  }
}
