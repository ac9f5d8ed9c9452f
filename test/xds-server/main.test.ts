// services/xds-server/main.ts as a process (from the source, and from its bundle in dist/):
// configuration from the environment, the listening log line, and a clean exit on SIGTERM.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { bundleStatus } from '../../libs/runtime/index.mjs';
import { freePort, startNats, startRedis } from '../support/servers.ts';

const bundle = bundleStatus('services/xds-server/main.ts');

for (const [what, args, stale] of [
  ['main.ts', ['--import', 'tsx', 'services/xds-server/main.ts'], undefined],
  // What the supervisor and deployments run (built at npm install; npm test rebuilds it when
  // stale, so a stale bundle here is a failed build, not something to skip).
  ['its bundle', [bundle.out], bundle.current ? undefined : bundle.reason],
] as const) test(`${what} logs "xds-server listening" with its address and exits 0 on SIGTERM`, async () => {
  assert.equal(stale, undefined, `the bundle is not current (${stale}): run npm run build`);
  const [nats, redis, port] = await Promise.all([startNats(), startRedis(), freePort()]);
  const child = spawn(process.execPath, args, {
    env: { ...process.env, GANTRY_NATS_URL: nats.url, GANTRY_REDIS_URL: redis.url, GANTRY_XDS_PORT: String(port), GANTRY_REPLICA_ID: 'main-test' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  try {
    const listening = await new Promise<Record<string, unknown>>((resolve, reject) => {
      createInterface({ input: child.stderr! }).on('line', (line) => {
        const entry = JSON.parse(line) as Record<string, unknown>;
        if (entry.msg === 'xds-server listening') resolve(entry);
      });
      child.once('exit', (code) => reject(new Error(`exited with ${code} before listening`)));
    });
    assert.equal(listening?.address, `127.0.0.1:${port}`);
    assert.equal(listening?.replica, 'main-test');
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    assert.equal(code, 0);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    await Promise.all([nats.stop(), redis.stop()]);
  }
});

test('main.ts refuses an invalid configuration', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'services/xds-server/main.ts'], {
    env: { ...process.env, GANTRY_XDS_PORT: 'not-a-port' }, stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const [code] = await once(child, 'exit');
  assert.equal(code, 2);
  assert.match(err, /GANTRY_XDS_PORT/);
});
