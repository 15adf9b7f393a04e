/**
 * Truncated normal samples computed in WebAssembly (normal.wat): the bits of prng.ts's fillNormal
 * followed by TensorFlow-style truncation with nextNormal, native from the first call: BERT-base's
 * 48 adapter matrices (768 x 64) took 32-37 ms against 95 in JavaScript, each the first run in a
 * fresh process, and about 25 against 53 ms once both were optimized. rewrite/init.ts draws new
 * parameters' initial values with it; prng.ts stays the definition, and
 * test/util/normal-wasm.test.ts holds the two to the same bits.
 */
import { NORMAL_WASM_BASE64 } from './normal-wasm.generated.js';
import type { Xoshiro128 } from './prng.js';

/** The part of the WebAssembly API used here (Node's types do not declare it without the DOM's). */
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { readonly exports: object };
};
interface WasmGlobal {
  value: number;
}

interface NormalExports {
  readonly memory: { readonly buffer: ArrayBuffer; grow(pages: number): number };
  readonly s0: WasmGlobal;
  readonly s1: WasmGlobal;
  readonly s2: WasmGlobal;
  readonly s3: WasmGlobal;
  fill(count: number, std: number): void;
  truncate(count: number, std: number, limit: number): void;
}

/** Where normal.wat keeps the values, and the room it may write past them (an odd count's pair). */
const OUT = 327_680;
const SLACK = 16;
const PAGE = 65_536;
/** A memory grown past this for one large tensor is dropped after it, not kept for the process. */
const KEEP_BYTES = 16 * 1024 * 1024;

let instance: NormalExports | undefined;

function normalExports(): NormalExports {
  instance ??= new WebAssembly.Instance(new WebAssembly.Module(Buffer.from(NORMAL_WASM_BASE64, 'base64'))).exports as NormalExports;
  return instance;
}

/**
 * Fills `out` with normal(0, std) samples from `rng` exactly as `fillNormal(out, rng, std)` does, then
 * redraws each value beyond ±limit (in order, each until it is within) as
 * `out[i] = nextNormal(rng, std)` does; `rng` continues after the last number used.
 * `limit` Infinity draws without truncation.
 */
export function fillTruncatedNormal(out: Float32Array, rng: Xoshiro128, std: number, limit: number): void {
  const wasm = normalExports();
  const needed = OUT + out.length * 4 + SLACK;
  if (needed > wasm.memory.buffer.byteLength) wasm.memory.grow(Math.ceil((needed - wasm.memory.buffer.byteLength) / PAGE));
  const [s0, s1, s2, s3] = rng.state;
  wasm.s0.value = s0;
  wasm.s1.value = s1;
  wasm.s2.value = s2;
  wasm.s3.value = s3;
  wasm.fill(out.length, std);
  wasm.truncate(out.length, std, limit);
  out.set(new Float32Array(wasm.memory.buffer, OUT, out.length));
  rng.state = [wasm.s0.value, wasm.s1.value, wasm.s2.value, wasm.s3.value];
  if (wasm.memory.buffer.byteLength > KEEP_BYTES) instance = undefined;
}
