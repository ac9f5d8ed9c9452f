// The whole pipeline with NATS as deployed: nats-server configured with the authorization block
// rendered from libs/eventlog/permissions.ts, every service connecting as its own user (its own
// GANTRY_NATS_URL, as in deploy/). Every real path runs under least privilege: the edge services'
// replays, publishes and leases, discovered Upstreams on the watcher's stream, the translator's
// follows, reports and snapshot events, the xds-server's nudges and proxy events, the reporter's
// follows and status files. A missing permission shows as a refusal some service logs, or a
// timeout; a granted one nobody needs is test/eventlog/permissions.test.ts's business.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { SERVICES } from '../../libs/service/index.ts';
import { until } from '../support/service-process.ts';
import { startPipeline, type Pipeline } from '../support/pipeline.ts';
import type { XdsClientResult, XdsGrpcClient } from '../support/xds-grpc-client.ts';

const TARGET = 'xds:///echo.test:8080';
const ECHO = '/gantry.test.Echo/Call';
const route = (backend: string) => `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: echo, namespace: default}
spec: {parentRefs: [{name: gw}], hostnames: [echo.test], rules: [{backendRefs: [{name: echo-${backend}, port: 9000}]}]}
`;
const only = (backend: string) => (r: XdsClientResult) => Object.keys(r.errors).length === 0 && (r.backends[backend] ?? 0) > 0
  && Object.values(r.backends).reduce((a, b) => a + b, 0) === r.backends[backend];
const condition = (file: string, type: string) => {
  if (!existsSync(file)) return undefined;
  const status = parse(readFileSync(file, 'utf8')).status;
  return [...(status.conditions ?? []), ...(status.parents ?? []).flatMap((p: { conditions: unknown[] }) => p.conditions)]
    .find((c: { type: string }) => c.type === type);
};

describe('the pipeline with one NATS user per service', { timeout: 180_000 }, () => {
  let p: Pipeline;
  let client: XdsGrpcClient;

  before(async () => {
    p = await startPipeline(['a', 'b'], { natsUsers: true });
    p.write('route.yaml', route('a'));
    client = await p.client('users-client');
  });
  after(async () => { await p?.stop(); });

  it('routes, and follows an edit, through every service', async () => {
    await client.runUntil({ target: TARGET, method: ECHO, count: 10 }, only('a'), 30_000);
    p.write('route.yaml', route('b'));
    await client.runUntil({ target: TARGET, method: ECHO, count: 10 }, only('b'), 15_000);
  });

  it('the reporter writes status from the translator\'s reports, discovered Upstreams included', async () => {
    const accepted = await until('the HTTPRoute\'s Accepted', () => condition(join(p.statusDir, 'HTTPRoute', 'default', 'echo.yaml'), 'Accepted'), 15_000);
    assert.equal(accepted.status, 'True');
    // endpoint-discovery published it on RESOURCES (the Upstream subjects only), the translator reported on it.
    const upstream = await until('the discovered Upstream\'s Accepted', () => condition(join(p.statusDir, 'Upstream', 'default', 'echo-a-9000.yaml'), 'Accepted'), 15_000);
    assert.equal(upstream.status, 'True');
  });

  it('every writer took its lease, and no service was refused anything or restarted', () => {
    for (const service of SERVICES.filter((s) => s !== 'xds-server')) {
      assert.ok(p.logs.some((l) => l.startsWith(`[${service}]`) && l.includes('lease acquired: leading')), `${service} leads`);
    }
    const refused = p.logs.filter((l) => /NATS refused|Permissions Violation|Authorization Violation/i.test(l));
    assert.deepEqual(refused, []);
    assert.deepEqual(p.logs.filter((l) => / exited \(code/.test(l)), []);
  });
});
