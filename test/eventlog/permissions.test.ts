// NATS users with least privilege, on a real nats-server configured as deployed (the authorization
// block rendered from libs/eventlog/permissions.ts, passwords from its environment). Each service's
// user performs the operations its code performs, through the same functions (ensureStreams,
// followStream, publishEvent, publishIfChanged, startLease, the Kubernetes-mode provisioner), and
// they succeed without any refusal; then the properties that matter are checked as refusals by
// nats-server: who may publish what, who may read what (Secrets: the watcher and the translator
// only), nobody reads another's replies, deletes or purges a stream, or touches another's lease, and
// a member cluster's edge users act on their cluster's subjects and lease keys only.
// test/e2e/pipeline-users.test.ts runs the five services as processes with these users.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { AckPolicy, DeliverPolicy } from 'nats';
import pino from 'pino';
import type { z } from 'zod';
import {
  PROXY_SCHEMA, ProxyEventSchema, REPORT_SCHEMA, ReportEventSchema, ResourceEventSchema, SNAPSHOT_SCHEMA, SnapshotEventSchema,
  EndpointsEventSchema, STREAMS, decodeEnvelope, subjects, type StreamName, type StreamSpec,
} from '../../libs/contracts/index.ts';
import { serviceEndpointsEvent } from '../../libs/endpoints/index.ts';
import { connectEventLog, ensureStreams, followStream, publishEvent, publishEventNoAck, type EventLog } from '../../libs/eventlog/index.ts';
import { natsUser, streamUses, type Clusters } from '../../libs/eventlog/permissions.ts';
import { aborted, LEASE_BUCKET, startLease, type Lease } from '../../libs/lease/index.ts';
import { resourceUpsert } from '../../libs/manifests/resources.ts';
import { publishIfChanged, readLogState } from '../../libs/manifests/sync.ts';
import { PROVISIONING_INPUT_KINDS } from '../../libs/provisioning/parameters.ts';
import { SERVICES, type ServiceName } from '../../libs/service/index.ts';
import { startKubeReporter } from '../../services/reporter/kube-reporter.ts';
import { startTestCluster } from '../kube/cluster.ts';
import { until } from '../support/service-process.ts';
import { startNatsWithUsers, type NatsWithUsers } from '../support/servers.ts';

const CLUSTER = 'main';
const MEMBER = 'member-1';
/** A member with no connection here: the one whose subjects and keys MEMBER's users must not touch. */
const OTHER_MEMBER = 'member-2';
const CLUSTERS: Clusters = [CLUSTER, MEMBER, OTHER_MEMBER];
const EDGE = ['watcher', 'endpoint-discovery', 'reporter'] as const;
type EdgeService = (typeof EDGE)[number];
const GW = 'gateway.networking.k8s.io/v1';
const now = () => new Date().toISOString();

/** Log lines of every connection (warn and up), each tagged with its service. */
const lines: string[] = [];
const logOf = (service: string) => pino({ level: 'warn', base: { service } }, { write: (line: string) => void lines.push(line) });
const refusals = () => lines.filter((l) => l.includes('NATS refused'));
/**
 * `p`, failing as soon as a connection logs a refusal: a follower whose consumer is refused is
 * retried by nats.js and would otherwise only hang.
 */
async function unrefused<T>(p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const refusal = new Promise<never>((_, reject) => {
    const check = () => (refusals().length ? reject(new Error(`refused: ${refusals().join('\n')}`)) : (timer = setTimeout(check, 50)));
    check();
  });
  try {
    return await Promise.race([p, refusal]);
  } finally {
    clearTimeout(timer);
  }
}

const connections: EventLog[] = [];
async function connectAs(nats: NatsWithUsers, service: ServiceName, cluster = CLUSTER): Promise<EventLog> {
  const log = await connectEventLog(nats.urlOf(service, cluster), `test ${service}`, logOf(natsUser(service, cluster, CLUSTERS).name));
  connections.push(log);
  return log;
}

const isRefused = (err: unknown) => /Permissions Violation/.test(String((err as Error)?.message ?? err));
async function refused(what: string, op: () => Promise<unknown>): Promise<void> {
  await assert.rejects(op, (err) => isRefused(err), `${what}: refused`);
}

