import { defineConfig } from 'vitest/config';

// The interop tier (interop/run.sh): real pretrained weights, today's exporters and the reference
// systems, in Python from interop/.venv. Not part of `npm test`, which stays offline and Python-free.
export default defineConfig({
  test: {
    include: ['interop/tests/**/*.test.ts'],
    testTimeout: 20 * 60_000,
    hookTimeout: 20 * 60_000,
    pool: 'forks',
    // One file at a time: each trains a 22M-parameter model on two cores.
    fileParallelism: false,
  },
});
