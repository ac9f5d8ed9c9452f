// Gantry's option kinds (RouteOption, VirtualHostOption, ListenerOption): what each puts into Envoy's
// configuration, how they attach (targetRefs, sectionName, ExtensionRef), which wins where several
// reach one target, and the status of each. Every snapshot is encoded strictly at the end, and the
// gRPC variants are checked with @grpc/grpc-js-xds's own validation.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, test } from 'node:test';
import type { KubeObject, TranslateResult } from '../../../libs/translator/api.ts';
import { encodeGatewaySnapshot, snapshotToJson } from '../../../libs/snapshots/encode.ts';
import { evaluate, headerValue, type EnvoyConfig } from '../../conformance/route-evaluator.ts';
import { encode } from '../../../libs/xds/encode.ts';
import type { HttpConnectionManager, Listener, Route, RouteConfiguration, VirtualHost } from '../../../libs/xds/types.ts';
import { makePki, tlsSecret } from './certs.ts';
import {
  condition, encodeEverySnapshot, gateway, gatewayClass, GW_API, grpcRoute, httpListener, httpRoute, reportOf, routeParent, run, service, unpack,
} from './fixtures.ts';

const OPTION_API = 'gateway.gantry.dev/v1alpha1';
const GW_GROUP = 'gateway.networking.k8s.io';

function option(kind: 'RouteOption' | 'VirtualHostOption' | 'ListenerOption', name: string, spec: Record<string, unknown>, metadata: Record<string, unknown> = {}): KubeObject {
  return { apiVersion: OPTION_API, kind, metadata: { name, namespace: 'default', generation: 1, ...metadata }, spec };
}
const routeOption = (name: string, spec: Record<string, unknown>, metadata?: Record<string, unknown>) => option('RouteOption', name, spec, metadata);
const toRoute = (name: string, sectionName?: string, kind = 'HTTPRoute') => ({ group: GW_GROUP, kind, name, ...(sectionName ? { sectionName } : {}) });
const toGateway = (sectionName?: string, name = 'gw') => ({ group: GW_GROUP, kind: 'Gateway', name, ...(sectionName ? { sectionName } : {}) });
const at = (day: number) => ({ creationTimestamp: `2025-01-0${day}T00:00:00Z` });
const extensionRef = (name: string) => ({ type: 'ExtensionRef', extensionRef: { group: 'gateway.gantry.dev', kind: 'RouteOption', name } });

const SVC = service('default', 'svc', [{ port: 80 }]);
const base = (...more: KubeObject[]) => [gatewayClass(), gateway('gw', [httpListener('http', 80)]), ...more];
/** Route "r": rule "api" (/api) and rule "web" (everything else). */
const routeR = (api: Record<string, unknown> = {}) => httpRoute('r', {
  parentRefs: [{ name: 'gw' }],
  rules: [
    { name: 'api', matches: [{ path: { type: 'PathPrefix', value: '/api' } }], backendRefs: [{ name: 'svc', port: 80 }], ...api },
    { name: 'web', backendRefs: [{ name: 'svc', port: 80 }] },
  ],
});

function translate(...objects: KubeObject[]): TranslateResult {
  return run(objects, [SVC]);
}

const config = (r: TranslateResult, gw = 'default/gw'): RouteConfiguration => r.snapshots.get(gw)!.routes[0];
const vhosts = (rc: RouteConfiguration): VirtualHost[] => rc.virtual_hosts ?? [];
/** The first Envoy route of rule `rule` of HTTPRoute default/r. */
function envoyRoute(r: TranslateResult, rule: string, kind = 'HTTPRoute', name = 'r'): Route {
  const found = vhosts(config(r)).flatMap((vh) => vh.routes ?? []).find((x) => x.name?.startsWith(`${kind}/default/${name}/rule/${rule}/`));
  assert.ok(found, `an Envoy route for rule ${rule}`);
  return found;
}
const status = (r: TranslateResult, kind: string, name: string, type = 'Accepted', ns = 'default') => condition(reportOf(r, kind, name, ns)?.status.conditions ?? [], type);
const hcmOf = (l: Listener, chain = 0): HttpConnectionManager => unpack('envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager', l.filter_chains![chain].filters![0].typed_config) as HttpConnectionManager;
const headers = (list: Route['request_headers_to_add']) => (list ?? []).map((h) => `${h.header!.key}=${h.header!.value}`);

