// The rendered install, overlay by overlay (`kubectl kustomize`, no cluster needed): every object
// parses; RBAC is least privilege (every rule is needed by its service, every need is granted);
// probes point at the port the service listens on; every env var is one the service's zod config
// accepts, and the env parses. Creating the objects in test/kube/api-server.ts is not done here yet
// (it needs the CRD/RBAC/apps types registered there): see the note in docs/architecture.md.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import type { z } from 'zod';
import { KubeSourceConfig, SourceConfig } from '../../libs/kube/serve.ts';
import { ENDPOINT_KINDS } from '../../libs/kube/kinds.ts';
import { GANTRY_GROUP, WATCHED_KINDS } from '../../libs/manifests/resources.ts';
import { TranslatorConfig } from '../../services/translator/config.ts';
import { XdsServerConfig } from '../../services/xds-server/service.ts';

type Obj = Record<string, any>;
const OVERLAYS = ['deploy', 'deploy/overlays/single', 'deploy/overlays/ha', 'deploy/overlays/member', 'deploy/overlays/experimental'];
const rendered = new Map<string, Obj[]>();
function render(dir: string): Obj[] {
  if (!rendered.has(dir)) {
    const out = execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
    rendered.set(dir, parseAllDocuments(out).map((d) => {
      if (d.errors.length) throw new Error(`${dir}: ${d.errors[0]!.message}`);
      return d.toJS() as Obj;
    }));
  }
  return rendered.get(dir)!;
}
const of = (docs: Obj[], kind: string) => docs.filter((d) => d.kind === kind);
const SERVICES = ['watcher', 'endpoint-discovery', 'translator', 'reporter', 'xds-server'] as const;
type Service = (typeof SERVICES)[number];

// --- what each service needs from the Kubernetes API -------------------------------------------
// Derived from the code where the code exists; the Kubernetes mode of the edge services (issue 5,
// informers and status patches) is being written alongside, so those rows cite what it must call.
// A row whose source changes must change here, and the test then says which rule to add or drop.
const GROUPS: Record<string, [group: string, plural: string]> = {
  GatewayClass: ['gateway.networking.k8s.io', 'gatewayclasses'], Gateway: ['gateway.networking.k8s.io', 'gateways'],
  HTTPRoute: ['gateway.networking.k8s.io', 'httproutes'], GRPCRoute: ['gateway.networking.k8s.io', 'grpcroutes'],
  TCPRoute: ['gateway.networking.k8s.io', 'tcproutes'], TLSRoute: ['gateway.networking.k8s.io', 'tlsroutes'],
  UDPRoute: ['gateway.networking.k8s.io', 'udproutes'], ReferenceGrant: ['gateway.networking.k8s.io', 'referencegrants'],
  BackendTLSPolicy: ['gateway.networking.k8s.io', 'backendtlspolicies'], ListenerSet: ['gateway.networking.k8s.io', 'listenersets'],
  XListenerSet: ['gateway.networking.x-k8s.io', 'xlistenersets'],
  Namespace: ['', 'namespaces'], Secret: ['', 'secrets'], ConfigMap: ['', 'configmaps'],
};
/** Kinds without status: ReferenceGrant (no status in the spec), and the core kinds the watcher reads. */
const NO_STATUS = new Set(['ReferenceGrant', 'Namespace', 'Secret', 'ConfigMap']);

