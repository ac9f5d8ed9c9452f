// The rendered install, overlay by overlay (`kubectl kustomize`, no cluster needed): every object
// parses; RBAC is least privilege (every rule is needed by its service, every need is granted);
// probes point at the port the service listens on; every env var is one the service's zod config
// accepts, and the env parses. test/kube/deploy-objects.test.ts creates them in the test API server.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { toJSONSchema, type z } from 'zod';
import { natsConnectTarget } from '../../libs/eventlog/index.ts';
import { natsAuthorization, natsUser, natsUsers, passwordVariable } from '../../libs/eventlog/permissions.ts';
import { KubeSourceConfig, SourceConfig } from '../../libs/kube/serve.ts';
import { ENDPOINT_KINDS, PROVISIONED_KINDS, SECRET_KINDS, WATCHED_KINDS as KUBE_WATCHED_KINDS } from '../../libs/kube/kinds.ts';
import { GANTRY_GROUP, WATCHED_KINDS } from '../../libs/manifests/resources.ts';
import { UpstreamDiscoveryConfig } from '../../services/endpoint-discovery/config.ts';
import { ProvisioningConfig } from '../../services/reporter/config.ts';
import { TranslatorConfig } from '../../services/translator/config.ts';
import { XdsServerConfig } from '../../services/xds-server/service.ts';
import { ListenerOption, RouteOption, VirtualHostOption } from '../../libs/translator/option-objects.ts';
import { render } from './render.ts';

type Obj = Record<string, any>;
const OVERLAYS = ['deploy', 'deploy/overlays/single', 'deploy/overlays/ha', 'deploy/overlays/member', 'deploy/overlays/experimental'];
const of = (docs: readonly Obj[], kind: string) => docs.filter((d) => d.kind === kind);
const SERVICES = ['watcher', 'endpoint-discovery', 'translator', 'reporter', 'xds-server'] as const;
type Service = (typeof SERVICES)[number];
/** GANTRY_CLUSTER of deploy/base: the main cluster, whose NATS the base's authorization block serves. */
const MAIN_CLUSTER = 'main';

// --- what each service needs from the Kubernetes API -------------------------------------------
// Derived from the code: each row names where the calls are made. A row whose source changes must
// change here, and the test then says which rule to add or drop.

interface Need { group: string; resource: string; verbs: string[]; source: string }
const NEEDS: Record<Service, Need[]> = {
  watcher: [
    // services/watcher/kube-source.ts: an informer (list + watch) over each kind of libs/kube/kinds.ts WATCHED_KINDS
    // and SECRET_KINDS (the secret watcher).
    ...[...KUBE_WATCHED_KINDS, ...SECRET_KINDS].map((k) => ({ group: k.group, resource: k.plural, verbs: ['list', 'watch'], source: 'WATCHED_KINDS' })),
  ],
  'endpoint-discovery': [
    // services/endpoint-discovery/kube-source.ts: an informer (list + watch, all namespaces) over each of libs/kube/kinds.ts
    // ENDPOINT_KINDS: Services, EndpointSlices, Namespaces (the discovery switch annotation) and Upstreams.
    ...Object.values(ENDPOINT_KINDS).map((k) => ({ group: k.group, resource: k.plural, verbs: ['list', 'watch'], source: 'ENDPOINT_KINDS' })),
    // services/endpoint-discovery/kube-upstreams.ts: discovered Upstreams created, replaced (PUT with resourceVersion), deleted.
    { group: ENDPOINT_KINDS.upstream.group, resource: ENDPOINT_KINDS.upstream.plural, verbs: ['create', 'update', 'delete'], source: 'kube-upstreams.ts' },
  ],
  // issue 5: the reporter patches the status subresource (JSON merge patch with resourceVersion), after a
  // get for that resourceVersion; for every kind the translator reports on (libs/translator status.ts
  // reports each watched kind that has a status).
  reporter: [
    ...KUBE_WATCHED_KINDS.filter((k) => k.status)
      .map((k) => ({ group: k.group, resource: `${k.plural}/status`, verbs: ['get', 'patch'], source: 'kube-reporter.ts: status patches' })),
    // services/reporter/provisioner.ts: informers over the proxies' Deployments and Services (PROVISIONED_KINDS), which
    // it creates, merge-patches and deletes; ServiceAccounts and bootstrap ConfigMaps are read by name, not listed.
    ...Object.values(PROVISIONED_KINDS).map((k) => ({ group: k.group, resource: k.plural, verbs: ['list', 'watch', 'create', 'patch', 'delete'], source: 'PROVISIONED_KINDS' })),
    ...['serviceaccounts', 'configmaps'].map((resource) => ({ group: '', resource, verbs: ['get', 'create', 'patch', 'delete'], source: 'provisioner.ts readObject' })),
  ],
  // NATS and Redis only (services/translator/main.ts, services/xds-server/service.ts): no Kubernetes API.
  translator: [],
  'xds-server': [],
};