// @grpc/grpc-js-xds's own RouteConfiguration validation (what a proxyless client NACKs), loaded
// after its filters (fault injection) are registered, as a client has them.
const require = createRequire(import.meta.url);
require('@grpc/grpc-js-xds').register();
const { RouteConfigurationResourceType } = require('@grpc/grpc-js-xds/build/src/xds-resource-type/route-config-resource-type.js');
function grpcAccepts(rc: RouteConfiguration): string | undefined {
  const bytes = encode('envoy.config.route.v3.RouteConfiguration', rc);
  return RouteConfigurationResourceType.get().decode({}, { type_url: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration', value: bytes }).error;
}

after(() => assert.ok(encodeEverySnapshot() > 0));

test('a RouteOption by targetRefs sets timeouts, retries, headers, CORS, faults and a local rate limit on every rule of the route', () => {
  const r = translate(...base(routeR(), routeOption('all', {
    targetRefs: [toRoute('r')],
    options: {
      timeouts: { request: '3s', idle: '1m' },
      retries: { retryOn: ['5xx', 'retriable-status-codes'], retriableStatusCodes: [503], numRetries: 2, perTryTimeout: '1s', backoffBaseInterval: '100ms' },
      headerManipulation: { request: { set: [{ name: 'x-a', value: '1' }] }, response: { remove: ['Server'] } },
      cors: { allowOrigins: ['https://a.example'] },
      faults: { abort: { percentage: 12.5, httpStatus: 503 }, delay: { percentage: 50, fixedDelay: '2s' } },
      localRateLimit: { maxTokens: 5, tokensPerFill: 2, fillInterval: '1s' },
    },
  })));
  for (const rule of ['api', 'web']) {
    const route = envoyRoute(r, rule);
    assert.deepEqual(route.route?.timeout, { seconds: 3 });
    assert.deepEqual(route.route?.idle_timeout, { seconds: 60 });
    assert.deepEqual(route.route?.retry_policy, {
      retry_on: '5xx,retriable-status-codes', retriable_status_codes: [503], num_retries: { value: 2 },
      retry_back_off: { base_interval: { seconds: 0, nanos: 100_000_000 } }, per_try_timeout: { seconds: 1 },
    });
    assert.deepEqual(headers(route.request_headers_to_add), ['x-a=1']);
    assert.deepEqual(route.response_headers_to_remove, ['server']);
    const typed = route.typed_per_filter_config!;
    assert.deepEqual(Object.keys(typed).sort(), ['envoy.filters.http.cors', 'envoy.filters.http.fault', 'envoy.filters.http.local_ratelimit']);
    const fault = unpack('envoy.extensions.filters.http.fault.v3.HTTPFault', typed['envoy.filters.http.fault']);
    assert.equal(fault.abort.http_status, 503);
    assert.deepEqual(fault.abort.percentage, { numerator: 125_000, denominator: 'MILLION' });
    assert.deepEqual(fault.delay.fixed_delay, { seconds: '2' });
    const limit = unpack('envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit', typed['envoy.filters.http.local_ratelimit']);
    assert.deepEqual([limit.token_bucket.max_tokens, limit.token_bucket.tokens_per_fill.value, limit.token_bucket.fill_interval.seconds], [5, 2, '1']);
    assert.equal(limit.filter_enforced.default_value.numerator, 100, 'enforced for every request');
  }
  // The connection manager has both filters (inert without a per-route configuration), before the router.
  const names = hcmOf(r.snapshots.get('default/gw')!.listeners[0]).http_filters!.map((f) => f.name);
  assert.deepEqual(names, ['envoy.filters.http.cors', 'envoy.filters.http.local_ratelimit', 'envoy.filters.http.fault', 'envoy.filters.http.router']);
  assert.equal(status(r, 'RouteOption', 'all')?.status, 'True');
  assert.equal(status(r, 'RouteOption', 'all')?.message, 'applies to HTTPRoute default/r');
  assert.equal(status(r, 'RouteOption', 'all', 'Conflicted')?.reason, 'NoConflicts');
  assert.deepEqual(reportOf(r, 'RouteOption', 'all')?.gateways, ['default/gw'], 'the Gateways of the routes it reaches');
  const parent = routeParent(r, 'HTTPRoute', 'r', 'gw')!;
  assert.deepEqual(parent.conditions.map((c) => `${c.type}=${c.status}`), ['Accepted=True', 'ResolvedRefs=True']);
});

test('sectionName names one rule; a rule or route that does not exist is TargetNotFound', () => {
  const r = translate(...base(routeR(),
    routeOption('api-only', { targetRefs: [toRoute('r', 'api')], options: { timeouts: { request: '3s' } } }),
    routeOption('no-rule', { targetRefs: [toRoute('r', 'nope')], options: { timeouts: { request: '4s' } } }),
    routeOption('no-route', { targetRefs: [toRoute('gone'), toRoute('r', 'nope', 'GRPCRoute')], options: { timeouts: { request: '4s' } } }),
  ));
  assert.deepEqual(envoyRoute(r, 'api').route?.timeout, { seconds: 3 });
  assert.equal(envoyRoute(r, 'web').route?.timeout, undefined);
  assert.equal(status(r, 'RouteOption', 'api-only')?.message, 'applies to HTTPRoute default/r rule api');
  const noRule = status(r, 'RouteOption', 'no-rule')!;
  assert.deepEqual([noRule.status, noRule.reason], ['False', 'TargetNotFound']);
  assert.match(noRule.message, /spec\.targetRefs\[0\]: HTTPRoute default\/r has no rule named nope/);
  const noRoute = status(r, 'RouteOption', 'no-route')!;
  assert.deepEqual([noRoute.status, noRoute.reason], ['False', 'TargetNotFound']);
  assert.match(noRoute.message, /HTTPRoute default\/gone not found; spec\.targetRefs\[1\]: GRPCRoute default\/r not found/);
  assert.equal(status(r, 'RouteOption', 'no-rule', 'Conflicted'), undefined, 'only an Accepted option says whether it conflicts');
});

test('an ExtensionRef filter applies a RouteOption to its rule, ahead of targetRefs, field by field; the loser is told', () => {
  const r = translate(...base(
    routeR({ filters: [extensionRef('own')] }),
    routeOption('wide', { targetRefs: [toRoute('r')], options: { timeouts: { request: '10s' }, headerManipulation: { request: { add: [{ name: 'x-wide', value: '1' }] } } } }, at(1)),
    routeOption('own', { options: { timeouts: { request: '2s' } } }, at(2)),
  ));
  const api = envoyRoute(r, 'api');
  assert.deepEqual(api.route?.timeout, { seconds: 2 }, 'the rule\'s own (ExtensionRef) option wins, although newer');
  assert.deepEqual(headers(api.request_headers_to_add), ['x-wide=1'], 'fields it does not set come from the targetRefs option');
  assert.deepEqual(envoyRoute(r, 'web').route?.timeout, { seconds: 10 });
  const lost = status(r, 'RouteOption', 'wide', 'Conflicted')!;
  assert.deepEqual([lost.status, lost.reason], ['True', 'Overridden']);
  assert.equal(lost.message, 'overridden: spec.options.timeouts on HTTPRoute default/r rule api (RouteOption default/own takes precedence)');
  assert.equal(status(r, 'RouteOption', 'wide')?.status, 'True', 'still Accepted: it applies elsewhere');
  assert.equal(status(r, 'RouteOption', 'own')?.message, 'applies to HTTPRoute default/r (ExtensionRef)');
  assert.equal(status(r, 'RouteOption', 'own', 'Conflicted')?.status, 'False');
  assert.equal(condition(routeParent(r, 'HTTPRoute', 'r', 'gw')!.conditions, 'ResolvedRefs')?.status, 'True');
});

test('a RouteOption without targetRefs that no rule names yet is Accepted and applies nowhere', () => {
  const r = translate(...base(routeR(), routeOption('spare', { options: { timeouts: { request: '2s' } } })));
  assert.equal(status(r, 'RouteOption', 'spare')?.status, 'True');
  assert.match(status(r, 'RouteOption', 'spare')!.message, /none does yet/);
  assert.equal(envoyRoute(r, 'api').route?.timeout, undefined);
});

test('an ExtensionRef to a missing or invalid RouteOption: ResolvedRefs=False and the rule answers 500, the others are served', () => {
  const missing = translate(...base(routeR({ filters: [extensionRef('nope')] })));
  assert.deepEqual(envoyRoute(missing, 'api').direct_response, { status: 500 });
  assert.ok(envoyRoute(missing, 'web').route?.cluster);
  const refs = condition(routeParent(missing, 'HTTPRoute', 'r', 'gw')!.conditions, 'ResolvedRefs')!;
  assert.deepEqual([refs.status, refs.reason], ['False', 'RouteOptionNotFound']);
  assert.match(refs.message, /filters\[0\]\.extensionRef: RouteOption default\/nope not found/);

  const invalid = translate(...base(routeR({ filters: [extensionRef('bad')] }), routeOption('bad', { options: { timeouts: { request: 'soon' } } })));
  assert.deepEqual(envoyRoute(invalid, 'api').direct_response, { status: 500 });
  assert.equal(condition(routeParent(invalid, 'HTTPRoute', 'r', 'gw')!.conditions, 'ResolvedRefs')?.reason, 'RouteOptionInvalid');

  const onBackend = translate(...base(httpRoute('r', { parentRefs: [{ name: 'gw' }], rules: [{ backendRefs: [{ name: 'svc', port: 80, filters: [extensionRef('x')] }] }] })));
  assert.match(condition(routeParent(onBackend, 'HTTPRoute', 'r', 'gw')!.conditions, 'ResolvedRefs')!.message, /applies to a whole rule/);
});

test('several RouteOptions on one rule: a sectionName beats the whole route, then the oldest wins each field', () => {
  const r = translate(...base(routeR(),
    routeOption('b-old', { targetRefs: [toRoute('r')], options: { timeouts: { request: '5s' } } }, at(1)),
    routeOption('a-new', { targetRefs: [toRoute('r')], options: { timeouts: { request: '9s' }, faults: { abort: { percentage: 1, httpStatus: 500 } } } }, at(2)),
    routeOption('section', { targetRefs: [toRoute('r', 'web')], options: { timeouts: { request: '1s' } } }, at(3)),
  ));
  assert.deepEqual(envoyRoute(r, 'api').route?.timeout, { seconds: 5 }, 'the oldest, although its name sorts last');
  assert.ok(envoyRoute(r, 'api').typed_per_filter_config?.['envoy.filters.http.fault'], 'the newer one fills the fields the oldest leaves');
  assert.deepEqual(envoyRoute(r, 'web').route?.timeout, { seconds: 1 }, 'the rule\'s own targetRef wins, although newest');
  assert.equal(status(r, 'RouteOption', 'b-old', 'Conflicted')?.message,
    'overridden: spec.options.timeouts on HTTPRoute default/r rule web (RouteOption default/section takes precedence)');
  assert.equal(status(r, 'RouteOption', 'a-new', 'Conflicted')?.message,
    'overridden: spec.options.timeouts on HTTPRoute default/r rule api (RouteOption default/b-old takes precedence), '
    + 'spec.options.timeouts on HTTPRoute default/r rule web (RouteOption default/section takes precedence)');
  assert.equal(status(r, 'RouteOption', 'section', 'Conflicted')?.status, 'False');
});

test('the route\'s own Gateway API settings win over a RouteOption\'s where both say the same thing', () => {
  const r = translate(...base(routeR({
    timeouts: { request: '7s' },
    retry: { codes: [502], attempts: 3 },
    filters: [{ type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'X-A', value: 'rule' }] } }],
  }), routeOption('o', {
    targetRefs: [toRoute('r')],
    options: {
      timeouts: { request: '3s', idle: '9s' },
      retries: { retryOn: ['5xx'], perTryTimeout: '2s' },
      headerManipulation: { request: { set: [{ name: 'x-a', value: 'option' }, { name: 'x-b', value: 'option' }] } },
    },
  })));
  const api = envoyRoute(r, 'api');
  assert.deepEqual(api.route?.timeout, { seconds: 7 });
  assert.deepEqual(api.route?.idle_timeout, { seconds: 9 }, 'what the rule has no field for comes from the option');
  assert.equal(api.route?.retry_policy?.retry_on, 'retriable-status-codes,connect-failure,refused-stream,reset', 'the rule\'s retry, as a whole');
  assert.equal(api.route?.retry_policy?.per_try_timeout, undefined);
  assert.deepEqual(headers(api.request_headers_to_add), ['x-b=option', 'X-A=rule'], 'the option\'s change to a header the rule names is dropped');
  const web = envoyRoute(r, 'web');
  assert.deepEqual(web.route?.retry_policy, { retry_on: '5xx', num_retries: { value: 1 }, per_try_timeout: { seconds: 2 } });
});

