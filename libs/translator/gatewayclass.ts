// GatewayClasses: which ones are ours, and their status. A class of another controller gets no
// report at all, so that two controllers never fight over one status.
import type { StatusReport } from './api.ts';
import type { TranslatorState } from './index-state.ts';
import { parametersProblem } from './parameters-objects.ts';
import { notOk, ok, report, stampFor } from './status.ts';

/** Names of the valid classes whose controllerName is ours. */
export function acceptedClasses(state: TranslatorState, controllerName: string): Set<string> {
  const names = new Set<string>();
  for (const [name, record] of state.gatewayClasses) {
    if (record.parsed.ok && record.parsed.value.spec.controllerName === controllerName) names.add(name);
  }
  return names;
}

export function gatewayClassReports(
  state: TranslatorState, classes: Set<string>, gatewaysByClass: Map<string, string[]>, now: string,
): StatusReport[] {
  return [...classes].sort().map((name) => {
    const record = state.gatewayClasses.get(name)!;
    const stamp = stampFor(record.id.generation, now);
    const ref = record.parsed.ok ? record.parsed.value.spec.parametersRef : undefined;
    const problem = ref && parametersProblem(ref, ref.namespace, state, 'parametersRef');
    const conditions = [
      stamp('Accepted', problem ? notOk('InvalidParameters', problem) : ok('Accepted', 'Accepted by this controller')),
      stamp('SupportedVersion', ok('SupportedVersion', 'Gateway API version is supported')),
    ];
    return report(record.id, { conditions }, gatewaysByClass.get(name) ?? []);
  });
}