const key = (g: string, r: string, v: string) => `${g}|${r}|${v}`;

test('Kubernetes mode watches every kind file mode reads', () => {
  const kube = new Set([...KUBE_WATCHED_KINDS, ...SECRET_KINDS].map((k) => k.kind));
  for (const kind of WATCHED_KINDS) assert.ok(kube.has(kind), `${kind}: read from manifests, not watched in Kubernetes`);
});

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

/**
 * Where a CRD's structural schema and the translator's zod schema (as JSON Schema) disagree on a
 * field's existence, type, enumeration or numeric and length bounds: one would accept what the other
 * rejects. (Defaults, patterns and CEL rules are the CRD's alone or checked by the translator tests.)
 */
function schemaDifferences(crd: Obj, zod: Obj, path: string): string[] {
  const z1 = zod.anyOf?.find((x: Obj) => x.type !== 'null') ?? zod;
  const out: string[] = [];
  const enumOf = (s: Obj) => s.enum ?? (s.const !== undefined ? [s.const] : undefined);
  const upper = (v: unknown) => (v === Number.MAX_SAFE_INTEGER ? undefined : v);
  for (const [what, a, b] of [
    ['type', crd.type, z1.type],
    ['enum', enumOf(crd), enumOf(z1)],
    ['minimum', crd.minimum, z1.minimum], ['maximum', crd.maximum, upper(z1.maximum)],
    ['minItems', crd.minItems, z1.minItems], ['maxItems', crd.maxItems, z1.maxItems],
  ] as const) {
    if (JSON.stringify(a) !== JSON.stringify(b)) out.push(`${path}: ${what} ${JSON.stringify(a)} in the CRD, ${JSON.stringify(b)} in zod`);
  }
  const keys = new Set([...Object.keys(crd.properties ?? {}), ...Object.keys(z1.properties ?? {})]);
  for (const k of keys) {
    if (!crd.properties?.[k] || !z1.properties?.[k]) out.push(`${path}.${k}: only in ${crd.properties?.[k] ? 'the CRD' : 'zod'}`);
    else out.push(...schemaDifferences(crd.properties[k], z1.properties[k], `${path}.${k}`));
  }
  if (crd.items || z1.items) out.push(...schemaDifferences(crd.items ?? {}, z1.items ?? {}, `${path}[]`));
  return out;
}

test('Gantry\'s option CRDs are served with a status subresource, and their spec is the translator\'s', () => {
  const kinds = { RouteOption, VirtualHostOption, ListenerOption };
  for (const dir of OVERLAYS) {
    for (const [kind, schema] of Object.entries(kinds)) {
      const crd = of(render(dir), 'CustomResourceDefinition').find((d) => d.spec.group === GANTRY_GROUP && d.spec.names.kind === kind);
      assert.ok(crd, `${dir}: ${kind}`);
      const v = crd.spec.versions.find((x: Obj) => x.name === 'v1alpha1');
      assert.ok(v.served && v.storage && v.subresources.status, kind);
      assert.deepEqual(v.additionalPrinterColumns.map((c: Obj) => c.name), ['Accepted', 'Conflicted', 'Age']);
      const zod = toJSONSchema(schema.shape.spec, { io: 'input', unrepresentable: 'any' }) as Obj;
      assert.deepEqual(schemaDifferences(v.schema.openAPIV3Schema.properties.spec, zod, `${kind}.spec`), [], kind);
    }
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
// endpoint-discovery also reads its discovery switch's default (services/endpoint-discovery/main.ts).
const KUBE_MODE = SourceConfig.extend(KubeSourceConfig.shape);
const CONFIGS: Record<Service, z.ZodObject> = {
  watcher: KUBE_MODE, 'endpoint-discovery': KUBE_MODE.extend(UpstreamDiscoveryConfig.shape), translator: TranslatorConfig, reporter: KUBE_MODE.extend(ProvisioningConfig.shape), 'xds-server': XdsServerConfig,
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
      // Its own NATS user (libs/eventlog/permissions.ts), from its own Secret key.
      const natsUrl = d.spec.template.spec.containers[0].env.find((e: Obj) => e.name === 'GANTRY_NATS_URL');
      assert.equal(natsUrl?.valueFrom?.secretKeyRef?.key, `nats-url-${service}`, `${dir}: ${service}'s NATS URL`);
      // The main cluster's users are named after the service alone; a member's name its cluster too.
      assert.equal(env.GANTRY_CLUSTER, dir.endsWith('member') ? 'member-1' : MAIN_CLUSTER, `${dir}: ${service}'s cluster`);
      const user = natsUser(service, env.GANTRY_CLUSTER!, [MAIN_CLUSTER, 'member-1']).name;
      assert.equal(natsConnectTarget(env.GANTRY_NATS_URL!).user, user, `${dir}: ${service} connects to NATS as its own user`);
      if ('GANTRY_SOURCE' in schema.shape) assert.equal(env.GANTRY_SOURCE, 'kubernetes', `${dir}: ${service} runs in Kubernetes mode`);
    }
  }
});

