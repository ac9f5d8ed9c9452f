// Who may do what on NATS: one user per service (per service and cluster for the edge services, so a
// member cluster cannot write another's resources, endpoints or leases), allowed exactly what its
// code does and nothing else (nats-server denies whatever a user's allow lists leave out). This
// table is the one source of truth: nats-server's `authorization` block is rendered from it
// (`natsAuthorization`, in deploy/base/backing/nats.yaml, which test/deploy/manifests.test.ts
// checks; `gantry nats-authorization` for a multi-cluster install), each service's `ensureStreams`
// reads from it which streams it creates and which it may reconfigure, and
// test/eventlog/permissions.test.ts runs the services' real operations as their users against a
// real nats-server configured with it.
//
// What nats.js 2.x sends for each operation, against nats-server 2.9:
// - every JetStream client checks the account first: `$JS.API.INFO`;
// - replies (JetStream API answers, publish acks, pulled messages) come to the connection's inbox,
//   `_INBOX.<user>.>` (connectEventLog sets that prefix), so no user reads another's replies;
// - a stream: `$JS.API.STREAM.INFO.<stream>`, `.CREATE.<stream>` (ensureStreams, when missing);
//   `.UPDATE.<stream>` for its owner only (ensureStreams, when this version's configuration differs);
// - an ordered consumer (followStream): created by `$JS.API.CONSUMER.CREATE.<stream>.<name>.<filter>`,
//   which nats-server refuses unless the filter equals the consumer's, so a user may read only the
//   filters granted here; then pulls `CONSUMER.MSG.NEXT`, and `CONSUMER.INFO` / `CONSUMER.DELETE`
//   when it resets (names are random: another user's consumers cannot be found, nor listed);
// - a leader lease (libs/lease): the bucket's stream (info, create, update: the writers open the
//   bucket and may lengthen its TTL), its own key `$KV.gantry-leases.<service>.<cluster>` (any
//   cluster's for the cluster-wide services; create, update, delete are publishes) and reads of it
//   by direct get, whose subject names the key.
import { ANY_CLUSTER, clusterToken, STREAMS, subjects, type Cluster, type StreamName } from '../contracts/index.ts';
import { LEASE_BUCKET } from '../lease/index.ts';
import { PROVISIONING_INPUT_KINDS } from '../provisioning/parameters.ts';
import { SERVICES, type ServiceName } from '../service/index.ts';
import { inboxPrefix, type StreamUse } from './index.ts';

interface StreamAccess {
  stream: StreamName;
  /** Subjects (patterns) it publishes events on. */
  publish?: string[];
  /** The filters (patterns) of its ordered consumers. */
  follow?: string[];
  /** Reconfigures the stream (ensureStreams); every user of a stream may create it when missing. */
  owner?: true;
}

interface ServiceAccess {
  streams: StreamAccess[];
  /** Core NATS subscriptions (no consumer). */
  subscribe?: string[];
  /** Campaigns for the lease `<service>.<cluster>` (libs/lease). */
  lease: boolean;
  /** Fans in every cluster: one user for the install, granted `*` for the cluster; else one user per cluster. */
  clusterWide?: true;
}

const whole = (stream: StreamName) => [...STREAMS[stream].subjects];

/**
 * Each service's grants as the user of `cluster` (`ANY_CLUSTER` for the cluster-wide services).
 * Each row names the code whose calls it allows.
 */
export const SERVICE_ACCESS: Record<ServiceName, (cluster: Cluster) => ServiceAccess> = {
  // services/watcher (watcher.ts, kube-source.ts): replays its cluster's RESOURCES, publishes the difference.
  watcher: (cluster) => ({
    lease: true,
    streams: [{ stream: 'RESOURCES', owner: true, publish: [subjects.resourcesOfCluster(cluster)], follow: [subjects.resourcesOfCluster(cluster)] }],
  }),
  // services/endpoint-discovery: ENDPOINTS (discovery.ts, kube-source.ts), and in file mode the
  // discovered Upstreams on RESOURCES, a subject space shared with the watcher (file-upstreams.ts).
  'endpoint-discovery': (cluster) => ({
    lease: true,
    streams: [
      { stream: 'ENDPOINTS', owner: true, publish: [subjects.endpointsOfCluster(cluster)], follow: [subjects.endpointsOfCluster(cluster)] },
      { stream: 'RESOURCES', publish: [subjects.resourcesOfKind(cluster, 'Upstream')], follow: [subjects.resourcesOfKind(cluster, 'Upstream')] },
    ],
  }),
  // services/translator: follows RESOURCES and ENDPOINTS (main.ts); replays what REPORTS holds on
  // taking the lease and publishes reports and snapshot events (publisher.ts).
  translator: () => ({
    clusterWide: true,
    lease: true,
    streams: [
      { stream: 'RESOURCES', follow: whole('RESOURCES') },
      { stream: 'ENDPOINTS', follow: whole('ENDPOINTS') },
      { stream: 'REPORTS', owner: true, publish: whole('REPORTS'), follow: whole('REPORTS') },
      { stream: 'SNAPSHOTS', owner: true, publish: whole('SNAPSHOTS') },
    ],
  }),
  // services/reporter: its cluster's REPORTS and every PROXIES event (reporter.ts, kube-reporter.ts);
  // provisioning (provisioner.ts) reads only the kinds it needs from RESOURCES: no Secrets. It
  // publishes no event.
  reporter: (cluster) => ({
    lease: true,
    streams: [
      { stream: 'REPORTS', follow: [subjects.reportsOfCluster(cluster)] },
      { stream: 'PROXIES', follow: whole('PROXIES') },
      { stream: 'RESOURCES', follow: PROVISIONING_INPUT_KINDS.map((kind) => subjects.resourcesOfKind(cluster, kind)) },
    ],
  }),
  // services/xds-server: snapshot events are a nudge, a core subscription (snapshot-cache.ts); proxy
  // events are core publishes the PROXIES stream stores (service.ts). No lease: replicas all serve.
  'xds-server': () => ({
    clusterWide: true,
    lease: false,
    subscribe: whole('SNAPSHOTS'),
    streams: [{ stream: 'PROXIES', owner: true, publish: whole('PROXIES') }],
  }),
};