test('each service alone on an empty server creates the streams it uses', async () => {
  for (const service of SERVICES) {
    const nats = await startNatsWithUsers();
    try {
      const log = await connectAs(nats, service);
      await ensureStreams(log.jsm, streamUses(service), logOf(service));
      for (const { spec } of streamUses(service)) assert.equal((await log.jsm.streams.info(spec.name)).config.name, spec.name, `${service}: ${spec.name}`);
      await log.close();
    } finally {
      await nats.stop();
    }
  }
  assert.deepEqual(refusals(), []);
});

describe('on one server, as deployed', { timeout: 120_000 }, () => {
  let nats: NatsWithUsers;
  const as = {} as Record<ServiceName, EventLog>;
  /** MEMBER's edge services, connected as its users. */
  const member = {} as Record<EdgeService, EventLog>;
  before(async () => {
    nats = await startNatsWithUsers(CLUSTERS);
    for (const service of SERVICES) {
      as[service] = await connectAs(nats, service);
      await ensureStreams(as[service].jsm, streamUses(service), logOf(service));
    }
    for (const service of EDGE) member[service] = await connectAs(nats, service, MEMBER);
  });
  after(async () => {
    await Promise.all(connections.map((c) => c.close().catch(() => undefined)));
    await nats.stop();
  });

  /** Follows `filter` from the start, as `service` (main's user unless `log` says), until caught up; the events seen on the way. */
  async function replay<T>(service: ServiceName, stream: StreamSpec, filter: string, schema: z.ZodType<T>, log = as[service]): Promise<T[]> {
    const seen: T[] = [];
    const follower = await unrefused(followStream(log, { stream, filter, schema, log: logOf(service), onEvent: (e) => void seen.push(e) }));
    await unrefused(follower.caughtUp);
    await follower.stop();
    return seen;
  }

  /** Takes `service`'s lease for `cluster`, and releases it (the key is then a delete marker its owner reads). */
  async function leaseRoundTrip(service: ServiceName, ttlMs = 2000, cluster = CLUSTER, log = as[service]): Promise<void> {
    const lease: Lease = startLease({
      nc: log.nc, service, cluster, ttlMs, log: logOf(service),
      run: async (term) => { await aborted(term.signal); },
    });
    await until(`${service} leads`, () => lease.state === 'leader', 5000, 20);
    await lease.stop();
    const kv = await log.js.views.kv(LEASE_BUCKET);
    assert.equal((await kv.get(`${service}.${cluster}`))?.operation, 'DEL', `${service}: released`);
  }

  test('the watcher publishes its cluster\'s objects, replays them and leads', async () => {
    const state = await readLogState(as.watcher, {
      stream: STREAMS.RESOURCES, filter: subjects.resourcesOfCluster(CLUSTER), schema: ResourceEventSchema, logger: logOf('watcher'), digest: () => ({ deleted: false, digest: '' }),
    });
    for (const [kind, apiVersion, namespace, name] of [['GatewayClass', GW, '', 'gantry'], ['Gateway', GW, 'default', 'web'], ['Secret', 'v1', 'default', 'cert']]) {
      const object = { apiVersion, kind, metadata: { name, ...(namespace ? { namespace } : {}) }, spec: kind === 'GatewayClass' ? { controllerName: 'gantry.dev/gateway-controller' } : {} };
      await publishIfChanged(as.watcher, ResourceEventSchema, state, resourceUpsert(CLUSTER, object, { apiVersion, kind, namespace, name }, { type: 'kubernetes' }, now()));
    }
    const replayed = await replay('watcher', STREAMS.RESOURCES, subjects.resourcesOfCluster(CLUSTER), ResourceEventSchema);
    assert.deepEqual(replayed.map((e) => e.kind).sort(), ['Gateway', 'GatewayClass', 'Secret']);
    await leaseRoundTrip('watcher');
    assert.deepEqual(refusals(), []);
  });

  test('endpoint-discovery publishes endpoints and (conditionally) discovered Upstreams, replays both and leads', async () => {
    const service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'echo', namespace: 'default' }, spec: { ports: [{ name: 'grpc', port: 9000 }] } };
    const slice = {
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'echo-1', namespace: 'default', labels: { 'kubernetes.io/service-name': 'echo' } },
      addressType: 'IPv4', ports: [{ name: 'grpc', port: 9000 }], endpoints: [{ addresses: ['10.0.0.1'], conditions: { ready: true } }],
    };
    const endpoints = serviceEndpointsEvent(CLUSTER, service, [slice], now());
    await publishIfChanged(as['endpoint-discovery'], EndpointsEventSchema, new Map(), endpoints);
    const upstream = { apiVersion: 'gateway.gantry.dev/v1alpha1', kind: 'Upstream', metadata: { name: 'echo-9000', namespace: 'default' }, spec: { type: 'Kube', kube: { service: { name: 'echo', port: 9000 } } } };
    const discovered = { type: 'discovered', service: { namespace: 'default', name: 'echo' } } as const;
    const upstreams = await readLogState(as['endpoint-discovery'], {
      stream: STREAMS.RESOURCES, filter: subjects.resourcesOfKind(CLUSTER, 'Upstream'), schema: ResourceEventSchema, logger: logOf('endpoint-discovery'), digest: () => ({ deleted: false, digest: '' }),
    });
    await publishIfChanged(as['endpoint-discovery'], ResourceEventSchema, upstreams,
      resourceUpsert(CLUSTER, upstream, { apiVersion: upstream.apiVersion, kind: 'Upstream', namespace: 'default', name: 'echo-9000' }, discovered, now()), { ifLatestIsKnown: true });
    assert.equal((await replay('endpoint-discovery', STREAMS.ENDPOINTS, subjects.endpointsOfCluster(CLUSTER), EndpointsEventSchema)).length, 1);
    assert.equal((await replay('endpoint-discovery', STREAMS.RESOURCES, subjects.resourcesOfKind(CLUSTER, 'Upstream'), ResourceEventSchema)).length, 1);
    await leaseRoundTrip('endpoint-discovery');
    assert.deepEqual(refusals(), []);
  });

  test('the translator follows everything, publishes reports and snapshot events, replays REPORTS and leads; the xds-server hears the snapshot events', async () => {
    const resources = await replay('translator', STREAMS.RESOURCES, STREAMS.RESOURCES.subjects[0], ResourceEventSchema);
    assert.ok(resources.some((e) => e.kind === 'Secret') && resources.some((e) => e.kind === 'Upstream'), 'every kind of every writer');
    assert.equal((await replay('translator', STREAMS.ENDPOINTS, STREAMS.ENDPOINTS.subjects[0], EndpointsEventSchema)).length, 1);

    const nudges = as['xds-server'].nc.subscribe(STREAMS.SNAPSHOTS.subjects[0], { max: 1 }); // snapshot-cache.ts
    await as['xds-server'].nc.flush();
    for (const name of ['gantry', 'web']) {
      const ref = { cluster: CLUSTER, kind: name === 'gantry' ? 'GatewayClass' : 'Gateway', namespace: name === 'gantry' ? '' : 'default', name };
      await publishEvent(as.translator.js, ReportEventSchema, subjects.report(ref), {
        schema: REPORT_SCHEMA, ...ref, apiVersion: GW, generation: 1, op: 'upsert', status: { conditions: [] }, snapshots: {}, emittedAt: now(),
      }, `report-${name}`);
    }
    await publishEvent(as.translator.js, SnapshotEventSchema, subjects.snapshot('default/web'), {
      schema: SNAPSHOT_SCHEMA, gateway: 'default/web', op: 'upsert', version: 'v1', manifestKey: 'k', streams: {}, emittedAt: now(),
    }, 'snapshot-v1');
    for await (const m of nudges) {
      assert.equal(m.subject, subjects.snapshot('default/web'));
      assert.ok(decodeEnvelope(SnapshotEventSchema, m.data).ok);
    }
    assert.equal((await replay('translator', STREAMS.REPORTS, STREAMS.REPORTS.subjects[0], ReportEventSchema)).length, 2);
    await leaseRoundTrip('translator');
    assert.deepEqual(refusals(), []);
  });

  test('the reporter follows its cluster\'s reports and the proxies\' events, which the xds-server publishes, and leads', async () => {
    const proxies: string[] = [];
    const follower = await followStream(as.reporter, {
      stream: STREAMS.PROXIES, schema: ProxyEventSchema, log: logOf('reporter'), from: 'new', onEvent: (e) => void proxies.push(e.node),
    });
    publishEventNoAck(as['xds-server'].nc, ProxyEventSchema, subjects.proxy('default/web', 'envoy-1'), { // service.ts reportProxyEvent
      schema: PROXY_SCHEMA, gateway: 'default/web', node: 'envoy-1', event: 'ack', version: 'v1', replica: 'r1', emittedAt: now(),
    }, 'proxy-1');
    await until('the proxy event', () => proxies.includes('envoy-1'), 5000, 20);
    await follower.stop();
    assert.equal((await replay('reporter', STREAMS.REPORTS, subjects.reportsOfCluster(CLUSTER), ReportEventSchema)).length, 2);
    // A longer TTL than the bucket's lengthens the bucket (its stream is updated): every writer may.
    await leaseRoundTrip('reporter', 3000);
    assert.equal((await (await as.reporter.js.views.kv(LEASE_BUCKET)).status()).ttl, 3000);
    assert.deepEqual(refusals(), []);
  });

  test('the Kubernetes-mode reporter provisions a Gateway, following only the kinds provisioning reads', async () => {
    const { api, kc } = await startTestCluster();
    try {
      api.create({ apiVersion: GW, kind: 'GatewayClass', metadata: { name: 'gantry' }, spec: { controllerName: 'gantry.dev/gateway-controller' } });
      api.create({ apiVersion: GW, kind: 'Gateway', metadata: { name: 'web', namespace: 'default' }, spec: { gatewayClassName: 'gantry', listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }] } });
      // The watcher publishes what the API server holds (uid and all: the proxy objects are owned by the Gateway).
      for (const [kind, namespace, name] of [['GatewayClass', '', 'gantry'], ['Gateway', 'default', 'web']] as const) {
        const o = api.get(kind, namespace, name)!;
        await publishIfChanged(as.watcher, ResourceEventSchema, new Map(), resourceUpsert(CLUSTER, o, { apiVersion: GW, kind, namespace, name }, { type: 'kubernetes' }, now()));
      }
      const reporter = await unrefused(startKubeReporter({
        eventLog: as.reporter, cluster: CLUSTER, kc, log: logOf('reporter'), controllerName: 'gantry.dev/gateway-controller',
        provisioning: { xds: { address: 'gantry-xds', port: 18000 }, envoyImage: 'envoy:test', debounceMs: 10 },
      }));
      try {
        await unrefused(until('the proxy Deployment', () => api.get('Deployment', 'default', 'web-gantry'), 15_000));
      } finally {
        await reporter.stop();
      }
    } finally {
      await api.stop();
    }
    assert.deepEqual(refusals(), []);
  });

  test('a member\'s watcher publishes and replays its cluster\'s objects and leads; the translator follows them', async () => {
    const filter = subjects.resourcesOfCluster(MEMBER);
    const state = await readLogState(member.watcher, {
      stream: STREAMS.RESOURCES, filter, schema: ResourceEventSchema, logger: logOf('watcher'), digest: () => ({ deleted: false, digest: '' }),
    });
    const object = { apiVersion: GW, kind: 'Gateway', metadata: { name: 'edge', namespace: 'default' }, spec: {} };
    await publishIfChanged(member.watcher, ResourceEventSchema, state,
      resourceUpsert(MEMBER, object, { apiVersion: GW, kind: 'Gateway', namespace: 'default', name: 'edge' }, { type: 'kubernetes' }, now()));
    assert.deepEqual((await replay('watcher', STREAMS.RESOURCES, filter, ResourceEventSchema, member.watcher)).map((e) => e.name), ['edge']);
    assert.ok((await replay('translator', STREAMS.RESOURCES, STREAMS.RESOURCES.subjects[0], ResourceEventSchema)).some((e) => e.cluster === MEMBER));
    await leaseRoundTrip('watcher', 2000, MEMBER, member.watcher);
    assert.deepEqual(refusals(), []);
  });

  // --- what each user may not do ------------------------------------------------------------------

  const ref = (kind: string, cluster = CLUSTER) => ({ cluster, kind, namespace: 'default', name: 'x' });
  const PUBLISHERS: Array<[string, string, ServiceName[]]> = [
    ['a Gateway', subjects.resource(ref('Gateway')), ['watcher']],
    ['a Secret', subjects.resource(ref('Secret')), ['watcher']],
    ['an Upstream', subjects.resource(ref('Upstream')), ['watcher', 'endpoint-discovery']],
    ['endpoints', subjects.endpoints(CLUSTER, 'default', 'x'), ['endpoint-discovery']],
    ['a report', subjects.report(ref('HTTPRoute')), ['translator']],
    ['a snapshot event', subjects.snapshot('default/x'), ['translator']],
    ['a proxy event', subjects.proxy('default/x', 'n'), ['xds-server']],
  ];
  test('who may publish what: each subject space has its writers and no one else (the reporter publishes nothing)', async () => {
    for (const [what, subject, writers] of PUBLISHERS) {
      for (const service of SERVICES) {
        const publish = () => as[service].js.publish(subject, 'x');
        if (writers.includes(service)) await publish();
        else await refused(`${service} publishing ${what}`, publish);
      }
    }
  });

  const READERS: Array<[string, StreamName, string, ServiceName[]]> = [
    ['every resource', 'RESOURCES', STREAMS.RESOURCES.subjects[0], ['translator']],
    ['a cluster\'s resources', 'RESOURCES', subjects.resourcesOfCluster(CLUSTER), ['watcher', 'translator']],
    ['Secrets', 'RESOURCES', subjects.resourcesOfKind(CLUSTER, 'Secret'), ['watcher', 'translator']],
    ...PROVISIONING_INPUT_KINDS.map((kind): [string, StreamName, string, ServiceName[]] => [`${kind}s`, 'RESOURCES', subjects.resourcesOfKind(CLUSTER, kind), ['watcher', 'translator', 'reporter']]),
    ['Upstreams', 'RESOURCES', subjects.resourcesOfKind(CLUSTER, 'Upstream'), ['watcher', 'endpoint-discovery', 'translator']],
    ['endpoints', 'ENDPOINTS', subjects.endpointsOfCluster(CLUSTER), ['endpoint-discovery', 'translator']],
    ['reports', 'REPORTS', subjects.reportsOfCluster(CLUSTER), ['translator', 'reporter']],
    ['snapshot events', 'SNAPSHOTS', STREAMS.SNAPSHOTS.subjects[0], []],
    ['proxy events', 'PROXIES', STREAMS.PROXIES.subjects[0], ['reporter']],
  ];
  test('who may read what: a consumer only on the filters granted (Secrets: the watcher and the translator), no message read by get', async () => {
    for (const [what, stream, filter, readers] of READERS) {
      for (const service of SERVICES) {
        const name = `c${randomBytes(6).toString('hex')}`;
        const create = () => as[service].jsm.consumers.add(stream, { name, filter_subject: filter, ack_policy: AckPolicy.None, deliver_policy: DeliverPolicy.LastPerSubject });
        if (readers.includes(service)) await as[service].jsm.consumers.delete(stream, (await create()).name);
        else await refused(`${service} reading ${what}`, create);
      }
    }
    for (const service of SERVICES) {
      await refused(`${service} getting a message`, () => as[service].jsm.streams.getMessage('RESOURCES', { last_by_subj: subjects.resource(ref('Secret')) }));
      await refused(`${service} getting a message directly`, () => as[service].nc.request(`$JS.API.DIRECT.GET.RESOURCES.${subjects.resource(ref('Secret'))}`));
      // The other ways to create a consumer (no filter in the subject; the legacy ephemeral form).
      await refused(`${service}: a consumer without its filter in the subject`, () => as[service].nc.request(`$JS.API.CONSUMER.CREATE.RESOURCES.${service}`));
      await refused(`${service}: a legacy consumer`, () => as[service].nc.request('$JS.API.CONSUMER.CREATE.RESOURCES'));
    }
    // The filter in the subject is what the permission sees, and nats-server holds the consumer to it.
    const mismatch = await as.reporter.nc.request(`$JS.API.CONSUMER.CREATE.RESOURCES.sneaky.${subjects.resourcesOfKind(CLUSTER, 'Gateway')}`,
      JSON.stringify({ stream_name: 'RESOURCES', config: { name: 'sneaky', filter_subject: subjects.resourcesOfKind(CLUSTER, 'Secret'), ack_policy: 'none' } }));
    assert.match(mismatch.string(), /did not match filtered subject/);
  });

  test('no one reads another\'s replies or the live subjects, manages streams or touches another\'s lease', async () => {
    for (const service of SERVICES) {
      const nc = as[service].nc;
      for (const subject of ['_INBOX.>', `_INBOX.${service === 'watcher' ? 'translator' : 'watcher'}.>`, 'gantry.>', STREAMS.RESOURCES.subjects[0], '$KV.>']) {
        const sub = nc.subscribe(subject);
        await nc.flush(); // the server has answered the SUB (with its -ERR) before this PONG
        assert.ok(sub.isClosed(), `${service} subscribing to ${subject}: refused`);
      }
      await refused(`${service} deleting a stream`, () => as[service].jsm.streams.delete('RESOURCES'));
      await refused(`${service} purging a stream`, () => as[service].jsm.streams.purge('PROXIES'));
      await refused(`${service} listing streams`, () => as[service].jsm.streams.names().next());
      await refused(`${service} deleting the lease bucket`, () => as[service].jsm.streams.delete(`KV_${LEASE_BUCKET}`));
    }
    // Only the owner reconfigures a stream; the others leave it as it is and say so.
    const wider = { spec: { ...STREAMS.REPORTS, maxPerSubject: 6 }, owner: true };
    await refused('the reporter reconfiguring REPORTS', () => ensureStreams(as.reporter.jsm, [wider]));
    await ensureStreams(as.reporter.jsm, [{ ...wider, owner: false }], logOf('reporter'));
    assert.ok(lines.some((l) => l.includes('"service":"reporter"') && l.includes('its owner reconfigures it')));
    await ensureStreams(as.translator.jsm, [wider]);
    assert.equal((await as.translator.jsm.streams.info('REPORTS')).config.max_msgs_per_subject, 6);
    await ensureStreams(as.translator.jsm, streamUses('translator'));
    await refused('the watcher creating the translator\'s stream', () => as.watcher.jsm.streams.add({ name: 'SNAPSHOTS', subjects: ['gantry.snap.>'] }));
    // Leases: each writer its own key; the xds-server none.
    const kv = await as.watcher.js.views.kv(LEASE_BUCKET);
    await refused('the watcher taking the translator\'s lease', () => kv.create(`translator.${CLUSTER}`, 'x'));
    await refused('the watcher reading the translator\'s lease', () => kv.get(`translator.${CLUSTER}`));
    await refused('the xds-server opening the lease bucket', () => as['xds-server'].js.views.kv(LEASE_BUCKET));
  });

  // --- clusters: a member's edge users act for their cluster only ---------------------------------

  /** What each edge service does for one cluster: the subjects it publishes, the filters it reads. */
  const PER_CLUSTER: Record<EdgeService, { publish: (cluster: string) => string[]; read: (cluster: string) => Array<[StreamName, string]> }> = {
    watcher: {
      publish: (c) => [subjects.resource(ref('Gateway', c)), subjects.resource(ref('Secret', c))],
      read: (c) => [['RESOURCES', subjects.resourcesOfCluster(c)]],
    },
    'endpoint-discovery': {
      publish: (c) => [subjects.endpoints(c, 'default', 'x'), subjects.resource(ref('Upstream', c))],
      read: (c) => [['ENDPOINTS', subjects.endpointsOfCluster(c)], ['RESOURCES', subjects.resourcesOfKind(c, 'Upstream')]],
    },
    reporter: {
      publish: () => [],
      read: (c) => [['REPORTS', subjects.reportsOfCluster(c)], ...PROVISIONING_INPUT_KINDS.map((kind): [StreamName, string] => ['RESOURCES', subjects.resourcesOfKind(c, kind)])],
    },
  };
  test('each edge user publishes, reads and leases its own cluster\'s subjects and keys, and no other cluster\'s', async () => {
    for (const service of EDGE) {
      for (const [cluster, log] of [[CLUSTER, as[service]], [MEMBER, member[service]]] as const) {
        const kv = await log.js.views.kv(LEASE_BUCKET);
        for (const target of CLUSTERS) {
          const who = `${natsUser(service, cluster, CLUSTERS).name} on ${target}'s`;
          const own = target === cluster;
          for (const subject of PER_CLUSTER[service].publish(target)) {
            const publish = () => log.js.publish(subject, 'x');
            if (own) await publish();
            else await refused(`${who} ${subject}`, publish);
          }
          for (const [stream, filter] of PER_CLUSTER[service].read(target)) {
            const create = () => log.jsm.consumers.add(stream, { name: `c${randomBytes(6).toString('hex')}`, filter_subject: filter, ack_policy: AckPolicy.None });
            if (own) await log.jsm.consumers.delete(stream, (await create()).name);
            else await refused(`${who} ${filter}`, create);
          }
          if (!own) {
            await refused(`${who} lease`, () => kv.create(`${service}.${target}`, 'x'));
            await refused(`${who} lease, read`, () => kv.get(`${service}.${target}`));
          }
        }
      }
    }
    // Its own lease: taken and released.
    for (const service of EDGE) await leaseRoundTrip(service, 2000, MEMBER, member[service]);
  });
});
