import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { fillTruncatedNormal } from '../../src/util/normal-wasm.js';
import { fillNormal, nextNormal, streamFor } from '../../src/util/prng.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The definition: prng.ts's fillNormal, then each value beyond ±limit redrawn with nextNormal, in order. */
function reference(count: number, seed: number, name: string, std: number, limit: number): { values: Float32Array; next: number[] } {
  const values = new Float32Array(count);
  const rng = streamFor(seed, name);
  fillNormal(values, rng, std);
  for (let i = 0; i < values.length; i++) while (Math.abs(values[i]!) > limit) values[i] = nextNormal(rng, std);
  return { values, next: [rng.nextUint32(), rng.nextUint32(), rng.nextUint32()] };
}

function fast(count: number, seed: number, name: string, std: number, limit: number): { values: Float32Array; next: number[] } {
  const values = new Float32Array(count);
  const rng = streamFor(seed, name);
  fillTruncatedNormal(values, rng, std, limit);
  return { values, next: [rng.nextUint32(), rng.nextUint32(), rng.nextUint32()] };
}

/** Bit for bit: the same float32 bytes, and the stream left at the same place. */
function expectSameBits(count: number, seed: number, name: string, std: number, limit: number): void {
  const want = reference(count, seed, name, std, limit);
  const got = fast(count, seed, name, std, limit);
  const differs = want.values.findIndex((v, i) => !Object.is(v, got.values[i]));
  expect(differs, `first differing value of ${count} (seed ${seed}, std ${std}, limit ${limit})`).toBe(-1);
  expect(got.next).toEqual(want.next);
}

describe('fillTruncatedNormal (WebAssembly) against prng.ts', () => {
  // Batches hold 8192 pairs (16384 values): lengths around them, odd and even, and BERT-base's
  // adapter matrices (768 x 64).
  test.each([0, 1, 2, 3, 5, 16383, 16384, 16385, 16386, 768 * 64, 100_001])('%i values, truncated at 2 std, std 0.01', (count) => {
    expectSameBits(count, 42, `adapter.${count}.down`, 0.01, 0.02);
  });

  test('untruncated (limit Infinity), and truncated hard enough that most values are redrawn', () => {
    expectSameBits(50_001, 7, 'untruncated', 1, Infinity);
    expectSameBits(20_000, 7, 'hard', 0.5, 0.1);
  });

  test('any seed, length, std and truncation', () => {
    fc.assert(
      fc.property(
        fc.nat(2 ** 40),
        fc.integer({ min: 0, max: 3000 }),
        fc.double({ min: 1e-4, max: 10, noNaN: true }),
        fc.option(fc.double({ min: 0.25, max: 4, noNaN: true })),
        (seed, count, std, truncate) => expectSameBits(count, seed, `p${count}`, std, truncate === null ? Infinity : truncate * std),
      ),
      { numRuns: 200 },
    );
  });

  test('a tensor larger than the memory it keeps (16 MB) and a small one after it', () => {
    expectSameBits(5_000_001, 3, 'large', 0.02, 0.04);
    expectSameBits(1001, 3, 'small', 0.02, 0.04);
  });
});

test('src/util/normal-wasm.generated.ts is what src/util/normal.wat assembles to', () => {
  const run = spawnSync(process.execPath, [path.join(root, 'scripts/build-wasm.mjs'), '--check'], { encoding: 'utf8' });
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
});
