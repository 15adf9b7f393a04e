/**
 * The oracle for static shape inference: onnxruntime-node runs a model with every node output
 * exposed, at two input sizes, and reports every value's element type and dims. Inferred shapes
 * (src/shapes/) are evaluated at the same sizes and must be equal.
 */
import * as ort from 'onnxruntime-node';
import { expect } from 'vitest';
import { cloneModel, DataType, elemTypeOf, shapeOf, type Model, type ValueInfo } from '../../src/ir/index.js';
import { encodeModel } from '../../src/load/index.js';
import { dims as symbolic, inferShapes } from '../../src/shapes/index.js';

export interface InputSize {
  readonly batch: number;
  readonly sequence: number;
}

/** Batch and sequence differ within a run and between runs, so a dim on the wrong symbol shows. */
export const ORACLE_SIZES: readonly InputSize[] = [
  { batch: 2, sequence: 3 },
  { batch: 3, sequence: 5 },
];

/** An input's dims at `size`: its first unknown dim the batch, the others the sequence (as inference takes them). */
function concreteDims(input: ValueInfo, size: InputSize): number[] {
  let unknown = 0;
  return (shapeOf(input) ?? []).map((d) => (typeof d === 'number' && d > 0 ? d : unknown++ === 0 ? size.batch : size.sequence));
}

/** Inputs that look like real ones: token ids 1..5, a full attention mask, token types 0, positions and labels in range, step 1, small floats. */
function feedFor(input: ValueInfo, size: InputSize, labelClasses: number): ort.Tensor {
  const dims = concreteDims(input, size);
  const count = dims.reduce((a, b) => a * b, 1);
  const name = input.name.toLowerCase();
  const value = (i: number): number => {
    if (name.includes('mask')) return 1;
    if (name.includes('type') || name.includes('segment')) return 0;
    if (name === 'labels') return i % Math.max(1, labelClasses);
    if (name.includes('position')) return i % size.sequence;
    if (name === 'step' || name === 'total_steps') return name === 'step' ? 1 : 10;
    return 1 + (i % 5);
  };
  switch (elemTypeOf(input)) {
    case DataType.INT64:
      return new ort.Tensor('int64', BigInt64Array.from({ length: count }, (_, i) => BigInt(value(i))), dims);
    case DataType.INT32:
      return new ort.Tensor('int32', Int32Array.from({ length: count }, (_, i) => value(i)), dims);
    case DataType.BOOL:
      return new ort.Tensor('bool', Uint8Array.from({ length: count }, () => 1), dims);
    default:
      return new ort.Tensor('float32', Float32Array.from({ length: count }, (_, i) => (name === 'labels' ? i % 2 : Math.sin(i) * 0.5)), dims);
  }
}

export interface RunShapes {
  readonly elemType: string;
  /** Dims per size in ORACLE_SIZES. */
  readonly dims: readonly (readonly number[])[];
}

/** Every node output's element type and dims, from onnxruntime running `model` (not changed) at each size. */
export async function ortShapes(model: Model, labelClasses = 2, sizes: readonly InputSize[] = ORACLE_SIZES): Promise<Map<string, RunShapes>> {
  const values = [...new Set(model.graph.nodes.flatMap((n) => n.outputs).filter((o) => o !== ''))];
  const copy = cloneModel(model);
  copy.graph.outputs = values.map((name) => ({ name }));
  const session = await ort.InferenceSession.create(encodeModel(copy, { externalData: 'inline' }), { logSeverityLevel: 3, graphOptimizationLevel: 'disabled' });
  const initializers = new Set(model.graph.initializers.map((t) => t.name));
  const inputs = model.graph.inputs.filter((i) => !initializers.has(i.name));
  const table = new Map<string, RunShapes>();
  try {
    for (const size of sizes) {
      const result = await session.run(Object.fromEntries(inputs.map((i) => [i.name, feedFor(i, size, labelClasses)])));
      for (const name of values) {
        const t = result[name];
        if (t === undefined) continue;
        table.set(name, { elemType: t.type, dims: [...(table.get(name)?.dims ?? []), [...t.dims]] });
      }
    }
  } finally {
    await session.release();
  }
  return table;
}

/** Asserts that the inferred shapes of `model` equal onnxruntime's at both sizes; returns how many values were compared. */
export async function expectInferenceMatchesOrt(model: Model, file: string, labelClasses = 2): Promise<number> {
  const inferred = inferShapes(model, file);
  const run = await ortShapes(model, labelClasses);
  for (const [name, r] of run) {
    const s = inferred.get(name);
    expect(s, `no inferred shape for '${name}'`).toBeDefined();
    expect(s!.elemType, `element type of '${name}'`).toBe(r.elemType);
    ORACLE_SIZES.forEach((size, k) => {
      const at = (x: string) => (x === symbolic.BATCH ? size.batch : x === symbolic.SEQUENCE ? size.sequence : Number.NaN);
      expect(s!.dims.map((d) => symbolic.evaluate(d, at)), `dims of '${name}' at batch ${size.batch}, sequence ${size.sequence}`).toEqual(r.dims[k]);
    });
  }
  return run.size;
}
