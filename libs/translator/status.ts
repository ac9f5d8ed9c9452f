// Kubernetes conditions and status reports. Every condition carries the generation it was computed
// from, so a reader can tell a stale status from a current one.
import type { StatusReport } from './api.ts';
import type { ObjectIdentity } from './index-state.ts';

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  observedGeneration: number;
  lastTransitionTime: string;
}

/** A condition before it is stamped with generation and time: what the translation decided. */
export interface Verdict {
  status: 'True' | 'False';
  reason: string;
  message: string;
}

export const ok = (reason: string, message = ''): Verdict => ({ status: 'True', reason, message });
export const notOk = (reason: string, message: string): Verdict => ({ status: 'False', reason, message });

/** Stamps verdicts into conditions; one per object, as they share generation and time. */
export interface ConditionStamp {
  (type: string, verdict: Verdict): Condition;
}

export function stampFor(generation: number, now: string): ConditionStamp {
  return (type, verdict) => ({ type, ...verdict, observedGeneration: generation, lastTransitionTime: now });
}

export function report(id: ObjectIdentity, status: Record<string, unknown>, gateways: string[]): StatusReport {
  return {
    cluster: id.cluster,
    apiVersion: id.apiVersion,
    kind: id.kind,
    namespace: id.namespace,
    name: id.name,
    generation: id.generation,
    status,
    gateways: [...new Set(gateways)].sort(),
  };
}

export function compareReports(a: StatusReport, b: StatusReport): number {
  const ka = `${a.kind}\0${a.namespace}\0${a.name}`;
  const kb = `${b.kind}\0${b.namespace}\0${b.name}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}
