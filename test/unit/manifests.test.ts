import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadManifestDir, parseManifestText } from '../../libs/manifests/index.ts';
import { diffResources, planResources, resourceDigest } from '../../libs/manifests/resources.ts';

const gw = (name: string, extra = '') => `apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata:\n  name: ${name}\n${extra}spec:\n  gatewayClassName: gantry\n`;

test('parseManifestText: every document of a multi-document file, with its index', () => {
  const r = parseManifestText(`${gw('a')}---\n${gw('b')}---\n`, 'gw.yaml');
  assert.deepEqual(r.problems, []);
  assert.deepEqual(r.objects.map((o) => [o.object.metadata.name, o.origin]), [['a', { path: 'gw.yaml', document: 0 }], ['b', { path: 'gw.yaml', document: 1 }]]);
});

test('parseManifestText: a YAML syntax error in one document does not hide the others', () => {
  const r = parseManifestText(`${gw('a')}---\nkind: [oops\n  x: 1\n---\n${gw('c')}`, 'gw.yaml');
  assert.deepEqual(r.objects.map((o) => [o.object.metadata.name, o.origin.document]), [['a', 0], ['c', 2]]);
  assert.equal(r.problems.length, 1);
  assert.equal(r.problems[0].document, 1);
  assert.equal(r.problems[0].severity, 'syntax');
  assert.match(r.problems[0].message, /YAML syntax error \(line \d+/);
});

test('parseManifestText: non-mappings and missing fields are problems; kind+name still identify the document', () => {
  const r = parseManifestText('- a\n- b\n---\nkind: Gateway\nmetadata:\n  name: g\n---\napiVersion: v1\nkind: Secret\nmetadata: {}\n', 'x.yaml');
  assert.equal(r.objects.length, 0);
  assert.deepEqual(r.problems.map((p) => [p.document, p.message]), [
    [0, 'document is not a mapping (got a sequence)'], [1, 'missing apiVersion'], [2, 'missing metadata.name'],
  ]);
  assert.deepEqual(r.problems[1].identity, { kind: 'Gateway', name: 'g' });
  assert.equal(r.problems[2].identity, undefined);
});

test('parseManifestText: kind List items are expanded and keep the document index', () => {
  const r = parseManifestText(`apiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    kind: ConfigMap\n    metadata: {name: one}\n  - {kind: ConfigMap}\n`, 'l.yaml');
  assert.deepEqual(r.objects.map((o) => [o.object.metadata.name, o.origin.document]), [['one', 0]]);
  assert.equal(r.problems.length, 1);
  assert.match(r.problems[0].message, /^List item 1: missing apiVersion, metadata$/);
});

test('parseManifestText: empty documents and comments are not problems', () => {
  assert.deepEqual(parseManifestText('# nothing\n---\n---\n', 'e.yaml'), { objects: [], problems: [] });
  assert.deepEqual(parseManifestText('', 'e.yaml'), { objects: [], problems: [] });
});

test('loadManifestDir: recursive, *.yaml and *.yml only, dot-files and dot-directories skipped', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gantry-manifests-'));
  try {
    mkdirSync(join(dir, 'sub'));
    mkdirSync(join(dir, '.gantry-status/Gateway'), { recursive: true });
    writeFileSync(join(dir, 'a.yaml'), gw('a'));
    writeFileSync(join(dir, 'sub/b.yml'), gw('b'));
    writeFileSync(join(dir, 'sub/notes.txt'), gw('no'));
    writeFileSync(join(dir, '.hidden.yaml'), gw('no'));
    writeFileSync(join(dir, '.gantry-status/Gateway/x.yaml'), gw('no'));
    const set = await loadManifestDir(dir);
    assert.deepEqual(set.files, ['a.yaml', 'sub/b.yml']);
    assert.deepEqual(set.objects.map((o) => o.object.metadata.name), ['a', 'b']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('planResources: watcher kinds only, namespace defaults, identifiable problems published as written, broken files held', () => {
  const set = {
    files: ['a.yaml', 'b.yaml'],
    objects: [
      ...parseManifestText(`${gw('g')}---\napiVersion: v1\nkind: Service\nmetadata: {name: s}\n---\napiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata: {name: gantry, namespace: ignored}\n`, 'a.yaml').objects,
    ],
    problems: [
      ...parseManifestText('kind: HTTPRoute\nmetadata: {name: r}\n---\nkind: [\n', 'b.yaml').problems,
    ],
  };
  const plan = planResources('local', set, '2024-01-01T00:00:00Z');
  assert.deepEqual([...plan.desired.keys()], [
    'gantry.res.local.Gateway.default.g', 'gantry.res.local.GatewayClass._.gantry', 'gantry.res.local.HTTPRoute.default.r',
  ]);
  assert.deepEqual(plan.skipped.map((s) => s.kind), ['Service']);
  assert.deepEqual([...plan.heldFiles], ['b.yaml']);
  const g = plan.desired.get('gantry.res.local.Gateway.default.g')!;
  assert.equal(g.event.generation, 1);
  assert.match(g.event.resourceVersion, /^[0-9a-f]{64}$/);
  assert.equal(g.msgId, `gantry.res.local.Gateway.default.g@${g.event.resourceVersion}`);
  assert.equal(plan.desired.get('gantry.res.local.HTTPRoute.default.r')!.event.apiVersion, 'unknown');

  // Against a log holding g (same), an old route from the held file and a gone Secret: only the Secret is tombstoned.
  const entry = (e: typeof g.event) => ({ ...resourceDigest(e), event: e });
  const old = (kind: string, name: string, path: string) => ({ ...g.event, kind, name, object: { kind }, source: { type: 'file' as const, path, document: 3 } });
  const log = new Map([
    [g.subject, entry(g.event)],
    ['gantry.res.local.HTTPRoute.default.kept', entry(old('HTTPRoute', 'kept', 'b.yaml'))],
    ['gantry.res.local.Secret.default.gone', entry(old('Secret', 'gone', 'c.yaml'))],
  ]);
  const diff = diffResources(plan, log, 'now');
  assert.deepEqual(diff.publish.map((p) => [p.subject, p.event.op]), [
    ['gantry.res.local.GatewayClass._.gantry', 'upsert'], ['gantry.res.local.HTTPRoute.default.r', 'upsert'], ['gantry.res.local.Secret.default.gone', 'delete'],
  ]);
  assert.deepEqual(diff.kept, [{ subject: 'gantry.res.local.HTTPRoute.default.kept', path: 'b.yaml' }]);
});
