/** The test watchdog (watchdog.ts) turns a test blocked where no timeout reaches into a failure that names it. */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');

it('kills a worker blocked in Atomics.wait and names the test', () => {
  const started = Date.now();
  const run = spawnSync(process.execPath, [path.join(root, 'node_modules/vitest/vitest.mjs'), 'run', '--config', path.join(here, 'fixtures/vitest.config.ts')], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, ADAPTERC_TEST_WATCHDOG_SECONDS: '3' },
    timeout: 50_000,
  });
  expect(run.signal).toBeNull();
  expect(run.status).toBe(1);
  expect(run.stderr).toContain('hang.fixture.ts > waits on a lock nobody releases: the test worker ran no JavaScript for 3 s');
  expect(Date.now() - started).toBeLessThan(40_000);
});