interface Need { group: string; resource: string; verbs: string[]; source: string }
const NEEDS: Record<Service, Need[]> = {
  watcher: [
    // libs/manifests/resources.ts WATCHED_KINDS: the kinds the watcher publishes; an informer lists and watches each.
    ...[...WATCHED_KINDS].map((k) => ({ group: GROUPS[k]![0], resource: GROUPS[k]![1], verbs: ['list', 'watch'], source: 'WATCHED_KINDS' })),
    // libs/manifests/resources.ts: every kind of GANTRY_GROUP is the watcher's (Upstream is the one kind so far).
    { group: GANTRY_GROUP, resource: 'upstreams', verbs: ['list', 'watch'], source: 'GANTRY_GROUP' },
  ],
  'endpoint-discovery': [
    // services/endpoint-discovery/kube-source.ts: an informer (list + watch, all namespaces) over Services and one
    // over EndpointSlices (libs/kube/kinds.ts ENDPOINT_KINDS), read with libs/endpoints serviceEndpoints.
    ...Object.values(ENDPOINT_KINDS).map((k) => ({ group: k.group, resource: k.plural, verbs: ['list', 'watch'], source: 'ENDPOINT_KINDS' })),
    // issue 5: discovery can be turned off per namespace (a Namespace label), and discovered Upstreams are written.
    { group: '', resource: 'namespaces', verbs: ['list', 'watch'], source: 'issue 5: per-namespace discovery switch' },
    { group: GANTRY_GROUP, resource: 'upstreams', verbs: ['list', 'watch', 'create', 'update', 'delete'], source: 'issue 5: discovered Upstreams' },
  ],
  // issue 5: the reporter patches the status subresource (JSON merge patch with resourceVersion), after a
  // get for that resourceVersion; for every kind the translator reports on (libs/translator status.ts
  // reports each watched kind that has a status).
  reporter: [...WATCHED_KINDS].filter((k) => !NO_STATUS.has(k))
    .map((k) => ({ group: GROUPS[k]![0], resource: `${GROUPS[k]![1]}/status`, verbs: ['get', 'patch'], source: 'issue 5: status patches' })),
  // NATS and Redis only (services/translator/main.ts, services/xds-server/service.ts): no Kubernetes API.
  translator: [],
  'xds-server': [],
};

const key = (g: string, r: string, v: string) => `${g}|${r}|${v}`;

test('every overlay renders and every object parses, once, with apiVersion, kind and name', () => {
  for (const dir of OVERLAYS) {
    const docs = render(dir);
    assert.ok(docs.length > 10, dir);
    const seen = new Set<string>();
    for (const d of docs) {
      assert.ok(d && typeof d.apiVersion === 'string' && typeof d.kind === 'string' && d.metadata?.name, `${dir}: ${JSON.stringify(d).slice(0, 100)}`);
      const id = `${d.kind}/${d.metadata.namespace ?? ''}/${d.metadata.name}`;
      assert.ok(!seen.has(id), `${dir}: ${id} twice`);
      seen.add(id);
    }
  }
});

test('Gantry\'s Upstream CRD is served with a structural schema and a status subresource', () => {
  for (const dir of OVERLAYS) {
    const crd = of(render(dir), 'CustomResourceDefinition').find((d) => d.metadata.name === `upstreams.${GANTRY_GROUP}`);
    assert.ok(crd, dir);
    const v = crd.spec.versions.find((x: Obj) => x.name === 'v1alpha1');
    assert.ok(v.served && v.storage && v.subresources.status);
    const spec = v.schema.openAPIV3Schema.properties.spec;
    assert.deepEqual(Object.keys(spec.properties).sort(), ['connectTimeout', 'kube', 'protocol', 'static', 'tls', 'type']);
    assert.deepEqual(spec.properties.type.enum, ['Static', 'Kube']);
  }
});