test('a simulated request gets the option\'s header changes and timeout, the rule\'s own header winning', () => {
  const r = translate(...base(routeR({ filters: [{ type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'x-a', value: 'rule' }] } }] }),
    routeOption('o', { targetRefs: [toRoute('r')], options: {
      timeouts: { request: '3s' },
      headerManipulation: { request: { set: [{ name: 'x-a', value: 'option' }, { name: 'x-b', value: 'option' }] } },
    } })));
  const config = snapshotToJson(encodeGatewaySnapshot(r.snapshots.get('default/gw')!)) as unknown as EnvoyConfig;
  for (const [path, a] of [['/api/x', 'rule'], ['/other', 'option']] as const) {
    const out = evaluate(config, { port: 80, scheme: 'http', host: 'any.example.com', path });
    assert.deepEqual([out.kind, out.unmodelled], ['route', []], path);
    assert.equal(out.timeoutSeconds, 3, path);
    const [backend] = out.backends;
    assert.deepEqual([headerValue(backend.request.headers, 'x-a'), headerValue(backend.request.headers, 'x-b')], [a, 'option'], path);
  }
});

test('an invalid RouteOption is Accepted=False/Invalid naming the field, and changes nothing', () => {
  /** Every resource of the Gateway's snapshot, gRPC variants included, as name and bytes. */
  const bytes = (r: TranslateResult) => {
    const e = encodeGatewaySnapshot(r.snapshots.get('default/gw')!);
    return [...e.resources, ...e.grpcRoutes].map((x) => `${x.name} ${x.bytes.toString('base64')}`);
  };
  const clean = bytes(translate(...base(routeR())));
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['duration', { timeouts: { request: 'soon' } }, /spec\.options\.timeouts\.request: must be a Gateway API duration/],
    ['misspelt', { timeout: { request: '1s' } }, /spec\.options: Unrecognized key: "timeout"/],
    ['fill', { localRateLimit: { maxTokens: 1, fillInterval: '10ms' } }, /^spec\.options\.localRateLimit\.fillInterval: must be at least 50ms/],
    ['codes', { retries: { retryOn: ['retriable-status-codes'] } }, /retriableStatusCodes go together/],
    ['backoff', { retries: { retryOn: ['5xx'], backoffBaseInterval: '0s' } }, /backoffBaseInterval: must be longer than 0/],
    ['percent', { faults: { abort: { percentage: 101, httpStatus: 503 } } }, /spec\.options\.faults\.abort\.percentage/],
    ['empty-faults', { faults: {} }, /spec\.options\.faults: set abort, delay or both/],
  ];
  for (const [name, options, message] of cases) {
    const r = translate(...base(routeR(), routeOption(name, { targetRefs: [toRoute('r')], options })));
    const c = status(r, 'RouteOption', name)!;
    assert.deepEqual([c.status, c.reason], ['False', 'Invalid'], name);
    assert.match(c.message, message, name);
    assert.deepEqual(bytes(r), clean, `${name}: nothing changes`);
  }
});

