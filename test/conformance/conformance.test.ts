// Gateway API conformance, as a regression floor: every non-mesh case produces results, and the
// number of passing status checks, simulated requests and real requests (gRPC requests made by a
// real @grpc/grpc-js-xds client through the xds-server, real-grpc.ts) never drops below what was
// measured. `npm run conformance -- --verbose` shows what fails and why.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadCases, scopeOf } from './cases.ts';
import { totals } from './harness.ts';
import { runConformanceReal } from './real-grpc.ts';

// Measured after listener isolation and the gRPC variant's catch-all (a call no route matches
// fails UNIMPLEMENTED, as Envoy's 404 does): status 408/408, simulated 271/274 (the 3 are CORS
// preflights expecting access-control-expose-headers, which Envoy only adds to actual responses),
// real 14/14. The floor only goes up:
const FLOOR = { statusPassed: 408, simulatedRequestsPassed: 271, realRequestsPassed: 14, realRequests: 14 };

test('conformance: every in-scope case is evaluated and the passing counts stay at or above the floor', async () => {
  const { results, real } = await runConformanceReal();
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
  assert.deepEqual(real.errors, [], 'the real gRPC run could not start');

  const t = totals(results);
  const summary = `status ${t.status.passed}/${t.status.total}, simulated requests ${t.requests.simulated.passed}/${t.requests.simulated.total}, real requests ${t.requests.real.passed}/${t.requests.real.total}`;
  assert.ok(t.requests.real.total >= FLOOR.realRequests, `fewer gRPC requests made for real than ${FLOOR.realRequests}: ${summary}`);
  assert.ok(t.status.passed >= FLOOR.statusPassed, `passing status checks fell below the floor ${FLOOR.statusPassed}: ${summary}`);
  assert.ok(t.requests.simulated.passed >= FLOOR.simulatedRequestsPassed, `passing simulated requests fell below the floor ${FLOOR.simulatedRequestsPassed}: ${summary}`);
  assert.ok(t.requests.real.passed >= FLOOR.realRequestsPassed, `passing real requests fell below the floor ${FLOOR.realRequestsPassed}: ${summary}`);
});
