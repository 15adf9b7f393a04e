/** Test helpers: seeded model inputs and running a synthetic model in onnxruntime-node. */
import ort from 'onnxruntime-node';
import type { onnx } from 'onnx-proto';
import type { SyntheticBertManifest } from '../../src/synth/index.js';
import { streamFor, uniformInt } from '../../src/util/prng.js';
import { proto } from '../../src/synth/proto.js';

export const BATCH = 2;
export const SEQ = 8;
/** Valid lengths per sequence: the second is padded. */
export const LENGTHS = [SEQ, 5] as const;

export interface Feeds {
  readonly ids: number[];
  readonly mask: number[];
  readonly types: number[];
}

/** Seeded token ids (padding id 0 after each sequence's length), mask 1/0, segment 0 then 1. */
export function makeFeeds(vocab: number, seed = 1): Feeds {
  const rng = streamFor(seed, 'test-inputs');
  const ids: number[] = [];
  const mask: number[] = [];
  const types: number[] = [];
  for (let b = 0; b < BATCH; b++) {
    const length = LENGTHS[b]!;
    for (let t = 0; t < SEQ; t++) {
      const valid = t < length;
      ids.push(valid ? 1 + uniformInt(rng, vocab - 1) : 0);
      mask.push(valid ? 1 : 0);
      types.push(valid && t >= length / 2 ? 1 : 0);
    }
  }
  return { ids, mask, types };
}

function tensor(values: readonly number[], elemType: string): ort.Tensor {
  return elemType === 'int32'
    ? new ort.Tensor('int32', Int32Array.from(values), [BATCH, SEQ])
    : new ort.Tensor('int64', BigInt64Array.from(values.map((v) => BigInt(v))), [BATCH, SEQ]);
}

export interface RunResult {
  readonly outputs: Record<string, { dims: readonly number[]; data: Float32Array }>;
}

/** Loads `model` (bytes, or a file path) in onnxruntime-node and runs it on the seeded feeds. */
export async function runModel(model: Uint8Array | string, manifest: SyntheticBertManifest, feeds: Feeds = makeFeeds(manifest.vocab)): Promise<RunResult> {
  // Paths and buffers are separate overloads of create().
  const session = typeof model === 'string' ? await ort.InferenceSession.create(model) : await ort.InferenceSession.create(model);
  try {
    const elemType = manifest.inputs[0]!.elemType;
    const roles = manifest.inputRoles;
    const inputFeeds: Record<string, ort.Tensor> = {
      [roles.inputIds]: tensor(feeds.ids, elemType),
      [roles.attentionMask]: tensor(feeds.mask, elemType),
      [roles.tokenTypeIds]: tensor(feeds.types, elemType),
    };
    const results = await session.run(inputFeeds);
    const outputs: RunResult['outputs'] = {};
    for (const [name, value] of Object.entries(results)) outputs[name] = { dims: value.dims, data: value.data as Float32Array };
    return { outputs };
  } finally {
    await session.release();
  }
}

export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

export function allFinite(a: Float32Array): boolean {
  return a.every((v) => Number.isFinite(v));
}

/** Float32 values of an initializer's raw_data. */
export function floats(tensor: onnx.ITensorProto): Float32Array {
  const raw = tensor.rawData!;
  return new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
}

export function initializer(model: onnx.IModelProto, name: string): onnx.ITensorProto {
  const found = model.graph!.initializer!.find((t) => t.name === name);
  if (found === undefined) throw new Error(`no initializer ${name}`);
  return found;
}

export function decode(bytes: Uint8Array): onnx.ModelProto {
  return proto.ModelProto.decode(bytes);
}