test('targetRefs into another namespace are ignored (NotAllowed); an option reaches its own namespace only', () => {
  const theirs = httpRoute('r', { parentRefs: [{ name: 'gw', namespace: 'default' }], rules: [{ backendRefs: [{ name: 'svc', port: 80, namespace: 'default' }] }] }, { namespace: 'other' });
  const open = gateway('gw', [httpListener('http', 80, { allowedRoutes: { namespaces: { from: 'All' } } })]);
  const r = translate(gatewayClass(), open, routeR(), theirs,
    routeOption('reach', { targetRefs: [{ ...toRoute('r'), namespace: 'other' }], options: { timeouts: { request: '3s' } } }),
    routeOption('mixed', { targetRefs: [{ ...toRoute('r'), namespace: 'other' }, toRoute('r', 'api')], options: { timeouts: { request: '4s' } } }),
  );
  const c = status(r, 'RouteOption', 'reach')!;
  assert.deepEqual([c.status, c.reason], ['False', 'NotAllowed']);
  assert.match(c.message, /HTTPRoute other\/r is in another namespace/);
  const other = vhosts(config(r)).flatMap((vh) => vh.routes ?? []).find((x) => x.name?.startsWith('HTTPRoute/other/r/'))!;
  assert.equal(other.route?.timeout, undefined, 'the other namespace\'s route is untouched');
  assert.deepEqual(envoyRoute(r, 'api').route?.timeout, { seconds: 4 });
  assert.match(status(r, 'RouteOption', 'mixed')!.message, /^applies to HTTPRoute default\/r rule api; ignored: spec\.targetRefs\[0\]: HTTPRoute other\/r is in another namespace/);
});

