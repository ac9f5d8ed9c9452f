// The status the reporter writes to the API server (pure). Route and policy statuses are shared
// between controllers: each owns its entries of `parents` (routes) or `ancestors` (policies), told
// apart by `controllerName`, so Gantry replaces only its own and keeps the others'. Everything
// else in a status is Gantry's own (Gateways and GatewayClasses of its class).
type Obj = Record<string, any>;

const SHARED_LISTS = ['parents', 'ancestors'] as const;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export function stableJson(v: unknown): string {
  return JSON.stringify(v, (_k, x) => (isObj(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : x));
}

/**
 * The status the object should have: `ours` (the report's; null when Gantry no longer reports on
 * the object) merged with the other controllers' entries of `live`.
 */
export function desiredStatus(live: Obj | undefined, ours: Obj | null, controllerName: string): Obj {
  const out: Obj = ours ? { ...ours } : { ...(live ?? {}) };
  for (const key of SHARED_LISTS) {
    const others = Array.isArray(live?.[key]) ? live![key].filter((e: unknown) => !isObj(e) || e.controllerName !== controllerName) : [];
    const mine = ours ? (Array.isArray(ours[key]) ? ours[key] : []) : [];
    if (others.length + mine.length > 0 || (live && key in live) || (ours && key in ours)) out[key] = [...others, ...mine];
  }
  return out;
}

/** The JSON merge patch body turning `live` into `want` (keys only `live` has are set to null). */
export function statusMergePatch(live: Obj | undefined, want: Obj): Obj {
  const patch: Obj = { ...want };
  for (const k of Object.keys(live ?? {})) if (!(k in want)) patch[k] = null;
  return patch;
}
