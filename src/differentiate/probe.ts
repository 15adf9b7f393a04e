/**
 * Shapes of every value in a graph, found by running it. Gradient rules need ranks, the dims a
 * value was broadcast along, and which dims follow the batch and sequence length; exporters rarely
 * write all of that down. onnxruntime-node runs the forward graph twice, with two different batch
 * sizes and sequence lengths, and reports every value: a dim that differs between the two runs
 * depends on the input size (dynamic); the others are fixed.
 */
import * as ort from 'onnxruntime-node';
import { AdapterError, diagnostic } from '../diagnostics/index.js';
import { attr, dataTypeBits, DataType, elementCount, elemTypeOf, makeTensor, shapeOf, type Model, type Node, type ValueInfo } from '../ir/index.js';
import { encodeModel } from '../load/index.js';

export interface ProbedValue {
  readonly elemType: string;
  /** Dims in the first run. */
  readonly dims: readonly number[];
  /** Per axis: whether the dim changes with the batch size or sequence length. */
  readonly dynamic: readonly boolean[];
}

export type ShapeTable = ReadonlyMap<string, ProbedValue>;

/** Batch size and sequence length of the two runs; distinct and above 1, so broadcast dims (1) stand out. */
const runs = [
  { batch: 2, sequence: 5 },
  { batch: 3, sequence: 7 },
] as const;

function concreteDims(input: ValueInfo, run: (typeof runs)[number]): number[] {
  const shape = shapeOf(input) ?? [];
  let symbolic = 0;
  return shape.map((d) => {
    if (typeof d === 'number' && d > 0) return d;
    // The first unknown dim is the batch, the next ones the sequence length.
    return symbolic++ === 0 ? run.batch : run.sequence;
  });
}

/** Inputs that look like real ones: token ids 1..5, a full attention mask, token types 0, small floats. */
function feedFor(input: ValueInfo, run: (typeof runs)[number], labelClasses: number): ort.Tensor {
  const dims = concreteDims(input, run);
  const count = dims.reduce((a, b) => a * b, 1);
  const name = input.name.toLowerCase();
  const value = (i: number): number => {
    if (name.includes('mask')) return 1;
    if (name.includes('type') || name.includes('segment')) return 0;
    if (name === 'labels') return i % Math.max(1, labelClasses);
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

/** Initializers above this many elements are not copied into the probe (see `weightlessCopy`). */
const LARGE = 1024;

/**
 * The model with every large initializer replaced by a ConstantOfShape node of the same shape and
 * type: shapes do not depend on weight values, and onnxruntime then allocates zeros instead of
 * parsing and copying hundreds of megabytes of weights, which makes probing a BERT-large cheap.
 */
function weightlessCopy(model: Model): Model {
  const graph = model.graph;
  const large = graph.initializers.filter((t) => t.name && elementCount(t) > LARGE);
  const names = new Set(large.map((t) => t.name));
  const zeros = large.map(
    (t): Node => ({
      opType: 'ConstantOfShape',
      name: `probe.zeros.${t.name}`,
      inputs: [`probe.shape.${t.name}`],
      outputs: [t.name!],
      attributes: [attr.tensor('value', makeTensor('', [1], new Uint8Array(dataTypeBits(t.dataType)! / 8), t.dataType))],
    }),
  );
  const shapes = large.map((t) => makeTensor(`probe.shape.${t.name}`, [t.dims.length], new BigInt64Array(t.dims.map(BigInt))));
  return {
    ...model,
    graph: {
      ...graph,
      nodes: [...zeros, ...graph.nodes],
      initializers: [...graph.initializers.filter((t) => !names.has(t.name)), ...shapes],
      inputs: graph.inputs.filter((i) => !names.has(i.name)),
    },
  };
}

/**
 * Runs `model` (not changed) and returns the shape of every node output. `labelClasses` keeps a
 * `labels` input within the classifier's range. Fails with ADP3002 if onnxruntime cannot run it.
 */
export async function probeShapes(model: Model, file: string, labelClasses = 2): Promise<ShapeTable> {
  const values = [...new Set(model.graph.nodes.flatMap((n) => n.outputs).filter((o) => o !== ''))];
  const probe = weightlessCopy(model);
  probe.graph.outputs = values.map((name) => ({ name }));
  const initializers = new Set(model.graph.initializers.map((t) => t.name));
  const inputs = model.graph.inputs.filter((i) => !initializers.has(i.name));
  const results: Array<Record<string, ort.Tensor>> = [];
  try {
    // Inline: tensors read from a side file are in memory, and onnxruntime is given bytes, not a path.
    // One thread: the probe's batches are tiny, and on two cores a second thread was measured slower (bench/compile.ts).
    const session = await ort.InferenceSession.create(encodeModel(probe, { externalData: 'inline' }), { logSeverityLevel: 3, graphOptimizationLevel: 'disabled', intraOpNumThreads: 1 });
    try {
      for (const run of runs) results.push(await session.run(Object.fromEntries(inputs.map((i) => [i.name, feedFor(i, run, labelClasses)]))));
    } finally {
      await session.release();
    }
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0]! : String(error);
    throw new AdapterError([
      diagnostic('ADP3002', { file, reason }, { file }, 'adapterc runs the model once in onnxruntime to learn the shapes its gradients need; a model onnxruntime cannot run cannot be trained here'),
    ]);
  }
  const table = new Map<string, ProbedValue>();
  for (const name of values) {
    const first = results[0]![name];
    const second = results[1]![name];
    if (!first || !second) continue;
    const dims = [...first.dims];
    table.set(name, { elemType: first.type, dims, dynamic: dims.map((d, i) => second.dims.length !== dims.length || second.dims[i] !== d) });
  }
  for (const input of inputs) {
    const dims = concreteDims(input, runs[0]);
    const other = concreteDims(input, runs[1]);
    table.set(input.name, { elemType: DataType.FLOAT === elemTypeOf(input) ? 'float32' : 'other', dims, dynamic: dims.map((d, i) => other[i] !== d) });
  }
  return table;
}
