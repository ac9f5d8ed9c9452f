// Corrections to conformance-cases.json where it restates the upstream test wrongly, each with the
// upstream code it follows. The kit is shared data: it is corrected here, on load, not edited.
import type { ConformanceCase } from './cases.ts';

interface Erratum {
  why: string;
  apply(c: ConformanceCase): void;
}

export const ERRATA: Record<string, Erratum> = {
  // conformance/tests/httproute-listener-port-matching.go (v1.6.1) takes three addresses,
  // gwAddr80 (listener-1), gwAddr8080 (listener-2) and gwAddr8090 (listener-4), and dials per
  // request by the Host header's port: ":8080" → gwAddr8080, ":8090" → gwAddr8090, anything else
  // (no port) → gwAddr80. The kit records the last address taken (listener-4, 8090) for all five.
  HTTPRouteListenerPortMatching: {
    why: 'each request is dialled to the port in its Host header (80 without one), not always 8090',
    apply(c) {
      const byPort: Record<number, string> = { 80: 'listener-1', 8080: 'listener-2', 8090: 'listener-4' };
      for (const r of c.requests) {
        const port = /:(\d+)$/.exec(r.host ?? '')?.[1];
        r.port = port === '8080' || port === '8090' ? Number(port) : 80;
        r.listener = byPort[r.port];
      }
    },
  },
};

export function applyErrata(cases: ConformanceCase[]): ConformanceCase[] {
  for (const c of cases) ERRATA[c.name]?.apply(c);
  return cases;
}