/** The streams `service` uses, for its ensureStreams: each created when missing, reconfigured by its owner. */
export function streamUses(service: ServiceName): StreamUse[] {
  return SERVICE_ACCESS[service](ANY_CLUSTER).streams.map((a) => ({ spec: STREAMS[a.stream], owner: a.owner === true }));
}

/**
 * The clusters of an install, the main one (running NATS, the translator and the xds-server) first.
 * Each is a GANTRY_CLUSTER value, a DNS label.
 */
export type Clusters = readonly [main: string, ...members: string[]];

export interface NatsUser {
  /** `<service>` for the cluster-wide services and the main cluster's, `<service>.<cluster>` for a member's. */
  name: string;
  service: ServiceName;
  cluster: Cluster;
}

/**
 * The user `service` connects as from `cluster`. The main cluster's keep the service's name, so a
 * single-cluster install has one user per service; a member's name its cluster, as its lease key
 * does (a `.` needs no escaping in a URL's user nor a Secret's key, unlike `@`).
 */
export function natsUser(service: ServiceName, cluster: string, clusters: Clusters): NatsUser {
  if (SERVICE_ACCESS[service](ANY_CLUSTER).clusterWide) return { name: service, service, cluster: ANY_CLUSTER };
  return { name: cluster === clusters[0] ? service : `${service}.${cluster}`, service, cluster };
}

/** Every user of the install: the cluster-wide services' once (every cluster names the same), the others' per cluster. */
export function natsUsers(clusters: Clusters): NatsUser[] {
  const names = new Map<string, NatsUser>();
  for (const service of SERVICES) {
    for (const cluster of clusters) {
      const user = natsUser(service, cluster, clusters);
      names.set(user.name, user);
    }
  }
  return [...names.values()];
}

export interface NatsPermissions {
  publish: string[];
  subscribe: string[];
}

const API = '$JS.API';
/** nats.js keeps a KV bucket in the stream `KV_<bucket>`, its keys on `$KV.<bucket>.<key>`. */
const LEASE_STREAM = `KV_${LEASE_BUCKET}`;

/** What `user` may publish and subscribe to. */
export function natsPermissions(user: NatsUser): NatsPermissions {
  const access = SERVICE_ACCESS[user.service](user.cluster);
  const publish = new Set<string>([`${API}.INFO`]);
  for (const a of access.streams) {
    publish.add(`${API}.STREAM.INFO.${a.stream}`).add(`${API}.STREAM.CREATE.${a.stream}`);
    if (a.owner) publish.add(`${API}.STREAM.UPDATE.${a.stream}`);
    for (const subject of a.publish ?? []) publish.add(subject);
    if (!a.follow) continue;
    for (const filter of a.follow) publish.add(`${API}.CONSUMER.CREATE.${a.stream}.*.${filter}`);
    for (const op of ['MSG.NEXT', 'INFO', 'DELETE']) publish.add(`${API}.CONSUMER.${op}.${a.stream}.*`);
  }
  if (access.lease) {
    const key = `$KV.${LEASE_BUCKET}.${user.service}.${clusterToken(user.cluster)}`;
    for (const op of ['INFO', 'CREATE', 'UPDATE']) publish.add(`${API}.STREAM.${op}.${LEASE_STREAM}`);
    publish.add(key).add(`${API}.DIRECT.GET.${LEASE_STREAM}.${key}`);
  }
  return { publish: [...publish], subscribe: [`${inboxPrefix(user.name)}.>`, ...(access.subscribe ?? [])] };
}

/** The environment variable nats-server reads `user`'s password from (the NATS StatefulSet sets it from the Secret). */
export const passwordVariable = (user: string) => `NATS_PASSWORD_${user.toUpperCase().replace(/[-.]/g, '_')}`;

/**
 * nats-server's `authorization` block (2.9 syntax): the users of `clusters`' services, each password
 * an environment variable (a value nats-server parses as its config's own syntax: a word starting
 * with a letter, no spaces), every subject quoted (an unquoted `$` would be a variable reference).
 */
export function natsAuthorization(clusters: Clusters): string {
  const list = (items: string[], indent: string) => `[\n${items.map((s) => `${indent}  ${JSON.stringify(s)}`).join('\n')}\n${indent}]`;
  const users = natsUsers(clusters).map((user) => {
    const { publish, subscribe } = natsPermissions(user);
    return [
      '    {',
      `      user: ${JSON.stringify(user.name)}`,
      `      password: $${passwordVariable(user.name)}`,
      '      permissions: {',
      `        publish: { allow: ${list(publish, '        ')} }`,
      `        subscribe: { allow: ${list(subscribe, '        ')} }`,
      '      }',
      '    }',
    ].join('\n');
  });
  return `authorization {\n  users: [\n${users.join('\n')}\n  ]\n}\n`;
}
