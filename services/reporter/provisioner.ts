// Gateway provisioning (Kubernetes mode, inside the reporter): for each Gateway of a class whose
// controllerName is Gantry's, keeps its Envoy ServiceAccount, bootstrap ConfigMap, Deployment and
// Service (libs/provisioning/infrastructure.ts) equal to what its Gateway, class and
// GatewayParameters ask for, and tells the reporter when what they report changes (the Service's
// addresses, ready replicas), since those go into the Gateway's status.
//
// Inputs: the Gateways, GatewayClasses and GatewayParameters of the RESOURCES log (what the
// translator sees, in the same order), and informers over the Deployments and Services it manages
// (label app.kubernetes.io/managed-by=gantry): their status is the rollout's and the load
// balancer's. ServiceAccounts and ConfigMaps are read on demand, so the reporter needs no list or
// watch on ConfigMaps. Each object carries the hash of what Gantry wants it to be: a pass writes
// only objects whose hash differs (a JSON merge patch carrying the resourceVersion it read: a
// conflict retries the Gateway), creates missing ones and deletes the managed objects of Gateways
// that are gone or no longer Gantry's. An object of the same name that Gantry does not manage is
// never touched: the Gateway says so in its status.
import { KubernetesObjectApi, PatchStrategy, type KubeConfig } from '@kubernetes/client-node';
import { ResourceEventSchema, STREAMS, subjects, type ResourceEvent } from '../../libs/contracts/index.ts';
import { followStream, type EventLog, type Follower } from '../../libs/eventlog/index.ts';
import { DirtyQueue } from '../../libs/kube/dirty-queue.ts';
import { startInformer, type Informer, type Obj } from '../../libs/kube/informer.ts';
import { PROVISIONED_KINDS } from '../../libs/kube/kinds.ts';
import {
  gatewayInfrastructure, MANAGED_BY, MANAGED_SELECTOR, proxyObjectName, SPEC_HASH_ANNOTATION, type KubeObject, type XdsTarget,
} from '../../libs/provisioning/infrastructure.ts';
import {
  GANTRY_GROUP, PARAMETERS_KIND, parseParameters, resolveParameters, type ParametersSpec, type ProvisioningInputKind,
} from '../../libs/provisioning/parameters.ts';
import { serviceAddresses, type InfrastructureState } from '../../libs/provisioning/status.ts';
import type { Logger } from '../../libs/service/index.ts';
import { metrics } from '../../libs/service/metrics.ts';

export interface ProvisionerOptions {
  eventLog: EventLog;
  cluster: string;
  kc: KubeConfig;
  log: Logger;
  controllerName: string;
  xds: XdsTarget;
  envoyImage: string;
  debounceMs: number;
  /** A Gateway's infrastructure state changed ("<ns>/<name>"): its status is due again. */
  onGatewayChanged(gateway: string): void;
}

export interface RunningProvisioner {
  /** Resolves once the log is replayed and the informers have listed (before that nothing is written or deleted). */
  synced: Promise<void>;
  /**
   * What the status of Gateway `<ns>/<name>` must say about its infrastructure (proxy counts left at
   * 0 for the caller to fill in), or undefined for a Gateway Gantry does not provision.
   */
  infrastructureOf(namespace: string, name: string): Omit<InfrastructureState, 'connectedProxies' | 'programmedProxies'> | undefined;
  idle(): Promise<void>;
  stop(): Promise<void>;
}

type Stored = { object: Record<string, any>; uid: string };
const keyOf = (namespace: string, name: string) => `${namespace}/${name}`;
const mergePatch = PatchStrategy.MergePatch;

/** The parts of a desired object a merge patch sets (identity and server-owned fields left out). */
function patchBody(want: KubeObject, live: Obj): KubeObject {
  const { apiVersion, kind, metadata, ...rest } = want;
  return {
    apiVersion, kind, ...rest,
    metadata: {
      name: metadata.name, namespace: metadata.namespace, resourceVersion: live.metadata?.resourceVersion,
      labels: metadata.labels, annotations: metadata.annotations, ownerReferences: metadata.ownerReferences,
    },
  };
}

