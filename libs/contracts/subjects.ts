// NATS subjects and streams of the event log. Kubernetes names may hold dots (NATS separators),
// so every variable token is encoded; `_` stands for the empty namespace of cluster-scoped objects
// (Kubernetes names never contain `_`).

export function encodeToken(value: string): string {
  if (value === '') return '_';
  return encodeURIComponent(value).replace(/\./g, '%2E').replace(/\*/g, '%2A').replace(/>/g, '%3E');
}

export function decodeToken(token: string): string {
  return token === '_' ? '' : decodeURIComponent(token);
}

export interface ObjectRef {
  cluster: string;
  kind: string;
  namespace: string;
  name: string;
}

/** Every cluster, in a subject pattern (NATS permissions, libs/eventlog/permissions.ts): the `*` wildcard. */
export const ANY_CLUSTER = Symbol('any cluster');
export type Cluster = string | typeof ANY_CLUSTER;
export const clusterToken = (cluster: Cluster) => (cluster === ANY_CLUSTER ? '*' : encodeToken(cluster));

export const subjects = {
  resource: (r: ObjectRef) => `gantry.res.${encodeToken(r.cluster)}.${encodeToken(r.kind)}.${encodeToken(r.namespace)}.${encodeToken(r.name)}`,
  resourcesOfCluster: (cluster: Cluster) => `gantry.res.${clusterToken(cluster)}.>`,
  resourcesOfKind: (cluster: Cluster, kind: string) => `gantry.res.${clusterToken(cluster)}.${encodeToken(kind)}.>`,
  endpoints: (cluster: string, namespace: string, service: string) =>
    `gantry.ep.${encodeToken(cluster)}.${encodeToken(namespace)}.${encodeToken(service)}`,
  endpointsOfCluster: (cluster: Cluster) => `gantry.ep.${clusterToken(cluster)}.>`,
  report: (r: ObjectRef) => `gantry.rep.${encodeToken(r.cluster)}.${encodeToken(r.kind)}.${encodeToken(r.namespace)}.${encodeToken(r.name)}`,
  reportsOfCluster: (cluster: Cluster) => `gantry.rep.${clusterToken(cluster)}.>`,
  /** Every object's report, not the term markers sharing the stream. */
  allReports: 'gantry.rep.*.*.*.*',
  snapshot: (gateway: string) => `gantry.snap.${encodeToken(gateway)}`,
  proxy: (gateway: string, node: string) => `gantry.proxy.${encodeToken(gateway)}.${encodeToken(node)}`,
  /**
   * A lease term's marker (`gantry.term/v1`) on a stream its holder alone writes: `_term` is no
   * cluster (a DNS label) nor an encoded gateway (always holding `%2F`), so no object filter sees it.
   */
  term: (stream: StreamSpec) => `${stream.subjects[0]!.slice(0, -1)}_term`,
} as const;

export interface StreamSpec {
  name: string;
  subjects: string[];
  /** Per-subject history kept: the latest is the state, the rest is for audit and debugging. */
  maxPerSubject: number;
}

export const STREAMS = {
  RESOURCES: { name: 'RESOURCES', subjects: ['gantry.res.>'], maxPerSubject: 4 },
  ENDPOINTS: { name: 'ENDPOINTS', subjects: ['gantry.ep.>'], maxPerSubject: 4 },
  REPORTS: { name: 'REPORTS', subjects: ['gantry.rep.>'], maxPerSubject: 4 },
  SNAPSHOTS: { name: 'SNAPSHOTS', subjects: ['gantry.snap.>'], maxPerSubject: 4 },
  PROXIES: { name: 'PROXIES', subjects: ['gantry.proxy.>'], maxPerSubject: 8 },
} as const satisfies Record<string, StreamSpec>;

export type StreamName = keyof typeof STREAMS;
