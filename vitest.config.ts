import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    testTimeout: 60_000,
    // Hooks generate models and start runtimes; on a busy 2-core machine that can take a while.
    hookTimeout: 60_000,
    // Model tests load onnxruntime-node; forks isolate its native threads per file.
    pool: 'forks',
    // Kills a test worker whose main thread is blocked for two minutes, naming the test (see the file).
    setupFiles: ['test/setup/watchdog.ts'],
    // Temporary files under one folder, removed after the run (see the file).
    globalSetup: ['test/setup/temp-root.ts'],
  },
});