export async function startProvisioner(opts: ProvisionerOptions): Promise<RunningProvisioner> {
  const { eventLog, log, controllerName } = opts;
  const api = opts.kc.makeApiClient(KubernetesObjectApi);
  const gateways = new Map<string, Stored>();
  const classes = new Map<string, Stored>();
  const parameters = new Map<string, Stored>();
  /** ListenerSets and XListenerSets by "<kind>/<namespace>/<name>": their listeners' ports go on the parent's Service. */
  const listenerSets = new Map<string, Stored>();
  /** Why a Gateway's objects could not be written, for its status. */
  const problems = new Map<string, string>();

  const classOf = (gw: Stored) => classes.get(keyOf('', gw.object.spec?.gatewayClassName ?? ''));
  const isOurs = (gw: Stored | undefined) => !!gw && classOf(gw)?.object.spec?.controllerName === controllerName;

  const parametersLayers = (namespace: string, gw: Stored): { layers: Array<ParametersSpec | undefined> } | { problem: string } => {
    const layers: Array<ParametersSpec | undefined> = [];
    const refs: Array<{ ref: any; namespace: string | undefined; where: string }> = [
      { ref: classOf(gw)?.object.spec?.parametersRef, namespace: classOf(gw)?.object.spec?.parametersRef?.namespace, where: 'GatewayClass parametersRef' },
      { ref: gw.object.spec?.infrastructure?.parametersRef, namespace, where: 'infrastructure.parametersRef' },
    ];
    for (const { ref, namespace: ns, where } of refs) {
      if (!ref) continue;
      if (ref.group !== GANTRY_GROUP || ref.kind !== PARAMETERS_KIND) return { problem: `${where} names ${ref.group || 'core'}/${ref.kind}; only ${GANTRY_GROUP}/${PARAMETERS_KIND} is supported` };
      const found = parameters.get(keyOf(ns ?? '', ref.name));
      if (!found) return { problem: `${where}: GatewayParameters ${ns ?? ''}/${ref.name} not found` };
      const parsed = parseParameters(found.object);
      if (!parsed.ok) return { problem: `${where}: GatewayParameters ${ns ?? ''}/${ref.name} is invalid: ${parsed.message}` };
      layers.push(parsed.spec);
    }
    return { layers };
  };

  /**
   * Listeners of the ListenerSets naming Gateway `key`, when it lets any attach. Which of them the
   * translator accepts is its business (a namespace selector needs Namespace labels): a Service
   * port no Envoy listener serves only refuses connections, a missing one would lose traffic.
   */
  const attachedListeners = (key: string, spec: any): unknown[] => {
    if ((spec.allowedListeners?.namespaces?.from ?? 'None') === 'None') return [];
    const out: unknown[] = [];
    for (const [setKey, set] of listenerSets) {
      const ref = set.object.spec?.parentRef;
      const setNamespace = setKey.split('/')[1];
      if ((ref?.kind ?? 'Gateway') !== 'Gateway' || keyOf(ref?.namespace ?? setNamespace, ref?.name) !== key) continue;
      out.push(...(Array.isArray(set.object.spec?.listeners) ? set.object.spec.listeners : []));
    }
    return out;
  };

  /** The objects Gateway `key` should have; undefined when they must be left as they are (bad parameters). */
  const desiredOf = (key: string): KubeObject[] | undefined => {
    const gw = gateways.get(key);
    if (!gw || !isOurs(gw)) { problems.delete(key); return []; }
    const [namespace, name] = [key.slice(0, key.indexOf('/')), key.slice(key.indexOf('/') + 1)];
    const layers = parametersLayers(namespace, gw);
    if ('problem' in layers) { problems.set(key, layers.problem); return undefined; }
    problems.delete(key);
    const spec = gw.object.spec ?? {};
    const listeners = [...(spec.listeners ?? []), ...attachedListeners(key, spec)];
    return gatewayInfrastructure({
      namespace, name, uid: gw.uid, className: spec.gatewayClassName,
      listeners: listeners.filter((l: any) => Number.isInteger(l?.port)).map((l: any) => ({ port: l.port, protocol: String(l.protocol ?? '') })),
      infrastructure: { labels: spec.infrastructure?.labels, annotations: spec.infrastructure?.annotations },
      parameters: resolveParameters(layers.layers, { envoyImage: opts.envoyImage }),
    }, opts.xds);
  };

  const managedBy = (o: Obj | undefined) => o?.metadata?.labels?.[MANAGED_BY.key] === MANAGED_BY.value;
  const ownerOf = (o: Obj): string | undefined => {
    const owner = (o.metadata?.ownerReferences ?? []).find((r: any) => r.kind === 'Gateway' && r.controller);
    return owner ? keyOf(o.metadata?.namespace ?? '', owner.name) : undefined;
  };

  const readObject = async (o: { apiVersion: string; kind: string; metadata: { name: string; namespace: string } }): Promise<Obj | undefined> => {
    try {
      return await api.read(o as never) as Obj;
    } catch (err) {
      if ((err as { code?: number }).code === 404) return undefined;
      throw err;
    }
  };
  const ignoreNotFound = (err: unknown) => { if ((err as { code?: number }).code !== 404) throw err; };

  const informers: Informer[] = [];
  /** The informers' copy, or a fresh read for the kinds without one. */
  const liveOf = (o: KubeObject): Promise<Obj | undefined> => {
    const informer = informers.find((i) => i.kind.kind === o.kind);
    return informer ? Promise.resolve(informer.get(o.metadata.namespace, o.metadata.name)) : readObject(o as never);
  };

  const reconcile = async (key: string) => {
    const desired = desiredOf(key);
    if (desired) {
      const problem: string[] = [];
      for (const want of desired) {
        // The informers see only managed objects: one of the same name that is not shows up as a create conflict.
        let live = await liveOf(want);
        const what = `${want.kind} ${want.metadata.namespace}/${want.metadata.name}`;
        if (!live) {
          try {
            await api.create(want);
            metrics.provisioningWrites.inc({ kind: want.kind, op: 'create' });
            log.info({ gateway: key, object: what }, 'created proxy object');
            continue;
          } catch (err) {
            if ((err as { code?: number }).code !== 409) throw err;
            live = await readObject(want as never);
            if (!live || managedBy(live)) throw err; // gone again, or ours and the informer is behind: retry
          }
        }
        if (!managedBy(live) || ownerOf(live) !== key) {
          problem.push(`${what} exists and is not managed by Gantry for this Gateway`);
        } else if (live.metadata?.annotations?.[SPEC_HASH_ANNOTATION] !== want.metadata.annotations[SPEC_HASH_ANNOTATION]) {
          await api.patch(patchBody(want, live), undefined, undefined, undefined, undefined, mergePatch);
          metrics.provisioningWrites.inc({ kind: want.kind, op: 'patch' });
          log.info({ gateway: key, object: what }, 'updated proxy object');
        }
      }
      if (problem.length > 0) problems.set(key, problem.join('; ')); else problems.delete(key);
      // Managed objects of this Gateway that are not wanted (deleted Gateway, class changed hands).
      if (desired.length === 0) await removeAll(key);
    }
    opts.onGatewayChanged(key);
  };

  const removeAll = async (key: string) => {
    const [namespace, gatewayName] = [key.slice(0, key.indexOf('/')), key.slice(key.indexOf('/') + 1)];
    const name = proxyObjectName(gatewayName);
    for (const [apiVersion, kind] of [['v1', 'Service'], ['apps/v1', 'Deployment'], ['v1', 'ConfigMap'], ['v1', 'ServiceAccount']] as const) {
      const header = { apiVersion, kind, metadata: { name, namespace } };
      const live = await liveOf(header as KubeObject);
      if (!live || !managedBy(live) || ownerOf(live) !== key) continue;
      await api.delete(header).catch(ignoreNotFound);
      metrics.provisioningWrites.inc({ kind, op: 'delete' });
      log.info({ gateway: key, object: `${kind} ${namespace}/${name}` }, 'deleted proxy object');
    }
  };

  const queue = new DirtyQueue<true>({
    debounceMs: opts.debounceMs, concurrency: 8, retryMs: 1000, log,
    handle: async (key) => {
      try {
        await reconcile(key);
      } catch (err) {
        const code = (err as { code?: number }).code;
        log.warn({ gateway: key, code, err: String((err as Error).message ?? err) }, code === 409 ? 'proxy object changed meanwhile; again' : 'provisioning failed; retrying');
        throw err;
      }
    },
  });
  const markGatewaysOf = (predicate: (gw: Stored) => boolean) => { for (const [k, gw] of gateways) if (predicate(gw)) queue.mark(k, true); };

  const follow = (kind: ProvisioningInputKind, into: Map<string, Stored>, changed: (key: string, before: Stored | undefined) => void, prefix = '') => followStream(eventLog, {
    stream: STREAMS.RESOURCES, filter: subjects.resourcesOfKind(opts.cluster, kind), schema: ResourceEventSchema, log, from: 'last',
    onEvent: (e: ResourceEvent) => {
      const key = prefix + keyOf(e.namespace, e.name);
      const before = into.get(key);
      if (e.op === 'delete' || !e.object) into.delete(key);
      else into.set(key, { object: e.object, uid: e.uid });
      changed(key, before);
    },
  });
  const followers: Follower[] = [
    await follow('GatewayClass', classes, (key) => markGatewaysOf((gw) => gw.object.spec?.gatewayClassName === key.slice(1))),
    await follow(PARAMETERS_KIND, parameters, () => markGatewaysOf(() => true)),
    await follow('Gateway', gateways, (key) => queue.mark(key, true)),
    // A ListenerSet's parent (before and after the change) gets its ports again.
    ...await Promise.all((['ListenerSet', 'XListenerSet'] as const).map((kind) => follow(kind, listenerSets, (key, before) => {
      for (const set of [before, listenerSets.get(key)]) {
        const ref = set?.object.spec?.parentRef;
        if (ref?.name) queue.mark(keyOf(ref.namespace ?? key.split('/')[1], ref.name), true);
      }
    }, `${kind}/`))),
  ];
  for (const kind of Object.values(PROVISIONED_KINDS)) {
    informers.push(startInformer({
      kc: opts.kc, kind, version: kind.versions[0], log, labelSelector: MANAGED_SELECTOR,
      onChange: (_op, o) => { const owner = ownerOf(o); if (owner) queue.mark(owner, true); },
    }));
  }
  const synced = (async () => {
    await Promise.all([...followers.map((f) => f.caughtUp), ...informers.map((i) => i.synced)]);
    // Objects whose Gateway the log no longer holds: marked so the pass removes them.
    for (const i of informers) for (const o of i.list()) { const owner = ownerOf(o); if (owner && !gateways.has(owner)) queue.mark(owner, true); }
    queue.open();
    log.info({ gateways: gateways.size }, 'provisioning in step');
  })();

  return {
    synced,
    infrastructureOf: (namespace, name) => {
      const key = keyOf(namespace, name);
      const gw = gateways.get(key);
      if (!isOurs(gw)) return undefined;
      const objectName = proxyObjectName(name);
      const service = informers.find((i) => i.kind.kind === 'Service')?.get(namespace, objectName);
      const deployment = informers.find((i) => i.kind.kind === 'Deployment')?.get(namespace, objectName);
      const owned = (o: Obj | undefined) => (o && managedBy(o) && ownerOf(o) === key ? o : undefined);
      return {
        objects: `${namespace}/${objectName}`,
        serviceType: service?.spec?.type ?? 'LoadBalancer',
        addresses: serviceAddresses(owned(service)),
        replicas: owned(deployment)?.spec?.replicas ?? 0,
        readyReplicas: owned(deployment)?.status?.readyReplicas ?? 0,
        ...(problems.has(key) ? { problem: problems.get(key) } : {}),
      };
    },
    idle: () => queue.idle(),
    stop: async () => {
      queue.stop();
      for (const f of followers) await f.stop();
      for (const i of informers) await i.stop();
    },
  };
}
