// Gateway API conformance, as a regression floor: every non-mesh case produces results, and the
// number of passing status checks and simulated requests never drops below what was measured.
// `npm run conformance -- --verbose` shows what fails and why.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadCases, scopeOf } from './cases.ts';
import { runConformance, totals } from './harness.ts';

// Measured when the harness was written. The floor only goes up: raise it when the translator
// passes more, never lower it to make a change pass.
const FLOOR = { statusPassed: 404, simulatedRequestsPassed: 262 };

test('conformance: every in-scope case is evaluated and the passing counts stay at or above the floor', () => {
  const results = runConformance();
  const cases = loadCases();
  const inScope = cases.filter((c) => scopeOf(c).run);
  assert.equal(results.filter((r) => r.scope === 'run').length, inScope.length);
  for (const c of inScope) {
    const r = results.find((x) => x.name === c.name)!;
    const expectedChecks = c.expectedStatus.length + (c.expectedListeners?.length ?? 0);
    assert.equal(r.status.length, expectedChecks, `${c.name}: a result for every status check`);
    assert.equal(r.requests.length, c.requests.length, `${c.name}: a result for every request`);
  }
  assert.equal(results.filter((r) => r.scope === 'mesh').length, cases.filter((c) => c.mesh).length);

  const t = totals(results);
  const summary = `status ${t.status.passed}/${t.status.total}, simulated requests ${t.requests.simulated.passed}/${t.requests.simulated.total}`;
  assert.ok(t.status.passed >= FLOOR.statusPassed, `passing status checks fell below the floor ${FLOOR.statusPassed}: ${summary}`);
  assert.ok(t.requests.simulated.passed >= FLOOR.simulatedRequestsPassed, `passing simulated requests fell below the floor ${FLOOR.simulatedRequestsPassed}: ${summary}`);
});
