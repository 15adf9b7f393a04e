/**
 * A watchdog for every test file: if the test worker's main thread stops running JavaScript for
 * two minutes, it prints which test was running and kills the worker, so the run fails with a
 * name instead of hanging until CI's own time limit.
 *
 * Why: a test blocked in synchronous code, or inside WebAssembly waiting on a lock (it happened:
 * see src/runtime/stack-free-fix.ts), is out of reach of vitest's test timeouts, which are timers
 * on that same blocked thread. The watchdog runs on its own thread: the main thread beats a
 * heartbeat into shared memory once a second, and the watchdog thread checks it.
 */
import { Worker } from 'node:worker_threads';
import { afterAll, beforeEach, expect } from 'vitest';

/** Seconds without a heartbeat before the worker is killed (tests time out after 60 s). */
const LIMIT_SECONDS = Number(process.env['ADAPTERC_TEST_WATCHDOG_SECONDS'] ?? 120);
const NAME_BYTES = 1024;

// [0]: last heartbeat (seconds since the epoch); [1]: length of the current test's name; then the name.
const shared = new SharedArrayBuffer(8 + NAME_BYTES);
const beat = new Int32Array(shared, 0, 2);
const name = new Uint8Array(shared, 8, NAME_BYTES);
const now = (): number => Math.floor(Date.now() / 1000);
Atomics.store(beat, 0, now());

const heartbeat = setInterval(() => Atomics.store(beat, 0, now()), 1000);
heartbeat.unref();

const watchdog = new Worker(
  `
  const { workerData } = require('node:worker_threads');
  const { writeSync } = require('node:fs');
  const beat = new Int32Array(workerData.shared, 0, 2);
  const name = new Uint8Array(workerData.shared, 8, ${NAME_BYTES});
  setInterval(() => {
    const silent = Math.floor(Date.now() / 1000) - Atomics.load(beat, 0);
    if (silent < workerData.limit) return;
    const test = Buffer.from(name.slice(0, Atomics.load(beat, 1))).toString('utf8') || '(outside a test)';
    // Straight to file descriptor 2: the blocked main thread would never pass on process.stderr.
    writeSync(2, '\\nwatchdog: ' + workerData.file + ' > ' + test + ': the test worker ran no JavaScript for ' + silent + ' s (blocked in synchronous code or WebAssembly); killing it.\\n');
    process.kill(process.pid, 'SIGKILL');
  }, 1000);
  `,
  { eval: true, workerData: { shared, limit: LIMIT_SECONDS, file: expect.getState().testPath ?? 'a test file' } },
);
watchdog.unref();

beforeEach((context) => {
  const bytes = new TextEncoder().encode(context.task.name).subarray(0, NAME_BYTES);
  name.set(bytes);
  Atomics.store(beat, 1, bytes.length);
});

afterAll(async () => {
  clearInterval(heartbeat);
  await watchdog.terminate();
});
