/**
 * Helpers for the export tests: a trained checkpoint written from a training run (the session's
 * parameters mapped back to names and shapes), and models run in onnxruntime-node.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import ort from 'onnxruntime-node';
import { decodeCheckpoint, encodeCheckpoint } from '../../src/emit/checkpoint/index.js';
import { makeTensor, readFloat32, type Tensor } from '../../src/ir/index.js';
import type { Feeds } from '../../src/runtime/ort-training.js';
import { taskFeeds, train } from '../artifacts/harness.js';

export interface TrainedFolder {
  /** The trained trainable parameters, by name. */
  readonly trained: ReadonlyMap<string, Tensor>;
  /** The frozen parameters, by name (from the compiled checkpoint). */
  readonly frozen: ReadonlyMap<string, Tensor>;
  /** The trainable parameters as compiled (before training), by name. */
  readonly initial: ReadonlyMap<string, Tensor>;
  readonly checkpoint: string;
}

/**
 * Trains the folder's artifacts for `steps` steps and writes the result to `<folder>/trained/checkpoint`
 * (where `adapterc train` puts it): the session's trainable parameters (first in its parameter
 * order, in the training model's input order, which is the compiled checkpoint's order) under the
 * compiled checkpoint's names and shapes, and the frozen parameters unchanged.
 */
export async function trainToCheckpoint(folder: string, steps = 10): Promise<TrainedFolder> {
  const compiled = decodeCheckpoint(new Uint8Array(readFileSync(path.join(folder, 'checkpoint'))));
  const run = await train(folder, steps);
  const sizes = compiled.trainable.map((t) => t.dims.reduce((a, b) => a * b, 1));
  if (sizes.reduce((a, b) => a + b, 0) !== run.trainableCount) throw new Error(`trainable sizes ${sizes.reduce((a, b) => a + b, 0)} ≠ session's ${run.trainableCount}`);
  const trained: Tensor[] = [];
  let offset = 0;
  compiled.trainable.forEach((t, i) => {
    const before = run.before.subarray(offset, offset + sizes[i]!);
    // The mapping is right only if the session's initial values are the checkpoint's, in order.
    if (!before.every((v, k) => Object.is(v, readFloat32(t)[k]))) throw new Error(`parameter order differs at '${t.name}'`);
    trained.push(makeTensor(t.name!, t.dims, run.after.slice(offset, offset + sizes[i]!)));
    offset += sizes[i]!;
  });
  const checkpoint = path.join(folder, 'trained', 'checkpoint');
  mkdirSync(path.dirname(checkpoint), { recursive: true });
  writeFileSync(checkpoint, encodeCheckpoint({ trainable: trained, frozen: compiled.frozen }));
  const byName = (ts: readonly Tensor[]) => new Map(ts.map((t) => [t.name!, t]));
  return { trained: byName(trained), frozen: byName(compiled.frozen), initial: byName(compiled.trainable), checkpoint };
}

function ortTensor(feed: Feeds[string]): ort.Tensor {
  const d = feed.data;
  if (d instanceof Float32Array) return new ort.Tensor('float32', d, [...feed.dims]);
  if (d instanceof BigInt64Array) return new ort.Tensor('int64', d, [...feed.dims]);
  if (d instanceof Int32Array) return new ort.Tensor('int32', d, [...feed.dims]);
  throw new Error('unsupported feed');
}

/** Inputs for a synthetic BERT with Hugging Face input names: batch 2, sequence 6, the second padded. */
export function syntheticFeeds(vocab = 512): Feeds {
  const ids = BigInt64Array.from({ length: 12 }, (_, i) => BigInt(1 + ((i * 37 + 11) % (vocab - 1))));
  const mask = BigInt64Array.from({ length: 12 }, (_, i) => (i >= 6 + 4 ? 0n : 1n));
  const types = BigInt64Array.from({ length: 12 }, (_, i) => (i % 6 >= 3 ? 1n : 0n));
  return { input_ids: { data: ids, dims: [2, 6] }, attention_mask: { data: mask, dims: [2, 6] }, token_type_ids: { data: types, dims: [2, 6] } };
}

/** The task inputs of a compiled folder (see harness.taskFeeds), labels included. */
export { taskFeeds };

/**
 * Runs a model in onnxruntime-node on `feeds` (inputs it does not have are ignored), feeding any
 * other input from `parameters` (the eval model's parameter inputs). Returns every output.
 */
export async function runModel(file: string, feeds: Feeds, parameters: ReadonlyMap<string, Tensor> = new Map()): Promise<Record<string, Float32Array>> {
  const session = await ort.InferenceSession.create(file);
  try {
    const inputs: Record<string, ort.Tensor> = {};
    for (const name of session.inputNames) {
      const feed = feeds[name];
      if (feed !== undefined) inputs[name] = ortTensor(feed);
      else {
        const p = parameters.get(name);
        if (p === undefined) throw new Error(`no value for input '${name}' of ${file}`);
        inputs[name] = new ort.Tensor('float32', new Float32Array(readFloat32(p)), p.dims);
      }
    }
    const results = await session.run(inputs);
    const out: Record<string, Float32Array> = {};
    for (const [name, t] of Object.entries(results)) out[name] = new Float32Array(t.data as Float32Array);
    return out;
  } finally {
    await session.release();
  }
}

export { maxAbsDiff } from '../rewrite/helpers.js';

export function writeSpec(file: string, text: string): string {
  writeFileSync(file, text);
  return file;
}