test('a GRPCRoute takes RouteOptions; its gRPC variant keeps the faults and retries proxyless clients run, and they accept it', () => {
  const r = translate(...base(
    grpcRoute('g', { parentRefs: [{ name: 'gw' }], hostnames: ['rpc.example.com'], rules: [{ name: 'echo', matches: [{ method: { service: 'echo.Echo' } }], backendRefs: [{ name: 'svc', port: 80 }], filters: [extensionRef('rpc')] }] }),
    routeOption('rpc', { options: { faults: { abort: { percentage: 50, httpStatus: 503 } }, localRateLimit: { maxTokens: 9, fillInterval: '1s' }, retries: { retryOn: ['unavailable'], numRetries: 3, backoffBaseInterval: '50ms' }, cors: { allowOrigins: ['*'] } } }),
    option('VirtualHostOption', 'vh', { targetRefs: [toGateway()], options: { cors: { allowOrigins: ['*'] }, localRateLimit: { maxTokens: 9, fillInterval: '1s' }, retries: { retryOn: ['cancelled'] }, headerManipulation: { response: { add: [{ name: 'x-vh', value: '1' }] } } } }),
  ));
  const envoy = envoyRoute(r, 'echo', 'GRPCRoute', 'g');
  assert.deepEqual(Object.keys(envoy.typed_per_filter_config!).sort(), ['envoy.filters.http.cors', 'envoy.filters.http.fault', 'envoy.filters.http.local_ratelimit']);
  const variant = r.snapshots.get('default/gw')!.grpcRoutes[0];
  const host = vhosts(variant).find((vh) => vh.name === 'rpc.example.com')!;
  const route = host.routes!.find((x) => x.name?.startsWith('GRPCRoute/default/g/'))!;
  assert.deepEqual(Object.keys(route.typed_per_filter_config!), ['envoy.filters.http.fault'], 'only the filter gRPC clients have');
  assert.equal(route.route?.retry_policy?.retry_on, 'unavailable');
  assert.equal(host.typed_per_filter_config, undefined);
  assert.equal(host.retry_policy?.retry_on, 'cancelled');
  assert.equal(grpcAccepts(variant), undefined, 'grpc-js-xds validates the variant');
  assert.match(grpcAccepts(config(r)) ?? '', /local_ratelimit/, 'while it would reject Envoy\'s configuration');
});

