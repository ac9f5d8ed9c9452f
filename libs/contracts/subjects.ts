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

export const subjects = {
  resource: (r: ObjectRef) => `gantry.res.${encodeToken(r.cluster)}.${encodeToken(r.kind)}.${encodeToken(r.namespace)}.${encodeToken(r.name)}`,
  resourcesOfCluster: (cluster: string) => `gantry.res.${encodeToken(cluster)}.>`,
  resourcesOfKind: (cluster: string, kind: string) => `gantry.res.${encodeToken(cluster)}.${encodeToken(kind)}.>`,
  endpoints: (cluster: string, namespace: string, service: string) =>
    `gantry.ep.${encodeToken(cluster)}.${encodeToken(namespace)}.${encodeToken(service)}`,
  endpointsOfCluster: (cluster: string) => `gantry.ep.${encodeToken(cluster)}.>`,
  report: (r: ObjectRef) => `gantry.rep.${encodeToken(r.cluster)}.${encodeToken(r.kind)}.${encodeToken(r.namespace)}.${encodeToken(r.name)}`,
  reportsOfCluster: (cluster: string) => `gantry.rep.${encodeToken(cluster)}.>`,
  snapshot: (gateway: string) => `gantry.snap.${encodeToken(gateway)}`,
  proxy: (gateway: string, node: string) => `gantry.proxy.${encodeToken(gateway)}.${encodeToken(node)}`,
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
