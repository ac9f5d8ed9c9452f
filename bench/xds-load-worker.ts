// A child process of bench/xds-load.ts: simulated Envoy proxies on raw grpc-js ADS streams, state
// of the world or delta, several streams per HTTP/2 connection. Each proxy subscribes like Envoy
// (wildcard CDS and LDS, then EDS for the clusters it got and RDS for its listener's route) and
// ACKs every response. Driven over IPC by the parent:
//   {op: 'connect', proxies, perConnection}  → {op: 'ready', ready, failed, ms}
//   {op: 'expect', marker}                   → (arms: note when each proxy ACKs a route config holding marker)
//   {op: 'collect', timeoutMs}               → {op: 'acks', times: epoch ms per proxy ACK, missing}
//   {op: 'close'}                            → {op: 'closed'}, then exits
import * as grpc from '@grpc/grpc-js';
import { loadDiscoveryService } from '../services/xds-server/ads-server.ts';
import { CLUSTER, ENDPOINT, LISTENER, ROUTE } from '../libs/xds/type-urls.ts';

export interface ProxySpec {
  id: string;
  gateway: string;
  port: number;
  protocol: 'sotw' | 'delta';
  /** The route configuration the proxy's listener names (RDS). */
  route: string;
}

type Msg =
  | { op: 'connect'; proxies: ProxySpec[]; perConnection: number; timeoutMs: number }
  | { op: 'expect'; marker: string }
  | { op: 'collect'; timeoutMs: number }
  | { op: 'close' };

const ADS = 'envoy.service.discovery.v3.AggregatedDiscoveryService';
const now = () => performance.timeOrigin + performance.now();

interface AnyLike { type_url: string; value: Buffer }
interface SotwRes { version_info: string; resources: AnyLike[]; type_url: string; nonce: string }
interface DeltaRes { system_version_info: string; resources: Array<{ name: string; version: string; resource: AnyLike | null }>; type_url: string; nonce: string; removed_resources: string[] }

/** Field 1 (the name) of a Cluster, as Envoy reads it to subscribe to its endpoints. */
function nameOf(buf: Buffer): string {
  if (buf[0] !== 0x0a) return '';
  let len = 0, shift = 0, i = 1;
  for (;;) { const b = buf[i++]; len |= (b & 0x7f) << shift; if (b < 0x80) break; shift += 7; }
  return buf.subarray(i, i + len).toString('utf8');
}

class Proxy {
  ready = false;
  failed = false;
  ackedAt?: number;
  private stream!: grpc.ClientDuplexStream<unknown, unknown>;
  private eds = new Set<string>();
  private rds = false;
  private first = true;
  private acked = new Set<string>();

  constructor(readonly spec: ProxySpec, private readonly client: grpc.Client & Record<string, () => grpc.ClientDuplexStream<unknown, unknown>>,
    private readonly onReady: () => void, private readonly expect: () => string | undefined) {}

  start(): void {
    const s = this.spec;
    this.stream = this.client[s.protocol === 'sotw' ? 'StreamAggregatedResources' : 'DeltaAggregatedResources']();
    this.stream.on('data', (r: unknown) => (s.protocol === 'sotw' ? this.onSotw(r as SotwRes) : this.onDelta(r as DeltaRes)));
    this.stream.on('error', () => { if (!this.ready) { this.failed = true; this.onReady(); } });
    if (s.protocol === 'sotw') {
      this.send({ type_url: CLUSTER, resource_names: [] });
      this.send({ type_url: LISTENER, resource_names: [] });
    } else {
      this.send({ type_url: CLUSTER, resource_names_subscribe: [] });
      this.send({ type_url: LISTENER, resource_names_subscribe: [] });
    }
  }

  private send(req: Record<string, unknown>): void {
    this.stream.write(this.first ? { node: { id: this.spec.id, cluster: this.spec.gateway }, ...req } : req);
    this.first = false;
  }

  private checkRoute(values: Buffer[]): void {
    const marker = this.expect();
    if (marker !== undefined && this.ackedAt === undefined && values.some((v) => v.includes(marker))) this.ackedAt = now();
  }

  private noteAck(typeUrl: string): void {
    this.acked.add(typeUrl);
    if (!this.ready && this.acked.size === 4) {
      this.ready = true;
      this.onReady();
    }
  }

