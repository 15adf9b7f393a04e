import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    testTimeout: 60_000,
    // Hooks generate models and start runtimes; on a busy 2-core machine that can take a while.
    hookTimeout: 60_000,
    // Model tests load onnxruntime-node; forks isolate its native threads per file.
    pool: 'forks',
  },
});