test('a VirtualHostOption reaches the virtual hosts of its Gateway or listener; the listener\'s own beats the Gateway\'s', () => {
  const gw = gateway('gw', [httpListener('a', 80, { hostname: 'a.example.com' }), httpListener('b', 80, { hostname: 'b.example.com' })]);
  const routeOn = (name: string, host: string) => httpRoute(name, { parentRefs: [{ name: 'gw' }], hostnames: [host], rules: [{ backendRefs: [{ name: 'svc', port: 80 }] }] });
  const r = translate(gatewayClass(), gw, routeOn('ra', 'a.example.com'), routeOn('rb', 'b.example.com'),
    option('VirtualHostOption', 'wide', { targetRefs: [toGateway()], options: {
      headerManipulation: { response: { add: [{ name: 'x-gw', value: '1' }] } },
      retries: { retryOn: ['reset'], numRetries: 2 }, includeRequestAttemptCount: true, includeAttemptCountInResponse: true,
      localRateLimit: { maxTokens: 100, fillInterval: '1s' },
    } }, at(1)),
    option('VirtualHostOption', 'only-a', { targetRefs: [toGateway('a')], options: { headerManipulation: { response: { set: [{ name: 'x-a', value: '1' }] } } } }, at(2)),
    option('VirtualHostOption', 'nowhere', { targetRefs: [toGateway('c'), toGateway(undefined, 'other-gw')], options: { includeRequestAttemptCount: true } }),
  );
  const rc = config(r);
  const byName = new Map(vhosts(rc).map((vh) => [vh.name, vh]));
  const a = byName.get('a.example.com')!;
  const b = byName.get('b.example.com')!;
  assert.deepEqual(headers(a.response_headers_to_add), ['x-a=1']);
  assert.deepEqual(headers(b.response_headers_to_add), ['x-gw=1']);
  for (const vh of [a, b]) {
    assert.deepEqual(vh.retry_policy, { retry_on: 'reset', num_retries: { value: 2 } });
    assert.equal(vh.include_request_attempt_count, true);
    assert.equal(vh.include_attempt_count_in_response, true);
    assert.ok(vh.typed_per_filter_config?.['envoy.filters.http.local_ratelimit']);
  }
  assert.equal(rc.most_specific_header_mutations_wins, true, 'a route\'s header changes win over the virtual host\'s');
  assert.equal(status(r, 'VirtualHostOption', 'only-a')?.message, 'applies to Gateway default/gw listener a');
  assert.equal(status(r, 'VirtualHostOption', 'wide', 'Conflicted')?.message,
    'overridden: spec.options.headerManipulation on Gateway default/gw listener a (VirtualHostOption default/only-a takes precedence)');
  const nowhere = status(r, 'VirtualHostOption', 'nowhere')!;
  assert.deepEqual([nowhere.status, nowhere.reason], ['False', 'TargetNotFound']);
  assert.equal(nowhere.message, 'spec.targetRefs[0]: Gateway default/gw has no HTTP or HTTPS listener named c; '
    + 'spec.targetRefs[1]: no Gateway default/other-gw of a GatewayClass of this controller');
  assert.equal(grpcAccepts(r.snapshots.get('default/gw')!.grpcRoutes[0]), undefined);
  const without = config(translate(gatewayClass(), gw, routeOn('ra', 'a.example.com')));
  assert.equal(without.most_specific_header_mutations_wins, undefined, 'left as it was without VirtualHostOptions');
});

