// From a proxy's ACKs and NACKs to `gantry status`: a real xds-server reports them to PROXIES (a
// NACK of route configurations naming the routes whose rules they hold), and the reporter writes
// the proxies file of the Gateway and the routes' status, with real NATS and Redis.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { REPORT_SCHEMA, ReportEventSchema, subjects } from '../../libs/contracts/index.ts';
import { publishEvent } from '../../libs/eventlog/index.ts';
import type { EncodedResource, EncodedSnapshot } from '../../libs/snapshots/manifest.ts';
import { formatProxiesTable, readProxiesDir } from '../../libs/status/table.ts';
import { encode } from '../../libs/xds/encode.ts';
import { startReporter } from '../../services/reporter/reporter.ts';
import { adsClient, cluster, log, seedSnapshot, startEnv, tapProxyEvents, TYPES } from './helpers.ts';

const GW = 'default/web';
const { CLUSTER, ROUTE } = TYPES;

/** A route configuration whose Envoy routes are named the way the translator names them. */
function routes(name: string, prefix: string): EncodedResource {
  return {
    typeUrl: ROUTE, name,
    bytes: encode('envoy.config.route.v3.RouteConfiguration', {
      name,
      virtual_hosts: [{
        name: 'vh', domains: ['*'],
        routes: [
          { name: 'HTTPRoute/default/shop/rule/0/match/0', match: { prefix }, route: { cluster: 'echo' } },
          { name: 'GRPCRoute/default/api/rule/0/match/0', match: { prefix: '/api.Echo/' }, route: { cluster: 'echo' } },
        ],
      }],
    }),
  };
}
const snapshot = (prefix: string): EncodedSnapshot => ({
  gateway: GW, resources: [cluster('echo'), routes('default/web/http-80', prefix)], grpcRoutes: [], apiListeners: [],
});

const cond = (type: string, status = 'True', reason = type) => ({ type, status, reason, message: '', observedGeneration: 1, lastTransitionTime: '2024-01-01T00:00:00Z' });

async function eventually<T>(what: string, probe: () => T | undefined | false, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let v: T | undefined | false;
    try { v = probe(); } catch { v = undefined; }
    if (v !== undefined && v !== false) return v as T;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

test('ACKs and NACKs reach gantry status: the proxies table, the Gateway, and the routes whose rules were rejected', async () => {
  const env = await startEnv();
  const dir = mkdtempSync(join(tmpdir(), 'gantry-proxies-status-'));
  const tap = tapProxyEvents(env);
  const reporter = await startReporter({ eventLog: env.events, cluster: 'local', statusDir: dir, log });
  const c = adsClient(env.xds.port, { id: 'envoy-1', cluster: GW });
  try {
    let n = 0;
    const report = async (kind: string, name: string, status: Record<string, unknown>) => {
      const ref = { cluster: 'local', kind, namespace: 'default', name };
      await publishEvent(env.events.js, ReportEventSchema, subjects.report(ref), {
        schema: REPORT_SCHEMA, ...ref, apiVersion: 'gateway.networking.k8s.io/v1', generation: 1, op: 'upsert', status, emittedAt: new Date().toISOString(),
      }, `r-${++n}`);
    };
    const parents = (gw: string) => ({ parents: [{ parentRef: { name: gw }, controllerName: 'gantry.dev/gateway', conditions: [cond('Accepted'), cond('ResolvedRefs')] }] });
    await report('Gateway', 'web', { conditions: [cond('Accepted'), cond('Programmed')], listeners: [] });
    await report('HTTPRoute', 'shop', parents('web'));
    await report('HTTPRoute', 'elsewhere', parents('other'));
    await reporter.caughtUp;
    await seedSnapshot(env, snapshot('/v1'));

    c.send({ type_url: CLUSTER });
    const cds = await c.next(CLUSTER);
    c.send({ type_url: CLUSTER, version_info: cds.version_info, response_nonce: cds.nonce });
    c.send({ type_url: ROUTE, resource_names: ['default/web/http-80'] });
    const rds = await c.next(ROUTE);
    c.send({ type_url: ROUTE, resource_names: ['default/web/http-80'], response_nonce: rds.nonce, error_detail: { code: 3, message: 'route: invalid prefix' } });

    const nack = await tap.waitFor((e) => e.event === 'nack');
    assert.deepEqual(nack.objects, ['GRPCRoute/default/api', 'HTTPRoute/default/shop'], 'the routes the rejected configuration holds');
    assert.match(nack.stream ?? '', /^replica-1#\d+$/);

    const file = (p: string) => parse(readFileSync(join(dir, p), 'utf8'));
    const accepted = (p: string) => file(p).status.parents[0].conditions.find((x: { type: string }) => x.type === 'Accepted');
    await eventually('the route not Accepted', () => accepted('HTTPRoute/default/shop.yaml').status === 'False');
    assert.equal(accepted('HTTPRoute/default/shop.yaml').reason, 'UnsupportedValue');
    assert.match(accepted('HTTPRoute/default/shop.yaml').message, /rejected by proxy envoy-1: route: invalid prefix/);
    assert.equal(accepted('HTTPRoute/default/elsewhere.yaml').status, 'True', 'a route of another Gateway is untouched');
    await eventually('the Gateway not Programmed', () => file('Gateway/default/web.yaml').status.conditions[1].status === 'False');

    const table = await eventually('the proxies table', () => {
      const t = formatProxiesTable(readProxiesDir(dir).gateways);
      return /NACK/.test(t) && t.includes(cds.version_info) ? t : undefined;
    });
    const row = table.split('\n')[1];
    assert.match(row, new RegExp(`^default/web\\s+envoy-1\\s+-\\s+NACK\\s+${cds.version_info}\\s+-\\s+-\\s+replica-1\\s+\\S+\\s+RDS ${rds.version_info}: route: invalid prefix$`));

    // A fixed route configuration is ACKed: the route is Accepted again and the table shows the version.
    await seedSnapshot(env, snapshot('/v2'));
    const fixed = await c.next(ROUTE);
    c.send({ type_url: ROUTE, resource_names: ['default/web/http-80'], version_info: fixed.version_info, response_nonce: fixed.nonce });
    await eventually('the route Accepted again', () => accepted('HTTPRoute/default/shop.yaml').status === 'True');
    await eventually('RDS acked in the table', () => formatProxiesTable(readProxiesDir(dir).gateways).includes(fixed.version_info));

    // The proxy goes away: so does its Gateway's proxies file.
    c.close();
    await eventually('the proxies file removed', () => !existsSync(join(dir, '_proxies/default/web.yaml')));
  } finally {
    c.close();
    tap.stop();
    await reporter.stop();
    await env.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
