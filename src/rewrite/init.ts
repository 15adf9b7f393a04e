/**
 * Initial values of new parameters, deterministic from the spec's seed: each tensor draws from its
 * own random stream keyed by its name, so its values do not depend on which other tensors exist or
 * in which order they are made, and the same seed gives the same bytes on every machine.
 */
import { makeTensor, type Tensor } from '../ir/index.js';
import { fillNormal, streamFor } from '../util/prng.js';

/** normal(0, std²), values beyond ±truncate·std redrawn (TensorFlow's truncated_normal). */
export function normalTensor(seed: number, name: string, dims: readonly number[], std: number, truncate?: number): Tensor {
  const count = dims.reduce((a, b) => a * b, 1);
  const values = new Float32Array(count);
  const rng = streamFor(seed, name);
  fillNormal(values, rng, std);
  if (truncate !== undefined) {
    const limit = truncate * std;
    // One draw at a time, as normalSamples(rng, 1, std) draws, into one scratch value: about one
    // value in twenty is redrawn, and an array per redraw was a tenth of a BERT-base compile's init.
    const redraw = new Float32Array(1);
    for (let i = 0; i < count; i++) {
      while (Math.abs(values[i]!) > limit) {
        fillNormal(redraw, rng, std);
        values[i] = redraw[0]!;
      }
    }
  }
  return makeTensor(name, dims, values);
}

/** U(-bound, bound), from the parameter's own stream. */
export function uniformTensor(seed: number, name: string, dims: readonly number[], bound: number): Tensor {
  const values = new Float32Array(dims.reduce((a, b) => a * b, 1));
  const rng = streamFor(seed, name);
  // (k + 0.5) / 2^32 lies strictly inside (0, 1): exact in doubles, the same on every machine.
  for (let i = 0; i < values.length; i++) values[i] = ((rng.nextUint32() + 0.5) / 4294967296) * 2 * bound - bound;
  return makeTensor(name, dims, values);
}

export function constantTensor(name: string, dims: readonly number[], value: number): Tensor {
  return makeTensor(name, dims, new Float32Array(dims.reduce((a, b) => a * b, 1)).fill(value));
}
