// The container image (Dockerfile). No Docker engine runs on these machines, so the image cannot be
// built here: instead its runtime stage's files (the `COPY --from=build` lines) are assembled in a
// folder from this checkout's build, and a service is run from there the way the manifests run it,
// which fails if the image would lack a file the services read at run time.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { render } from './render.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const IMAGE = 'ghcr.io/gantry-dev/gantry';
const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
const workdir = /^WORKDIR (\S+)$/m.exec(runtime)?.[1];
const copies = [...runtime.matchAll(/^COPY --from=build (\S+) (\S+)$/gm)].map((m) => ({ from: m[1]!, to: m[2]! }));

const dir = mkdtempSync(join(tmpdir(), 'gantry-image-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('the runtime stage: /app, the manifests\' user, and the files the services need', () => {
  assert.equal(workdir, '/app');
  const uid = /^USER (\d+):(\d+)$/m.exec(runtime);
  const gantryPods = render('deploy').filter((d) => d.kind === 'Deployment' && d.spec.template.spec.containers[0].image.startsWith(IMAGE));
  assert.ok(gantryPods.length >= 5);
  for (const d of gantryPods) assert.equal(String(d.spec.template.spec.securityContext.runAsUser), uid?.[1], d.metadata.name);
  assert.deepEqual(copies.map((c) => c.to).sort(), ['./dist', './node_modules', './package.json', './protos/envoy-protos.json']);
});

test('a folder holding just those files runs what the manifests run', () => {
  execFileSync(process.execPath, [join(ROOT, 'scripts/build.mjs'), '--if-stale'], { cwd: ROOT, stdio: 'ignore' });
  for (const { from, to } of copies) {
    const source = join(ROOT, from.replace(/^\/app\//, ''));
    const target = join(dir, to);
    mkdirSync(dirname(target), { recursive: true });
    // node_modules is linked, not copied: same content, a fraction of the time.
    if (to === './node_modules') symlinkSync(source, target, 'dir');
    else cpSync(source, target, { recursive: true });
  }
  for (const d of render('deploy').filter((o) => o.kind === 'Deployment' && o.spec.template.spec.containers[0].image.startsWith(IMAGE))) {
    const [cmd, entry] = d.spec.template.spec.containers[0].command;
    assert.equal(cmd, 'node');
    assert.ok(existsSync(join(dir, entry)), `${d.metadata.name}: ${entry} is in the image`);
  }
  // The CLI bundle translating the examples loads the Envoy descriptors the way every service does.
  const out = execFileSync(process.execPath, ['dist/services/cli/main.js', 'translate', '-f', join(ROOT, 'examples'), '-o', 'json'], { cwd: dir, encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  const result = JSON.parse(out);
  assert.ok(result.objects.length > 5);
  assert.ok(Object.keys(result.xds).length > 0, 'xDS resources were encoded');
});