test('a ListenerOption tunes the Envoy listener and connection managers of its port, HTTPS chains included', () => {
  const pki = makePki();
  const https = { name: 'https', port: 443, protocol: 'HTTPS', hostname: 'a.example.com', tls: { certificateRefs: [{ kind: 'Secret', group: '', name: 'cert' }] } };
  const gw = gateway('gw', [httpListener('http', 80), https, { name: 'tcp', port: 9000, protocol: 'TCP' }]);
  const all = {
    perConnectionBufferLimitBytes: 32768,
    httpConnectionManager: {
      idleTimeout: '30s', streamIdleTimeout: '5m', requestTimeout: '1m', useRemoteAddress: true, xffNumTrustedHops: 1,
      serverName: 'gantry', serverHeaderTransformation: 'Overwrite', maxRequestHeadersKb: 96,
    },
    accessLog: { stdout: true },
  };
  const r = translate(gatewayClass(), gw, tlsSecret('cert', pki.leaf(['a.example.com'])), routeR(),
    option('ListenerOption', 'all', { targetRefs: [toGateway()], options: all }, at(1)),
    option('ListenerOption', 'http', { targetRefs: [toGateway('http')], options: { accessLog: { stdout: false } } }, at(2)),
    option('ListenerOption', 'tcp', { targetRefs: [toGateway('tcp')], options: { perConnectionBufferLimitBytes: 4096 } }),
    option('VirtualHostOption', 'https-hosts', { targetRefs: [toGateway('https')], options: { headerManipulation: { response: { add: [{ name: 'x-tls', value: '1' }] } } } }),
  );
  const snap = r.snapshots.get('default/gw')!;
  const listener = (name: string) => snap.listeners.find((l) => l.name === `default/gw/${name}`)!;
  for (const [name, log] of [['http-80', false], ['tls-443', true]] as const) {
    const l = listener(name);
    assert.deepEqual(l.per_connection_buffer_limit_bytes, { value: 32768 }, name);
    const hcm = hcmOf(l);
    assert.deepEqual(hcm.common_http_protocol_options?.idle_timeout, { seconds: '30' }, name);
    assert.deepEqual([hcm.stream_idle_timeout?.seconds, hcm.request_timeout?.seconds], ['300', '60'], name);
    assert.deepEqual([hcm.use_remote_address?.value, hcm.xff_num_trusted_hops, hcm.server_name, hcm.server_header_transformation, hcm.max_request_headers_kb?.value],
      [true, 1, 'gantry', 'OVERWRITE', 96], name);
    assert.equal((hcm.access_log ?? []).length, log ? 1 : 0, `${name}: the listener's own option turns the access log off on its port only`);
  }
  assert.equal(listener('tcp-9000').per_connection_buffer_limit_bytes, undefined);
  // The HTTPS chain's own route configuration holds its listener's virtual hosts, options included.
  const chainRoutes = snap.routes.find((rc) => rc.name === 'default/gw/https-443/https')!;
  assert.deepEqual(headers(vhosts(chainRoutes).find((vh) => vh.name === 'a.example.com')!.response_headers_to_add), ['x-tls=1']);
  assert.equal(chainRoutes.most_specific_header_mutations_wins, true);
  const api = unpack('envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager', snap.apiListeners.find((a) => a.port === 80)!.template.api_listener!.api_listener);
  assert.deepEqual([api.access_log, api.use_remote_address], [undefined, undefined], 'proxyless gRPC API listeners are not Envoy\'s listeners: untouched');
  assert.equal(status(r, 'ListenerOption', 'all', 'Conflicted')?.message,
    'overridden: spec.options.accessLog on Gateway default/gw port 80 (ListenerOption default/http takes precedence)');
  assert.equal(status(r, 'ListenerOption', 'tcp')?.reason, 'TargetNotFound');
});
