/**
 * Running models in onnxruntime-node on seeded inputs that fit a BERT: token ids, attention masks
 * and token types under whatever names and integer types the exporter chose, and random floats for
 * float inputs. Symbolic dims become batch 2 (the first) and sequence 8 (the others).
 */
import * as ort from 'onnxruntime-node';
import { DataType, elemTypeOf, shapeOf, type Model, type ValueInfo } from '../../src/ir/index.js';

/** mulberry32: a small seeded generator, so runs are repeatable. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function concreteShape(v: ValueInfo): number[] {
  const shape = shapeOf(v) ?? [2, 8];
  return shape.map((d, i) => (typeof d === 'number' && d > 0 ? d : i === 0 ? 2 : 8));
}

/** One integer per element, by what the input's name says it is. */
function integerValues(name: string, shape: number[], next: () => number): number[] {
  const count = shape.reduce((a, b) => a * b, 1);
  const lower = name.toLowerCase();
  const row = shape[shape.length - 1] ?? 1;
  if (lower.includes('mask')) {
    // Real tokens then padding: later rows lose a couple of positions.
    return Array.from({ length: count }, (_, i) => {
      const r = Math.floor(i / row);
      return i % row < row - Math.min(r * 2, row - 1) ? 1 : 0;
    });
  }
  if (lower.includes('type') || lower.includes('segment')) return Array.from({ length: count }, (_, i) => (i % row >= row / 2 ? 1 : 0));
  // Token ids: small enough for every corpus vocabulary.
  return Array.from({ length: count }, () => 1 + Math.floor(next() * 15));
}

export function seededInputs(model: Model, seed = 42): Record<string, ort.Tensor> {
  const next = random(seed);
  const initializers = new Set(model.graph.initializers.map((t) => t.name));
  const feeds: Record<string, ort.Tensor> = {};
  for (const input of model.graph.inputs) {
    if (initializers.has(input.name)) continue; // old exporters list weights as inputs too
    const shape = concreteShape(input);
    const type = elemTypeOf(input);
    if (type === DataType.INT64) {
      feeds[input.name] = new ort.Tensor('int64', BigInt64Array.from(integerValues(input.name, shape, next), BigInt), shape);
    } else if (type === DataType.INT32) {
      feeds[input.name] = new ort.Tensor('int32', Int32Array.from(integerValues(input.name, shape, next)), shape);
    } else if (type === DataType.FLOAT) {
      const count = shape.reduce((a, b) => a * b, 1);
      feeds[input.name] = new ort.Tensor('float32', Float32Array.from({ length: count }, () => next() * 2 - 1), shape);
    } else {
      throw new Error(`no seeded input for ${input.name} of type ${type}`);
    }
  }
  return feeds;
}

/** Runs a model (a path, so that external data resolves) and returns each output's bytes. */
export async function runModel(modelPath: string, feeds: Record<string, ort.Tensor>): Promise<Record<string, Buffer>> {
  const session = await ort.InferenceSession.create(modelPath, { graphOptimizationLevel: 'disabled', intraOpNumThreads: 1 });
  try {
    const results = await session.run(feeds);
    const out: Record<string, Buffer> = {};
    for (const name of session.outputNames) {
      const data = results[name]!.data as ArrayBufferView;
      out[name] = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    }
    return out;
  } finally {
    await session.release();
  }
}