test('RBAC: every rule is needed by its service, and every need is granted', () => {
  for (const dir of OVERLAYS) {
    const docs = render(dir);
    const roles = new Map(of(docs, 'ClusterRole').map((r) => [r.metadata.name, r]));
    assert.equal(of(docs, 'Role').length + of(docs, 'RoleBinding').length, 0, 'cluster-wide roles only, for now');
    const granted = new Map<string, Set<string>>();
    for (const b of of(docs, 'ClusterRoleBinding')) {
      assert.equal(b.subjects.length, 1, `${b.metadata.name}: one ServiceAccount per binding`);
      const [s] = b.subjects;
      assert.equal(s.kind, 'ServiceAccount');
      assert.equal(s.namespace, 'gantry-system');
      const role = roles.get(b.roleRef.name);
      assert.ok(role, `${b.metadata.name}: role ${b.roleRef.name} exists`);
      const set = granted.get(s.name) ?? new Set<string>();
      for (const rule of role.rules) {
        assert.ok(!rule.resourceNames, 'no resourceNames used yet');
        for (const g of rule.apiGroups) for (const r of rule.resources) for (const v of rule.verbs) {
          assert.ok(g !== '*' && r !== '*' && v !== '*', `${role.metadata.name}: no wildcards`);
          set.add(key(g, r, v));
        }
      }
      granted.set(s.name, set);
    }
    const deployments = of(docs, 'Deployment').filter((d) => d.metadata.name.startsWith('gantry-'));
    for (const d of deployments) {
      const service = d.metadata.name.slice('gantry-'.length) as Service;
      const sa = d.spec.template.spec.serviceAccountName;
      assert.equal(sa, `gantry-${service}`, 'a ServiceAccount per service');
      const needs = new Set(NEEDS[service].flatMap((n) => n.verbs.map((v) => key(n.group, n.resource, v))));
      const has = granted.get(sa) ?? new Set();
      for (const k of has) assert.ok(needs.has(k), `${dir}: ${service} is granted ${k}, which nothing in it needs`);
      for (const k of needs) assert.ok(has.has(k), `${dir}: ${service} needs ${k}, not granted`);
      // A service that never calls the API server gets no token at all.
      assert.equal(d.spec.template.spec.automountServiceAccountToken, NEEDS[service].length > 0, `${service}: token only when it calls the API`);
    }
    for (const [sa, set] of granted) {
      const secrets = [...set].some((k) => k.startsWith('|secrets|'));
      assert.ok(!secrets || sa === 'gantry-watcher', `${sa} may not read Secrets`);
      const status = [...set].some((k) => k.split('|')[1]!.endsWith('/status'));
      assert.ok(!status || sa === 'gantry-reporter', `${sa} may not write status`);
    }
  }
});

test('probes and Services point at the ports the services listen on', () => {
  for (const dir of OVERLAYS) {
    const docs = render(dir);
    for (const d of of(docs, 'Deployment').filter((x) => x.metadata.name.startsWith('gantry-'))) {
      const [c] = d.spec.template.spec.containers;
      const env = Object.fromEntries(c.env.map((e: Obj) => [e.name, e.value]));
      const ports = new Map<string, number>(c.ports.map((p: Obj) => [p.name, p.containerPort]));
      const portOf = (p: string | number) => (typeof p === 'number' ? p : ports.get(p));
      assert.ok(env.GANTRY_HEALTH_PORT, `${d.metadata.name}: the health server is on`);
      for (const [probe, path] of [['startupProbe', '/healthz'], ['livenessProbe', '/healthz'], ['readinessProbe', '/readyz']] as const) {
        assert.equal(c[probe]?.httpGet?.path, path, `${d.metadata.name} ${probe}`);
        assert.equal(portOf(c[probe].httpGet.port), Number(env.GANTRY_HEALTH_PORT), `${d.metadata.name} ${probe} port`);
      }
      assert.equal(d.spec.template.metadata.annotations['prometheus.io/port'], env.GANTRY_HEALTH_PORT);
      if (d.metadata.name === 'gantry-xds-server') {
        assert.equal(ports.get('xds'), Number(env.GANTRY_XDS_PORT));
        assert.equal(env.GANTRY_XDS_ADDRESS, '0.0.0.0', 'reachable from other pods');
        const svc = of(docs, 'Service').find((s) => s.metadata.name === 'gantry-xds');
        assert.ok(svc, 'the xds-server Service exists');
        assert.equal(portOf(svc.spec.ports[0].targetPort), Number(env.GANTRY_XDS_PORT));
      }
    }
  }
});

