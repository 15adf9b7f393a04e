/**
 * Initial values of new parameters, deterministic from the spec's seed: each tensor draws from its
 * own random stream keyed by its name, so its values do not depend on which other tensors exist or
 * in which order they are made, and the same seed gives the same bytes on every machine.
 */
import type { Initializer } from '../check/plan.js';
import { makeTensor, type Tensor } from '../ir/index.js';
import { makeLazy } from '../load/lazy.js';
import { fillTruncatedNormal } from '../util/normal-wasm.js';
import { streamFor } from '../util/prng.js';

/** normal(0, std²), values beyond ±truncate·std redrawn (TensorFlow's truncated_normal); drawn on first use. */
export function normalTensor(seed: number, name: string, dims: readonly number[], std: number, truncate?: number): Tensor {
  return drawnTensor(name, dims, (values) => {
    // fillNormal, then values beyond the limit redrawn one at a time (about one in twenty), in WebAssembly.
    fillTruncatedNormal(values, streamFor(seed, name), std, truncate === undefined ? Infinity : truncate * std);
  });
}

/** U(-bound, bound), from the parameter's own stream; drawn on first use. */
export function uniformTensor(seed: number, name: string, dims: readonly number[], bound: number): Tensor {
  return drawnTensor(name, dims, (values) => {
    const rng = streamFor(seed, name);
    // (k + 0.5) / 2^32 lies strictly inside (0, 1): exact in doubles, the same on every machine.
    for (let i = 0; i < values.length; i++) values[i] = ((rng.nextUint32() + 0.5) / 4294967296) * 2 * bound - bound;
  });
}

/**
 * A float32 tensor whose values `draw` writes the first time anything reads them (load/lazy.ts):
 * the default layout's checkpoint is laid out, and its copy started, before they are drawn.
 */
function drawnTensor(name: string, dims: readonly number[], draw: (values: Float32Array) => void): Tensor {
  const values = new Float32Array(dims.reduce((a, b) => a * b, 1));
  const tensor = makeTensor(name, dims, values);
  makeLazy(tensor, tensor.rawData!, () => draw(values));
  return tensor;
}

export function constantTensor(name: string, dims: readonly number[], value: number): Tensor {
  return makeTensor(name, dims, new Float32Array(dims.reduce((a, b) => a * b, 1)).fill(value));
}

/**
 * A new weight drawn by the adapter's `init`: `down` is the projection into the bottleneck (LoRA's
 * A), `up` the one out of it (LoRA's B). `identity` and `mam` make `up` zero, so the adapted model
 * starts as the original; `mam` (AdapterHub's par_bn default, and PEFT's LoRA A) draws `down`
 * Kaiming-uniform with a = √5 over fan_in, the rows of a MatMul weight [in, out]: U(±1/√fan_in).
 */
export function drawWeight(init: Initializer, seed: number, name: string, dims: readonly number[], role: 'down' | 'up'): Tensor {
  // compile always gives a folder's values (adapterHubValues); a caller that sets values afterwards
  // (attaching an adapters file) may not: AdapterHub's own initialization, N(0, 0.02²), stands in.
  if (init.kind === 'adapterhub') return normalTensor(seed, name, dims, 0.02);
  if ((init.kind === 'identity' || init.kind === 'mam') && role === 'up') return constantTensor(name, dims, 0);
  if (init.kind === 'mam') return uniformTensor(seed, name, dims, 1 / Math.sqrt(dims[0]!));
  return normalTensor(seed, name, dims, init.std, init.kind === 'normal' ? init.truncate : undefined);
}
