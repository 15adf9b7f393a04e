/**
 * Seeded, platform-independent random numbers: synthetic weights and adapter initialization.
 *
 * Same seed => same bits on every machine. That rules out Math.random and also Math.log/Math.cos,
 * whose results ECMAScript leaves implementation-approximated (engines may differ in the last ulp,
 * which would change float32 roundings and so the bytes of a model). Everything below uses only
 * 32-bit integer ops (exact by definition) and the IEEE-754 double operations + - * / and sqrt,
 * which are correctly rounded on every engine and CPU we run on.
 */

/** A stream of uniformly distributed unsigned 32-bit integers. */
export interface Uint32Source {
  nextUint32(): number;
}

/**
 * xoshiro128** (Blackman & Vigna): 128-bit state, period 2^128 - 1, passes BigCrush, and needs only
 * 32-bit ops, so it is fast in JavaScript without BigInt. BERT-large draws ~4e8 numbers from one seed;
 * a 32-bit-state generator (mulberry32) would cycle a good part of its 2^32 period.
 */
export class Xoshiro128 implements Uint32Source {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  /** Seeds the four state words from splitmix32 so that nearby seeds give unrelated streams. */
  constructor(seed: number) {
    const mix = splitmix32(seed >>> 0);
    this.s0 = mix();
    this.s1 = mix();
    this.s2 = mix();
    this.s3 = mix();
    // The all-zero state is a fixed point; splitmix32 cannot produce four zeros in a row, but be explicit.
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 0x9e3779b9;
  }

  /** The four state words: the stream continues from them elsewhere (normal-wasm.ts) and back. */
  get state(): readonly [number, number, number, number] {
    return [this.s0, this.s1, this.s2, this.s3];
  }

  set state(words: readonly [number, number, number, number]) {
    [this.s0, this.s1, this.s2, this.s3] = words;
  }

  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** splitmix32: a tiny mixing generator, used only to expand one 32-bit seed into generator state. */
export function splitmix32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) | 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** FNV-1a over the UTF-16 code units of a string: a stable 32-bit id for a named stream. */
export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/**
 * Folds a user seed (any non-negative safe integer) and a stream name into one 32-bit generator seed.
 * Each parameter gets its own stream keyed by its logical name, so a parameter's values do not depend
 * on which other parameters exist or in which order they are generated: the same seed gives the same
 * query weights whether the model has a classifier head or not, in every style.
 */
export function streamSeed(seed: number, stream: string): number {
  const low = seed >>> 0;
  const high = Math.floor(seed / 0x1_0000_0000) >>> 0;
  const mix = splitmix32(low ^ Math.imul(high, 0x27d4eb2f) ^ fnv1a32(stream));
  mix();
  return mix();
}

/** A generator for the stream `stream` under the user seed `seed`. */
export function streamFor(seed: number, stream: string): Xoshiro128 {
  return new Xoshiro128(streamSeed(seed, stream));
}

const LN2 = 0.6931471805599453;
const SQRT_HALF = 0.7071067811865476;

/**
 * Natural logarithm of x in (0, 1], from + - * / only (see the file comment).
 * x = m * 2^e with m in [sqrt(1/2), sqrt(2)); ln m = 2 atanh(f) with f = (m - 1) / (m + 1), |f| < 0.172,
 * summed to f^15 (truncation error below 1e-14, far under float32 resolution).
 */
export function lnUnit(x: number): number {
  let m = x;
  let e = 0;
  // Doubling is exact; x >= 2^-64 here, so this loops at most 64 times and on average about once.
  while (m < SQRT_HALF) {
    m *= 2;
    e -= 1;
  }
  const f = (m - 1) / (m + 1);
  const f2 = f * f;
  const series =
    1 + f2 * (1 / 3 + f2 * (1 / 5 + f2 * (1 / 7 + f2 * (1 / 9 + f2 * (1 / 11 + f2 * (1 / 13 + f2 / 15))))));
  return e * LN2 + 2 * f * series;
}

/**
 * Fills `out[offset .. offset + count)` with normal(0, std) samples via Marsaglia's polar method
 * (a rejection form of Box-Muller that needs one logarithm and no trigonometry).
 * Uses exactly the generator's stream, so the result depends only on (generator state, count).
 */
export function fillNormal(out: Float32Array, rng: Uint32Source, std: number, offset = 0, count = out.length - offset): void {
  const end = offset + count;
  let i = offset;
  while (i < end) {
    // Uniforms in (-1, 1) with 2^-32 spacing; the +0.5 keeps them off the endpoints.
    const u = (rng.nextUint32() + 0.5) * 4.656612873077393e-10 - 1;
    const v = (rng.nextUint32() + 0.5) * 4.656612873077393e-10 - 1;
    const s = u * u + v * v;
    if (s >= 1 || s === 0) continue;
    const scale = std * Math.sqrt((-2 * lnUnit(s)) / s);
    out[i++] = u * scale;
    if (i < end) out[i++] = v * scale;
  }
}

/**
 * One normal(0, std) sample rounded to float32: the value `fillNormal` of one element stores (its
 * pair's second value dropped), without the loop and the array. Truncated sampling redraws about
 * one value in twenty this way.
 */
export function nextNormal(rng: Uint32Source, std: number): number {
  for (;;) {
    const u = (rng.nextUint32() + 0.5) * 4.656612873077393e-10 - 1;
    const v = (rng.nextUint32() + 0.5) * 4.656612873077393e-10 - 1;
    const s = u * u + v * v;
    if (s >= 1 || s === 0) continue;
    return Math.fround(u * (std * Math.sqrt((-2 * lnUnit(s)) / s)));
  }
}

/** Returns `count` normal(0, std) samples of the stream; convenience for small tensors and tests. */
export function normalSamples(rng: Uint32Source, count: number, std = 1): Float32Array {
  const out = new Float32Array(count);
  fillNormal(out, rng, std);
  return out;
}

/** A uniform integer in [0, bound) (bound <= 2^32), by rejection so that every value is equally likely. */
export function uniformInt(rng: Uint32Source, bound: number): number {
  if (!Number.isInteger(bound) || bound <= 0 || bound > 0x1_0000_0000) {
    throw new RangeError(`uniformInt: bound must be an integer in [1, 2^32], got ${bound}`);
  }
  const limit = 0x1_0000_0000 - (0x1_0000_0000 % bound);
  for (;;) {
    const r = rng.nextUint32();
    if (r < limit) return r % bound;
  }
}