// In the cluster the edge services run in Kubernetes mode (GANTRY_SOURCE=kubernetes): they parse
// the source switch and the Kubernetes-mode config (libs/kube/serve.ts), not the file-mode one.
const KUBE_MODE = SourceConfig.extend(KubeSourceConfig.shape);
const CONFIGS: Record<Service, z.ZodObject> = {
  watcher: KUBE_MODE, 'endpoint-discovery': KUBE_MODE, translator: TranslatorConfig, reporter: KUBE_MODE, 'xds-server': XdsServerConfig,
};

test('every env var the manifests set is one the service\'s config accepts, and the env parses', () => {
  for (const dir of OVERLAYS) {
    const docs = render(dir);
    const secrets = new Map(of(docs, 'Secret').map((s) => [s.metadata.name, s.stringData ?? {}]));
    const deployments = of(docs, 'Deployment').filter((x) => x.metadata.name.startsWith('gantry-'));
    const names = deployments.map((d) => d.metadata.name.slice('gantry-'.length)).sort();
    assert.deepEqual(names, dir.endsWith('member') ? ['endpoint-discovery', 'reporter', 'watcher'] : [...SERVICES].sort(), dir);
    for (const d of deployments) {
      const service = d.metadata.name.slice('gantry-'.length) as Service;
      const schema = CONFIGS[service];
      const env: Record<string, string> = {};
      for (const e of d.spec.template.spec.containers[0].env) {
        assert.ok(e.name in schema.shape, `${dir}: ${service} sets ${e.name}, which its config does not read`);
        const ref = e.valueFrom?.secretKeyRef;
        if (ref) {
          assert.ok(secrets.get(ref.name)?.[ref.key] !== undefined, `${dir}: ${service} ${e.name}: Secret ${ref.name} has ${ref.key}`);
          env[e.name] = secrets.get(ref.name)[ref.key];
        } else {
          env[e.name] = e.valueFrom?.fieldRef ? `${d.metadata.name}-pod` : e.value;
        }
      }
      const parsed = schema.safeParse(env);
      assert.ok(parsed.success, `${dir}: ${service}: ${parsed.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
      if (dir.endsWith('member')) assert.equal(env.GANTRY_CLUSTER, 'member-1');
      if (schema === KUBE_MODE) assert.equal(env.GANTRY_SOURCE, 'kubernetes', `${dir}: ${service} runs in Kubernetes mode`);
    }
  }
});

test('the ha overlay runs three xds-servers on different nodes with a disruption budget; writers stay single', () => {
  const docs = render('deploy/overlays/ha');
  const dep = (n: string) => of(docs, 'Deployment').find((d) => d.metadata.name === `gantry-${n}`)!;
  assert.equal(dep('xds-server').spec.replicas, 3);
  const anti = dep('xds-server').spec.template.spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0];
  assert.equal(anti.topologyKey, 'kubernetes.io/hostname');
  const pdb = of(docs, 'PodDisruptionBudget').find((p) => p.metadata.name === 'gantry-xds-server');
  assert.equal(pdb?.spec.minAvailable, 2);
  assert.deepEqual(pdb.spec.selector.matchLabels, dep('xds-server').spec.selector.matchLabels);
  // No leader lease yet: a second translator/reporter/watcher would race the first, even during a rollout.
  for (const n of ['translator', 'reporter', 'watcher', 'endpoint-discovery']) {
    assert.equal(dep(n).spec.replicas, 1, n);
    assert.equal(dep(n).spec.strategy.type, 'Recreate', n);
  }
});

test('the member overlay runs only the edge services, against a remote NATS, with no NATS or Redis of its own', () => {
  const docs = render('deploy/overlays/member');
  assert.equal(of(docs, 'StatefulSet').length, 0);
  assert.ok(!of(docs, 'Deployment').some((d) => d.metadata.name === 'redis'));
  const secret = of(docs, 'Secret').find((s) => s.metadata.name === 'gantry-connection');
  assert.ok(secret, 'the connection Secret exists');
  const url = secret.stringData['nats-url'];
  assert.ok(!url.includes('gantry-system.svc'), 'not the in-cluster NATS');
});
