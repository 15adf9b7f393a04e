import { describe, expect, test } from 'vitest';
import { fillNormal, fnv1a32, lnUnit, nextNormal, normalSamples, streamFor, streamSeed, uniformInt, Xoshiro128, type Uint32Source } from '../../src/util/prng.js';

/** xoshiro128** from an explicit state, to check against the reference implementation's output. */
function fromState(state: [number, number, number, number]): Uint32Source {
  const rng = new Xoshiro128(0);
  Object.assign(rng, { s0: state[0], s1: state[1], s2: state[2], s3: state[3] });
  return rng;
}

describe('xoshiro128**', () => {
  test('matches the reference outputs for state {1, 2, 3, 4}', () => {
    const rng = fromState([1, 2, 3, 4]);
    expect(Array.from({ length: 6 }, () => rng.nextUint32())).toEqual([11520, 0, 5927040, 70819200, 2031721883, 1637235492]);
  });

  test('is deterministic per seed and differs across seeds', () => {
    const draw = (seed: number) => Array.from({ length: 8 }, ((rng) => () => rng.nextUint32())(new Xoshiro128(seed)));
    expect(draw(7)).toEqual(draw(7));
    expect(draw(7)).not.toEqual(draw(8));
  });
});

describe('streams', () => {
  test('are keyed by seed and name, independently of each other', () => {
    expect(streamSeed(1, 'a.weight')).toBe(streamSeed(1, 'a.weight'));
    expect(streamSeed(1, 'a.weight')).not.toBe(streamSeed(1, 'b.weight'));
    expect(streamSeed(1, 'a.weight')).not.toBe(streamSeed(2, 'a.weight'));
    // Seeds above 2^32 are not truncated to their low bits.
    expect(streamSeed(2 ** 32 + 1, 'a')).not.toBe(streamSeed(1, 'a'));
  });

  test('pin their values (a change here changes every synthetic model)', () => {
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    // Exact float32 values: any change in the generator or the arithmetic shows up here.
    expect(Array.from(normalSamples(streamFor(0, 'embeddings.word_embeddings.weight'), 4, 0.02))).toEqual([
      0.01745999976992607, -0.024882866069674492, -0.00876280851662159, -0.0007704060990363359,
    ]);
  });
});

describe('lnUnit', () => {
  test('agrees with Math.log to 1e-13 on (0, 1]', () => {
    for (const x of [1, 0.999999, 0.75, 0.5, 0.1, 1e-3, 2 ** -20, 2 ** -40, 1e-300]) {
      expect(Math.abs(lnUnit(x) - Math.log(x))).toBeLessThan(1e-13 * Math.max(1, Math.abs(Math.log(x))));
    }
  });
});

describe('normal samples', () => {
  test('have mean 0 and the requested standard deviation', () => {
    const values = normalSamples(streamFor(3, 'stats'), 200_000, 0.02);
    const mean = values.reduce((a, v) => a + v, 0) / values.length;
    const variance = values.reduce((a, v) => a + (v - mean) ** 2, 0) / values.length;
    expect(Math.abs(mean)).toBeLessThan(2e-4);
    expect(Math.sqrt(variance)).toBeCloseTo(0.02, 3);
    // Tails are normal: about 4.55% beyond 2 sigma.
    const beyond = values.filter((v) => Math.abs(v) > 0.04).length / values.length;
    expect(beyond).toBeGreaterThan(0.042);
    expect(beyond).toBeLessThan(0.049);
  });

  test('nextNormal is the value fillNormal stores for one element, drawing as much of the stream', () => {
    const a = streamFor(4, 'one');
    const b = streamFor(4, 'one');
    const one = new Float32Array(1);
    for (let i = 0; i < 2000; i++) {
      fillNormal(one, b, 0.5);
      expect(nextNormal(a, 0.5)).toBe(one[0]);
    }
    expect(a.nextUint32()).toBe(b.nextUint32());
  });

  test('fill a sub-range and leave the rest untouched', () => {
    const out = new Float32Array(10).fill(9);
    fillNormal(out, streamFor(1, 'x'), 1, 2, 5);
    expect(Array.from(out.slice(0, 2))).toEqual([9, 9]);
    expect(Array.from(out.slice(7))).toEqual([9, 9, 9]);
    expect(out.slice(2, 7).every((v) => v !== 9)).toBe(true);
  });
});

describe('uniformInt', () => {
  test('stays in range and covers it', () => {
    const rng = streamFor(1, 'ints');
    const seen = new Set<number>();
    for (let i = 0; i < 1000; i++) {
      const v = uniformInt(rng, 10);
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThan(10);
      seen.add(v);
    }
    expect(seen.size).toBe(10);
  });

  test('rejects bad bounds', () => {
    expect(() => uniformInt(streamFor(1, 'x'), 0)).toThrow(RangeError);
    expect(() => uniformInt(streamFor(1, 'x'), 1.5)).toThrow(RangeError);
  });
});