test('the ha overlay runs three xds-servers on different nodes with a disruption budget, and two of each leased writer, preferably on different nodes', () => {
  const docs = render('deploy/overlays/ha');
  const dep = (n: string) => of(docs, 'Deployment').find((d) => d.metadata.name === `gantry-${n}`)!;
  assert.equal(dep('xds-server').spec.replicas, 3);
  const anti = dep('xds-server').spec.template.spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0];
  assert.equal(anti.topologyKey, 'kubernetes.io/hostname');
  const pdb = of(docs, 'PodDisruptionBudget').find((p) => p.metadata.name === 'gantry-xds-server');
  assert.equal(pdb?.spec.minAvailable, 2);
  assert.deepEqual(pdb.spec.selector.matchLabels, dep('xds-server').spec.selector.matchLabels);
  // Leased writers (libs/lease): one leads, one stands by. A rolling update surges a standby before
  // stopping a pod (which releases the lease), and a drain leaves one of the two.
  for (const n of ['translator', 'reporter', 'watcher', 'endpoint-discovery']) {
    assert.equal(dep(n).spec.replicas, 2, n);
    assert.equal(dep(n).spec.strategy.type, 'RollingUpdate', n);
    assert.deepEqual(dep(n).spec.strategy.rollingUpdate, { maxUnavailable: 0, maxSurge: 1 }, n);
    const budget = of(docs, 'PodDisruptionBudget').find((p) => p.metadata.name === `gantry-${n}`);
    assert.equal(budget?.spec.minAvailable, 1, n);
    assert.deepEqual(budget.spec.selector.matchLabels, dep(n).spec.selector.matchLabels, n);
    // A node loss takes the leader or the standby, not both; preferred, so one node still runs both.
    const { podAntiAffinity } = dep(n).spec.template.spec.affinity;
    assert.deepEqual(podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution, [{
      weight: 100, podAffinityTerm: { labelSelector: { matchLabels: dep(n).spec.selector.matchLabels }, topologyKey: 'kubernetes.io/hostname' },
    }], n);
    assert.equal(podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution, undefined, n);
  }
});

test('the member overlay runs only the edge services, against a remote NATS, with no NATS or Redis of its own', () => {
  const docs = render('deploy/overlays/member');
  assert.equal(of(docs, 'StatefulSet').length, 0);
  assert.ok(!of(docs, 'Deployment').some((d) => d.metadata.name === 'redis'));
  const secret = of(docs, 'Secret').find((s) => s.metadata.name === 'gantry-connection');
  assert.ok(secret, 'the connection Secret exists');
  // The edge services' URLs only: no password of a NATS it does not run, no other service's URL.
  const edge = ['watcher', 'endpoint-discovery', 'reporter'];
  assert.deepEqual(Object.keys(secret.stringData).sort(), edge.map((s) => `nats-url-${s}`).sort());
  for (const service of edge) assert.ok(!secret.stringData[`nats-url-${service}`].includes('gantry-system.svc'), `${service}: not the in-cluster NATS`);
});

