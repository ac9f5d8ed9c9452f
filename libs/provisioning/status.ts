// A provisioned Gateway's status (pure): its addresses are its Service's, and it is Programmed only
// once the infrastructure serves it: the Service has an address, at least one Envoy replica is
// ready, and at least one proxy has acknowledged its listeners. What the translator or the proxies
// already say against Programmed (invalid, rejected) stands: this only ever withholds it.
import { withCondition, type Condition, type ProxyTable } from '../status/index.ts';

export interface GatewayAddress { type: 'IPAddress' | 'Hostname'; value: string }

export interface InfrastructureState {
  /** "<namespace>/<name>" of the proxies' objects, for messages. */
  objects: string;
  serviceType: string;
  addresses: GatewayAddress[];
  replicas: number;
  readyReplicas: number;
  /** Connected proxies of the Gateway, and those that have acknowledged some listener configuration. */
  connectedProxies: number;
  programmedProxies: number;
  /** Why the objects could not be written (an object of that name Gantry does not manage, a refused write). */
  problem?: string;
}

type Obj = Record<string, any>;

/** The addresses a Service offers: its load balancer's ingress points, or its cluster IPs for other types. */
export function serviceAddresses(service: Obj | undefined): GatewayAddress[] {
  if (!service) return [];
  const out: GatewayAddress[] = [];
  if (service.spec?.type === 'LoadBalancer') {
    for (const i of service.status?.loadBalancer?.ingress ?? []) {
      if (i?.ip) out.push({ type: 'IPAddress', value: i.ip });
      else if (i?.hostname) out.push({ type: 'Hostname', value: i.hostname });
    }
    return out;
  }
  const ips: string[] = service.spec?.clusterIPs ?? (service.spec?.clusterIP ? [service.spec.clusterIP] : []);
  return ips.filter((ip) => ip && ip !== 'None').map((value) => ({ type: 'IPAddress', value }));
}

/** The proxies of a Gateway ("<ns>/<name>") connected, and those with an acknowledged listener version. */
export function proxyCounts(table: ProxyTable, gateway: string): { connected: number; programmed: number } {
  const nodes = [...(table.get(gateway)?.values() ?? [])];
  return { connected: nodes.length, programmed: nodes.filter((n) => n.types.LDS?.acked !== undefined).length };
}

/** Why the infrastructure does not serve the Gateway yet, or undefined when it does. */
export function infrastructureVerdict(s: InfrastructureState): { reason: string; message: string } | undefined {
  if (s.problem) return { reason: 'Invalid', message: s.problem };
  if (s.addresses.length === 0) return { reason: 'AddressNotAssigned', message: `the ${s.serviceType} Service ${s.objects} has no address yet` };
  if (s.replicas === 0) return { reason: 'Pending', message: `the Envoy Deployment ${s.objects} is scaled to 0 replicas` };
  if (s.readyReplicas === 0) return { reason: 'Pending', message: `waiting for the Envoy Deployment ${s.objects}: 0 of ${s.replicas} replicas ready` };
  if (s.programmedProxies === 0) {
    return { reason: 'Pending', message: `waiting for a proxy to acknowledge its listeners (${s.connectedProxies} connected)` };
  }
  return undefined;
}

/**
 * `status` (the report's, proxies' rejections applied) with the infrastructure's addresses and its
 * say on Programmed, on the Gateway and on each listener (listeners have no AddressNotAssigned:
 * they get Pending). `live` is the status the object has: a condition that keeps its status and
 * reason keeps its lastTransitionTime.
 */
export function applyInfrastructure(status: Obj, s: InfrastructureState, live: Obj | undefined, now: string): Obj {
  const verdict = infrastructureVerdict(s);
  const out: Obj = { ...status, addresses: s.addresses };
  const stillProgrammed = (conditions: unknown) => (Array.isArray(conditions) ? conditions : []).some((c: Condition) => c?.type === 'Programmed' && c.status === 'True');
  const withheld = (conditions: unknown, reason: string, liveConditions: unknown) => {
    if (!verdict || !stillProgrammed(conditions)) return conditions;
    const want = { type: 'Programmed', status: 'False', reason, message: verdict.message };
    const prior = (Array.isArray(liveConditions) ? liveConditions : []).find((c: Condition) => c?.type === 'Programmed' && c.status === 'False' && c.reason === reason);
    return withCondition(conditions, want, prior?.lastTransitionTime ?? now);
  };
  if (verdict) {
    out.conditions = withheld(status.conditions, verdict.reason, live?.conditions);
    if (Array.isArray(status.listeners)) {
      const liveListeners: Obj[] = Array.isArray(live?.listeners) ? live!.listeners : [];
      out.listeners = status.listeners.map((l: Obj) => ({
        ...l, conditions: withheld(l.conditions, 'Pending', liveListeners.find((x) => x?.name === l.name)?.conditions),
      }));
    }
  } else {
    out.conditions = withMessage(status.conditions, `programmed: ${s.readyReplicas} of ${s.replicas} Envoy replicas ready`);
  }
  return out;
}

/** A True Programmed condition says what serves it (the translator's message knows nothing of pods). */
function withMessage(conditions: unknown, message: string): unknown {
  if (!Array.isArray(conditions)) return conditions;
  return conditions.map((c: Condition) => (c?.type === 'Programmed' && c.status === 'True' ? { ...c, message } : c));
}