  private onSotw(r: SotwRes): void {
    const ack = (names: string[]) => this.send({ type_url: r.type_url, version_info: r.version_info, response_nonce: r.nonce, resource_names: names });
    switch (r.type_url) {
      case CLUSTER: {
        ack([]);
        const names = r.resources.map((a) => nameOf(a.value)).sort();
        if (names.join() !== [...this.eds].join()) {
          this.eds = new Set(names);
          this.send({ type_url: ENDPOINT, resource_names: names });
        }
        break;
      }
      case ENDPOINT: ack([...this.eds]); break;
      case LISTENER:
        ack([]);
        if (!this.rds) { this.rds = true; this.send({ type_url: ROUTE, resource_names: [this.spec.route] }); }
        break;
      case ROUTE:
        this.checkRoute(r.resources.map((a) => a.value));
        ack([this.spec.route]);
        break;
    }
    this.noteAck(r.type_url);
  }

  private onDelta(r: DeltaRes): void {
    const ack = () => this.send({ type_url: r.type_url, response_nonce: r.nonce });
    switch (r.type_url) {
      case CLUSTER: {
        ack();
        const added = r.resources.map((x) => x.name).filter((n) => !this.eds.has(n));
        const gone = r.removed_resources.filter((n) => this.eds.has(n));
        for (const n of added) this.eds.add(n);
        for (const n of gone) this.eds.delete(n);
        if (added.length + gone.length > 0) this.send({ type_url: ENDPOINT, resource_names_subscribe: added, resource_names_unsubscribe: gone });
        break;
      }
      case LISTENER:
        ack();
        if (!this.rds) { this.rds = true; this.send({ type_url: ROUTE, resource_names_subscribe: [this.spec.route] }); }
        break;
      case ROUTE:
        this.checkRoute(r.resources.map((x) => x.resource?.value ?? Buffer.alloc(0)));
        ack();
        break;
      default: ack();
    }
    this.noteAck(r.type_url);
  }

  close(): void {
    this.stream?.cancel();
  }
}

const proxies: Proxy[] = [];
const clients: grpc.Client[] = [];
let marker: string | undefined;
const Ads = loadDiscoveryService(ADS);

async function connect(specs: ProxySpec[], perConnection: number, timeoutMs: number): Promise<void> {
  const t0 = performance.now();
  const byPort = new Map<number, ProxySpec[]>();
  for (const s of specs) byPort.set(s.port, [...(byPort.get(s.port) ?? []), s]);
  let pending = specs.length;
  let wake: (() => void) | undefined;
  const batch: Proxy[] = [];
  for (const [port, list] of byPort) {
    for (let i = 0; i < list.length; i += perConnection) {
      // A local subchannel pool per client: its own HTTP/2 connection, as separate Envoys would have.
      const client = new Ads(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), {
        'grpc.use_local_subchannel_pool': 1, 'grpc.max_receive_message_length': 64 * 1024 * 1024,
      }) as unknown as grpc.Client & Record<string, () => grpc.ClientDuplexStream<unknown, unknown>>;
      clients.push(client);
      for (const spec of list.slice(i, i + perConnection)) {
        const p = new Proxy(spec, client, () => { pending -= 1; if (pending === 0) wake?.(); }, () => marker);
        batch.push(p);
        proxies.push(p);
      }
    }
  }
  // Start in slices so the connect storm stays bounded; each slice waits for the event loop.
  for (let i = 0; i < batch.length; i += 250) {
    for (const p of batch.slice(i, i + 250)) p.start();
    await new Promise((r) => setImmediate(r));
  }
  if (pending > 0) await new Promise<void>((resolve) => { wake = resolve; setTimeout(resolve, timeoutMs).unref(); });
  const ready = batch.filter((p) => p.ready).length;
  process.send!({ op: 'ready', ready, failed: batch.filter((p) => p.failed).length, ms: performance.now() - t0 });
}

async function collect(timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && proxies.some((p) => p.ackedAt === undefined && !p.failed)) await new Promise((r) => setTimeout(r, 20));
  const times = proxies.filter((p) => p.ackedAt !== undefined).map((p) => p.ackedAt!);
  process.send!({ op: 'acks', times, missing: proxies.length - times.length });
  marker = undefined;
  for (const p of proxies) p.ackedAt = undefined;
}

process.on('message', (m: Msg) => {
  switch (m.op) {
    case 'connect': void connect(m.proxies, m.perConnection, m.timeoutMs); break;
    case 'expect': marker = m.marker; break;
    case 'collect': void collect(m.timeoutMs); break;
    case 'close':
      for (const p of proxies) p.close();
      for (const c of clients) c.close();
      process.send!({ op: 'closed' }, undefined, undefined, () => process.exit(0));
      break;
  }
});
// The parent going away (crash, Ctrl-C) must not leave proxies behind.
process.on('disconnect', () => process.exit(0));