test('NATS has one user per service: the authorization block rendered from the permission table, the passwords the services\' URLs carry, a configuration nats-server accepts', () => {
  for (const dir of OVERLAYS.filter((d) => !d.endsWith('member'))) {
    const docs = render(dir);
    const conf: string = of(docs, 'ConfigMap').find((c) => c.metadata.name === 'nats-config')!.data['nats.conf'];
    const block = natsAuthorization([MAIN_CLUSTER]);
    assert.ok(conf.includes(block) && conf.split('authorization').length === 2,
      `${dir}: nats.conf's authorization block is not the one libs/eventlog/permissions.ts renders:\n${block}`);
    const secret = of(docs, 'Secret').find((s) => s.metadata.name === 'gantry-connection')!.stringData;
    const env: Record<string, string> = {};
    for (const e of of(docs, 'StatefulSet').find((x) => x.metadata.name === 'nats')!.spec.template.spec.containers[0].env) {
      const ref = e.valueFrom?.secretKeyRef;
      assert.ok(!ref || ref.name === 'gantry-connection', `${dir}: ${e.name}`);
      env[e.name] = ref ? secret[ref.key] : e.valueFrom?.fieldRef ? 'nats-0' : e.value;
    }
    assert.deepEqual(natsUsers([MAIN_CLUSTER]).map((u) => u.name), [...SERVICES], 'a single-cluster install: one user per service, named after it');
    for (const service of SERVICES) {
      const password = env[passwordVariable(service)];
      assert.ok(password, `${dir}: nats-server has ${service}'s password`);
      const { user, pass } = natsConnectTarget(secret[`nats-url-${service}`]);
      assert.deepEqual([user, pass], [service, password], `${dir}: ${service}'s URL carries its user and the password nats-server has`);
    }
    natsServerAccepts(conf, env);
  }
});

/**
 * nats-server (2.9, as on these machines) tests `conf` with the environment `env`, passwords
 * included: one it would parse as a number, or not at all, fails here.
 */
function natsServerAccepts(conf: string, env: Record<string, string>): void {
  const tmp = mkdtempSync(join(tmpdir(), 'gantry-nats-conf-'));
  try {
    writeFileSync(join(tmp, 'nats.conf'), conf);
    execFileSync('nats-server', ['-t', '-c', join(tmp, 'nats.conf')], { env: { ...process.env, ...env }, stdio: 'pipe' });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

test('a member\'s users on the main cluster\'s NATS, as README "Multi-cluster" says: `gantry nats-authorization`\'s block with the members\' passwords, which nats-server accepts', () => {
  const cli = (...args: string[]) => execFileSync(process.execPath, ['--import', 'tsx', 'services/cli/main.ts', 'nats-authorization', ...args], { encoding: 'utf8', stdio: 'pipe' });
  const block = cli(MAIN_CLUSTER, 'member-1');
  assert.equal(block, natsAuthorization([MAIN_CLUSTER, 'member-1']));
  assert.throws(() => cli('Member_1'), (err: { status?: number; stderr?: string }) => err.status === 2 && /not a DNS label/.test(err.stderr ?? ''));
  // The member overlay's URLs name users of that block.
  const member = of(render('deploy/overlays/member'), 'Secret').find((s) => s.metadata.name === 'gantry-connection')!.stringData;
  const users = natsUsers([MAIN_CLUSTER, 'member-1']);
  for (const service of ['watcher', 'endpoint-discovery', 'reporter'] as const) {
    const { user } = natsConnectTarget(member[`nats-url-${service}`]);
    assert.ok(users.some((u) => u.name === user && u.service === service && u.cluster === 'member-1'), `${service}: ${user}`);
  }
  // The base's nats.conf with that block in place of its own, every user's password set.
  const conf: string = of(render('deploy'), 'ConfigMap').find((c) => c.metadata.name === 'nats-config')!.data['nats.conf'];
  assert.ok(conf.includes(natsAuthorization([MAIN_CLUSTER])));
  const env = Object.fromEntries(users.map((u) => [passwordVariable(u.name), `pw-${u.name.replace('.', '-')}`]));
  natsServerAccepts(conf.replace(natsAuthorization([MAIN_CLUSTER]), block), { ...env, POD_NAME: 'nats-0' });
});
