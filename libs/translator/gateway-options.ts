// VirtualHostOptions and ListenerOptions applied to a Gateway's HTTP IR. Both target a Gateway, the
// whole of it or one of its own HTTP/HTTPS listeners (sectionName); on each target the options merge
// field by field (options.ts), a listener's own options before the Gateway's.
//
// - VirtualHostOption: a virtual host belongs to the listener owning its domain (virtual-hosts.ts),
//   so one naming a listener applies to that listener's virtual hosts; one naming the Gateway, to
//   every virtual host of the Gateway (ListenerSet listeners' included).
// - ListenerOption: Envoy has one listener, and one connection manager per HTTPS filter chain, per
//   port, and a connection is accepted before its Host is known. So an option naming a listener
//   applies to its port's Envoy listener, which the port's other listeners share: options naming
//   different listeners of one port compete like options on one target.
//
// The options travel on the IR (VirtualHostIR.options, HttpPortIR.listenerOptions) to envoy/. A
// virtual host with options is a derived object kept while its IR and its options are the same
// objects, so the Envoy virtual host memo (envoy/route-config.ts) still reuses unchanged ones.
import type { GatewayModel, ListenerModel } from './gateway.ts';
import type { TranslatorState } from './index-state.ts';
import { ANY_HOST } from './hostnames.ts';
import type { GatewayIR, VirtualHostIR } from './ir.ts';
import type { OptionRecord } from './option-index.ts';
import { mergeOptions, sameItems, type ListenerOptionsIR, type Merged, type VirtualHostOptionsIR } from './options.ts';

export interface GatewayOptionsPlan {
  /** Per virtual host owner: "<port>/<listener hostname or *>". */
  virtualHosts: Map<string, Merged<VirtualHostOptionsIR>>;
  /** Per HTTP port. */
  listeners: Map<number, Merged<ListenerOptionsIR>>;
}

export const isHttpListener = (l: Pick<ListenerModel, 'protocol'>) => l.protocol === 'HTTP' || l.protocol === 'HTTPS';

const ownerKey = (port: number, listenerHostname: string) => `${port}/${listenerHostname}`;

/** Which of the Gateway's own listeners (by name) `record` names, and whether it names the whole Gateway. */
function refsTo(record: OptionRecord, gateway: GatewayModel): { sections: Set<string>; whole: boolean } {
  const sections = new Set<string>();
  let whole = false;
  if (!record.parsed.ok) return { sections, whole };
  for (const t of record.parsed.value.spec.targetRefs) {
    if (t.kind !== 'Gateway' || t.name !== gateway.id.name || (t.namespace ?? record.id.namespace) !== gateway.id.namespace) continue;
    if (t.sectionName === undefined) whole = true;
    else sections.add(t.sectionName);
  }
  return { sections, whole };
}

/** `previous`: the plan for the same Gateway model before, whose unchanged targets are kept as they were. */
function plan(gateway: GatewayModel, records: OptionRecord[], previous: GatewayOptionsPlan | undefined): GatewayOptionsPlan {
  const refs = records.map((record) => ({ record, ...refsTo(record, gateway) }));
  const of = (kind: string) => refs.filter((r) => r.record.id.kind === kind);
  const vhos = of('VirtualHostOption');
  const los = of('ListenerOption');
  const listeners = gateway.listeners.filter((l) => l.usable && isHttpListener(l));
  const where = `Gateway ${gateway.key}`;
  const virtualHosts = new Map<string, Merged<VirtualHostOptionsIR>>();
  for (const l of listeners) {
    const key = ownerKey(l.port, l.hostname ?? ANY_HOST);
    if (virtualHosts.has(key)) continue;
    const ranked = [...vhos.filter((r) => !l.owner && r.sections.has(l.name)), ...vhos.filter((r) => r.whole)].map((r) => r.record);
    virtualHosts.set(key, mergeOptions(ranked, `${where} listener ${l.owner ? `${l.owner.key}/` : ''}${l.name}`, previous?.virtualHosts.get(key)));
  }
  const ports = new Map<number, Merged<ListenerOptionsIR>>();
  for (const port of new Set(listeners.map((l) => l.port))) {
    const own = new Set(listeners.filter((l) => !l.owner && l.port === port).map((l) => l.name));
    const ranked = [...los.filter((r) => [...r.sections].some((s) => own.has(s))), ...los.filter((r) => r.whole)].map((r) => r.record);
    ports.set(port, mergeOptions(ranked, `${where} port ${port}`, previous?.listeners.get(port)));
  }
  return { virtualHosts, listeners: ports };
}

const plans = new WeakMap<GatewayModel, { records: OptionRecord[]; plan: GatewayOptionsPlan }>();

/** The options reaching `gateway` (its model with ListenerSets merged), per target; undefined when none does. */
export function gatewayOptionsPlan(state: TranslatorState, gateway: GatewayModel): GatewayOptionsPlan | undefined {
  const records = state.optionLinks.targeting(`Gateway/${gateway.key}`);
  if (records.length === 0) return undefined;
  const known = plans.get(gateway);
  if (known && sameItems(known.records, records)) return known.plan;
  const out = plan(gateway, records, known?.plan);
  plans.set(gateway, { records, plan: out });
  return out;
}

const optioned = new WeakMap<VirtualHostIR, { options: VirtualHostOptionsIR; vh: VirtualHostIR }>();

function withOptions(vh: VirtualHostIR, options: VirtualHostOptionsIR): VirtualHostIR {
  const known = optioned.get(vh);
  if (known?.options === options) return known.vh;
  const out = { ...vh, options };
  optioned.set(vh, { options, vh: out });
  return out;
}

/** The HTTP IR with the options of `plan` on its virtual hosts and ports. */
export function applyGatewayOptions(ir: GatewayIR, plan: GatewayOptionsPlan | undefined): GatewayIR {
  if (!plan) return ir;
  const ports = ir.ports.map((port) => {
    const listenerOptions = plan.listeners.get(port.port)?.options;
    const virtualHosts = port.virtualHosts.map((vh) => {
      const options = plan.virtualHosts.get(ownerKey(port.port, vh.listenerHostname))?.options;
      return options ? withOptions(vh, options) : vh;
    });
    return listenerOptions ? { ...port, virtualHosts, listenerOptions } : { ...port, virtualHosts };
  });
  return { ...ir, ports };
}
