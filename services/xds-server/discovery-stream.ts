// The I/O of one discovery stream, whichever protocol variant (state of the world or delta) and
// whichever service (ADS or a per-type one) it arrived on: identify the proxy from the first
// request, follow its Gateway's snapshots, hand requests and snapshots to the pure protocol
// module, and do what its outcomes say (write, log, report to PROXIES, end the stream).
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { ProxyEvent } from '../../libs/contracts/index.ts';
import { metrics } from '../../libs/service/metrics.ts';
import type { SnapshotCache } from '../../libs/xds-server/cache.ts';
import type { DeltaOutcome } from '../../libs/xds-server/delta.ts';
import { parseNode, type ProxyIdentity } from '../../libs/xds-server/node.ts';
import { routeObjectsOf } from '../../libs/xds-server/route-objects.ts';
import type { GatewaySnapshot } from '../../libs/xds-server/snapshot.ts';
import type { SotwOutcome } from '../../libs/xds-server/sotw.ts';
import type { StreamOptions } from '../../libs/xds-server/stream-state.ts';
import { ROUTE, typeNameOf } from '../../libs/xds/type-urls.ts';
import type { Node__Output } from '../../protos/generated/envoy/config/core/v3/Node';

/** A proxy event without the fields the server fills in (schema, replica, time), with its dedup id. */
export type ProxyEventDraft = Omit<ProxyEvent, 'schema' | 'replica' | 'emittedAt'>;
export type ProxyEventSink = (event: ProxyEventDraft, msgId: string) => Promise<void>;

export type Outcome = SotwOutcome | DeltaOutcome;

/** A protocol variant bound to one stream (SotwStream, DeltaStream). */
export interface StreamProtocol<Req, O extends Outcome> {
  onRequest(req: Req, snap: GatewaySnapshot | undefined): O[];
  onSnapshot(snap: GatewaySnapshot): O[];
}

export interface StreamVariant<Req, O extends Outcome> {
  /** For logs: `sotw` or `delta`, and the service method. */
  protocol: 'sotw' | 'delta';
  method: string;
  /** Set on per-type services: the one type the stream serves. */
  onlyType?: string;
  create(identity: ProxyIdentity, streamId: string, options: StreamOptions): StreamProtocol<Req, O>;
  observe?: (identity: ProxyIdentity, outcome: O) => void;
}

export interface StreamContext {
  cache: SnapshotCache;
  log: Logger;
  streamId: string;
  maxNames: number;
  /** The server's send limit: a response above it ends the stream here, with a message saying which. */
  maxSendBytes: number;
  reportProxyEvent?: ProxyEventSink;
  /** When set, may refuse a proxy (its reason ends the stream with PERMISSION_DENIED): mTLS identity checks. */
  authorize?: (identity: ProxyIdentity) => string | undefined;
  /** Called once when the stream is over, whatever ended it. */
  onClosed(): void;
}

/** `Cluster`, `RouteConfiguration`…: a metric label short enough to read on a dashboard. */
const shortType = (typeUrl: string) => typeNameOf(typeUrl).split('.').pop()!;

const END_CODES = { 'invalid-argument': grpc.status.INVALID_ARGUMENT, 'resource-exhausted': grpc.status.RESOURCE_EXHAUSTED } as const;

