// GatewayParameters as the translator reads them: only to tell whether a Gateway's or a class's
// parametersRef resolves to a valid object (InvalidParameters otherwise). The reporter deploys the
// proxies with them (libs/provisioning); the schema is shared so both agree on what is valid.
import { z } from 'zod';
import { GANTRY_GROUP, PARAMETERS_KIND, ParametersSpec } from '../provisioning/parameters.ts';
import type { ObjectRecord, TranslatorState } from './index-state.ts';
import { namespacedMetadata } from './objects.ts';

export const GatewayParameters = z.object({ metadata: namespacedMetadata, spec: ParametersSpec.default({}) });
export type GatewayParameters = z.infer<typeof GatewayParameters>;

export interface ParametersRef { group: string; kind: string; name: string; namespace?: string }

/**
 * What is wrong with a parametersRef (`where` names the field), or undefined when it names a valid
 * GatewayParameters in `namespace`.
 */
export function parametersProblem(ref: ParametersRef, namespace: string | undefined, state: TranslatorState, where: string): string | undefined {
  if (ref.group !== GANTRY_GROUP || ref.kind !== PARAMETERS_KIND) {
    return `${where} ${ref.group || 'core'}/${ref.kind} ${ref.name}: only ${GANTRY_GROUP}/${PARAMETERS_KIND} is supported`;
  }
  // A GatewayClass's ref must say it (GatewayParameters are namespaced; the class is not).
  if (namespace === undefined) return `${where} ${PARAMETERS_KIND} ${ref.name}: a namespace is required`;
  const record: ObjectRecord<GatewayParameters> | undefined = state.gatewayParameters.get(`${namespace}/${ref.name}`);
  if (!record) return `${where}: GatewayParameters ${namespace}/${ref.name} not found`;
  if (!record.parsed.ok) return `${where}: GatewayParameters ${namespace}/${ref.name} is invalid: ${record.parsed.message}`;
  return undefined;
}