export function serveStream<Req extends { node: Node__Output | null; type_url: string }, O extends Outcome>(
  ctx: StreamContext, call: grpc.ServerDuplexStream<Req, unknown>, variant: StreamVariant<Req, O>,
): void {
  const { streamId } = ctx;
  let log = ctx.log.child({ stream: streamId, peer: call.getPeer(), protocol: variant.protocol, method: variant.method });
  let identity: ProxyIdentity | undefined;
  let protocol: StreamProtocol<Req, O> | undefined;
  let unwatch: (() => void) | undefined;
  let closed = false;

  const report = (event: ProxyEventDraft, msgId: string) => {
    ctx.reportProxyEvent?.({ ...event, stream: streamId }, msgId).catch((err) =>
      log.warn({ err: (err as Error).message, event: event.event }, 'could not publish proxy event'));
  };

  const end = (code: grpc.status, details: string) => {
    if (closed) return;
    close(`ended: ${details}`);
    call.emit('error', { code, details });
  };

  const write = (outcomes: O[]) => {
    if (closed || !identity) return;
    const { gateway, nodeId } = identity;
    for (const o of outcomes) {
      if (closed) return;
      variant.observe?.(identity, o);
      switch (o.kind) {
        case 'response': {
          // grpc-js would refuse it too, but the proxy and the log should say which response and which setting.
          const bytes = o.response.resources.reduce((n, r) => n + o.typeUrl.length
            + ('value' in r ? r.value.length : r.resource.value.length + r.name.length + r.version.length), 0);
          if (bytes > ctx.maxSendBytes) {
            const message = `the ${typeNameOf(o.typeUrl)} response needs at least ${bytes} bytes, more than the server sends in one message (${ctx.maxSendBytes}, GANTRY_XDS_MAX_SEND_BYTES)`;
            log.error({ type: typeNameOf(o.typeUrl), bytes, limit: ctx.maxSendBytes, snapshot: o.snapshot }, 'response too large; ending the stream');
            end(grpc.status.RESOURCE_EXHAUSTED, message);
            return;
          }
          const removed = 'removed' in o ? o.removed.length : undefined;
          // Per stream and per push: debug (the cache logs one line per pushed snapshot at info).
          if (log.isLevelEnabled('debug')) {
            log.debug({ type: typeNameOf(o.typeUrl), version: o.version, nonce: o.nonce, snapshot: o.snapshot, resources: o.names.length, removed }, 'sent response');
            log.debug({ type: typeNameOf(o.typeUrl), version: o.version, names: o.names, removedNames: 'removed' in o ? o.removed : undefined }, 'response resources');
          }
          call.write(o.response);
          break;
        }
        case 'ack':
          if (o.first) {
            metrics.acks.inc({ type: shortType(o.typeUrl) });
            // Per stream: debug; the ACK itself goes to PROXIES.
            if (log.isLevelEnabled('debug')) log.debug({ type: typeNameOf(o.typeUrl), version: o.version, snapshot: o.snapshot }, 'proxy accepted version');
            report({ gateway, node: nodeId, event: 'ack', typeUrl: o.typeUrl, version: o.version, snapshot: o.snapshot, resourceNames: o.names },
              `${gateway}:${nodeId}:${typeNameOf(o.typeUrl)}:${o.version}:ack`);
          }
          break;
        case 'nack':
          metrics.nacks.inc({ type: shortType(o.typeUrl) });
          log.warn({ type: typeNameOf(o.typeUrl), version: o.version, lastGood: o.lastGood, snapshot: o.snapshot, errorDetail: o.errorDetail.message },
            'proxy rejected version (NACK); it keeps its last good version');
          report({
            gateway, node: nodeId, event: 'nack', typeUrl: o.typeUrl, version: o.version, snapshot: o.snapshot, resourceNames: o.names, errorDetail: o.errorDetail,
            // The routes whose rules were rejected, for their status (route names are stable across snapshots).
            ...(o.typeUrl === ROUTE ? { objects: routeObjectsOf(ctx.cache.current(gateway), o.names) } : {}),
          },
            `${gateway}:${nodeId}:${typeNameOf(o.typeUrl)}:${o.version}:nack`);
          break;
        case 'stale':
          if (log.isLevelEnabled('debug')) log.debug({ type: typeNameOf(o.typeUrl), nonce: o.nonce, latest: o.latest }, 'ignored a stale nonce');
          break;
        case 'invalid':
          log.warn({ err: o.message }, 'ignored an invalid request');
          break;
        case 'end':
          log.warn({ type: typeNameOf(o.typeUrl), err: o.message, code: o.code }, 'ending the stream');
          end(END_CODES[o.code], o.message);
          return;
      }
    }
  };

  const close = (why: string) => {
    if (closed) return;
    closed = true;
    unwatch?.();
    ctx.onClosed();
    if (identity) {
      metrics.connectedProxies.dec({ protocol: variant.protocol });
      const { gateway, nodeId } = identity;
      log.info({ why }, 'proxy disconnected');
      report({ gateway, node: nodeId, event: 'disconnected' }, `${gateway}:${nodeId}:disconnected:${streamId}`);
    }
  };

  call.on('data', (req: Req) => {
    if (closed) return;
    if (!identity) {
      const parsed = parseNode(req.node);
      if (!parsed.ok) {
        log.warn({ err: parsed.error, nodeId: req.node?.id }, 'rejected stream: malformed node');
        end(grpc.status.INVALID_ARGUMENT, parsed.error);
        return;
      }
      const denied = ctx.authorize?.(parsed.value);
      if (denied !== undefined) {
        log.warn({ err: denied, gateway: parsed.value.gateway, nodeId: parsed.value.nodeId }, 'rejected stream: proxy not allowed this Gateway');
        end(grpc.status.PERMISSION_DENIED, denied);
        return;
      }
      identity = parsed.value;
      protocol = variant.create(identity, streamId, { onlyType: variant.onlyType, maxNames: ctx.maxNames });
      const { gateway, nodeId } = identity;
      log = log.child({ gateway, node: nodeId });
      log.info({ userAgent: req.node?.user_agent_name }, 'proxy connected');
      metrics.connectedProxies.inc({ protocol: variant.protocol });
      report({ gateway, node: nodeId, event: 'connected' }, `${gateway}:${nodeId}:connected:${streamId}`);
      unwatch = ctx.cache.watch(gateway, (snap) => write(protocol!.onSnapshot(snap)));
    }
    const snap = ctx.cache.current(identity.gateway);
    if (!snap && log.isLevelEnabled('debug')) log.debug({ type: typeNameOf(req.type_url) }, 'no snapshot yet; the request waits for one');
    write(protocol!.onRequest(req, snap));
  });
  call.on('end', () => {
    close('client ended the stream');
    call.end();
  });
  call.on('cancelled', () => close('cancelled'));
  call.on('error', (err: { message?: string; details?: string }) => close(`error: ${err.details ?? err.message}`));
  call.on('close', () => close('closed'));
}
