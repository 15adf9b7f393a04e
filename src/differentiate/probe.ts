/**
 * Shapes of every value in a graph, found by running it. Gradient rules need ranks, the dims a
 * value was broadcast along, and which dims follow the batch and sequence length; exporters rarely
 * write all of that down. onnxruntime-node runs the forward graph twice, with two different batch
 * sizes and sequence lengths, and reports every value: a dim that differs between the two runs
 * depends on the input size (dynamic); the others are fixed.
 */
import type * as Ort from 'onnxruntime-node';
import { AdapterError, diagnostic } from '../diagnostics/index.js';
import { attr, attrFloat, attrInt, dataTypeBits, DataType, elementCount, elemTypeOf, makeTensor, makeValueInfo, shapeOf, type Model, type Node, type Tensor, type ValueInfo } from '../ir/index.js';
import { encodeModel } from '../load/index.js';

/**
 * onnxruntime-node, loaded on first use: its native library takes about 50 ms to load, which the
 * commands that never probe (check, fmt, inspect, compile --inference) need not pay.
 */
let onnxruntime: typeof Ort | undefined;
async function loadOnnxruntime(): Promise<typeof Ort> {
  onnxruntime ??= await import('onnxruntime-node');
  return onnxruntime;
}

export interface ProbedValue {
  readonly elemType: string;
  /** Dims in the first run. */
  readonly dims: readonly number[];
  /** Per axis: whether the dim changes with the batch size or sequence length. */
  readonly dynamic: readonly boolean[];
}

export type ShapeTable = ReadonlyMap<string, ProbedValue>;

/**
 * Batch size and sequence length of the two runs: above 1, so broadcast dims (1) stand out, and
 * both different in the second run, so that every dim that follows them (batch, sequence, their
 * product) changes. As small as that allows: the probe's cost is in proportion to its tokens.
 */
export const PROBE_RUNS = [
  { batch: 2, sequence: 2 },
  { batch: 3, sequence: 3 },
] as const;

/** The first run's input size, which the probed dims are for: for messages that quote them. */
export const PROBED_INPUT = `a batch of ${PROBE_RUNS[0].batch} sequences of ${PROBE_RUNS[0].sequence} tokens`;

function concreteDims(input: ValueInfo, run: (typeof PROBE_RUNS)[number]): number[] {
  const shape = shapeOf(input) ?? [];
  let symbolic = 0;
  return shape.map((d) => {
    if (typeof d === 'number' && d > 0) return d;
    // The first unknown dim is the batch, the next ones the sequence length.
    return symbolic++ === 0 ? run.batch : run.sequence;
  });
}

/** Inputs that look like real ones (exported for tests): token ids 1..5, a full attention mask, token types 0, positions within the sequence, small floats. */
export function feedFor(ort: typeof Ort, input: ValueInfo, run: (typeof PROBE_RUNS)[number], labelClasses: number): Ort.Tensor {
  const dims = concreteDims(input, run);
  const count = dims.reduce((a, b) => a * b, 1);
  const name = input.name.toLowerCase();
  const value = (i: number): number => {
    if (name.includes('mask')) return 1;
    if (name.includes('type') || name.includes('segment')) return 0;
    if (name === 'labels') return i % Math.max(1, labelClasses);
    // Position ids and masked-LM positions (flat row indices) must stay within the sequence.
    if (name.includes('position')) return i % run.sequence;
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

/** ONNX element types a zero weight can be fed as: a tensor over `count` elements at the start of `buffer`. */
const ZERO_FEEDS: Partial<Record<number, (ort: typeof Ort, buffer: ArrayBuffer, count: number, dims: readonly number[]) => Ort.Tensor>> = {
  [DataType.FLOAT]: (ort, b, n, dims) => new ort.Tensor('float32', new Float32Array(b, 0, n), dims),
  [DataType.INT64]: (ort, b, n, dims) => new ort.Tensor('int64', new BigInt64Array(b, 0, n), dims),
  [DataType.INT32]: (ort, b, n, dims) => new ort.Tensor('int32', new Int32Array(b, 0, n), dims),
  [DataType.UINT8]: (ort, b, n, dims) => new ort.Tensor('uint8', new Uint8Array(b, 0, n), dims),
  [DataType.BOOL]: (ort, b, n, dims) => new ort.Tensor('bool', new Uint8Array(b, 0, n), dims),
};

/** The probe model and the zero weights to feed it. */
interface WeightlessProbe {
  readonly model: Model;
  /** Feeds for the weights that became graph inputs: views of one shared zero buffer. */
  readonly zeros: Record<string, Ort.Tensor>;
}

/**
 * The products of the probe's zero weights, without the multiplications. With zeros for `W`, a
 * MatMul(X, W[K, N]) is all zeros of shape X[..., N]: so is X[..., 0:1] · zeros[N] (Gather of
 * index 0 along the last axis, then a broadcasting Mul), at no cost. A Gemm(A, B, C) with zero B is
 * beta·C broadcast to [M, N]: A[:, 0:1] · zeros[N] + beta·C. Same output names, shapes and values
 * (NaN where the input has ±inf, as the product has), so the probe reads the same table; but the
 * products were nearly all of its time: 1.0 s of BERT-large's compile on one thread.
 * Only products whose weight is a large 2-D initializer on the right are replaced.
 */
function withoutProducts(graph: Model['graph'], large: ReadonlyMap<string, Tensor>): { nodes: Node[]; initializers: Tensor[] } {
  const initializers: Tensor[] = [];
  const zeros = new Set<string>();
  const zerosOf = (weight: Tensor, count: number): string => {
    const name = `adapterc.probe.zeros.${weight.dataType}.${count}`;
    if (!zeros.has(name)) {
      zeros.add(name);
      initializers.push(makeTensor(name, [count], new Uint8Array((count * dataTypeBits(weight.dataType)!) / 8), weight.dataType));
    }
    return name;
  };
  const first = 'adapterc.probe.index0';
  initializers.push(makeTensor(first, [1], new BigInt64Array([0n])));
  const nodes: Node[] = [];
  for (const node of graph.nodes) {
    const weight = large.get(node.inputs[1] ?? '');
    const plain = node.domain === undefined || node.domain === '' || node.domain === 'ai.onnx';
    if (!plain || weight === undefined || weight.dims.length !== 2 || (node.opType !== 'MatMul' && node.opType !== 'Gemm')) {
      nodes.push(node);
      continue;
    }
    const out = node.outputs[0]!;
    if (node.opType === 'MatMul') {
      nodes.push(
        { opType: 'Gather', inputs: [node.inputs[0]!, first], outputs: [`${out}.probe.first`], attributes: [attr.int('axis', -1)] },
        { opType: 'Mul', inputs: [`${out}.probe.first`, zerosOf(weight, weight.dims[1]!)], outputs: [out], attributes: [] },
      );
      continue;
    }
    const bias = node.inputs[2] ?? '';
    const beta = attrFloat(node, 'beta', 1);
    // A transposed A, or a beta to apply to a C of another type than float32: kept as it is.
    if (attrInt(node, 'transA', 0) !== 0 || (bias !== '' && beta !== 1 && weight.dataType !== DataType.FLOAT)) {
      nodes.push(node);
      continue;
    }
    const columns = attrInt(node, 'transB', 0) === 0 ? weight.dims[1]! : weight.dims[0]!;
    nodes.push(
      { opType: 'Gather', inputs: [node.inputs[0]!, first], outputs: [`${out}.probe.first`], attributes: [attr.int('axis', 1)] },
      { opType: 'Mul', inputs: [`${out}.probe.first`, zerosOf(weight, columns)], outputs: [bias === '' ? out : `${out}.probe.product`], attributes: [] },
    );
    if (bias === '') continue;
    let scaled = bias;
    if (beta !== 1) {
      scaled = `${out}.probe.beta`;
      initializers.push(makeTensor(`${scaled}.value`, [], Float32Array.of(beta)));
      nodes.push({ opType: 'Mul', inputs: [bias, `${scaled}.value`], outputs: [scaled], attributes: [] });
    }
    nodes.push({ opType: 'Add', inputs: [`${out}.probe.product`, scaled], outputs: [out], attributes: [] });
  }
  return { nodes, initializers };
}

/**
 * The model with every large initializer turned into a graph input, fed zeros of the same shape
 * and type: shapes do not depend on weight values. Every one of those feeds is a view of one
 * zero-filled buffer as large as the largest weight; its pages are never written, so reading them
 * maps the kernel's shared zero page and costs neither copies nor memory. onnxruntime-node runs on
 * the feeds' memory as given. (Materializing the zeros in the graph, with ConstantOfShape, filled
 * 1.3 GB twice per probe for BERT-large: 2.7 s of its compile.) Products with those weights are
 * skipped altogether (`withoutProducts`).
 */
function weightlessCopy(ort: typeof Ort, model: Model): WeightlessProbe {
  const graph = model.graph;
  const large = graph.initializers.filter((t) => t.name && elementCount(t) > LARGE && ZERO_FEEDS[t.dataType ?? -1] !== undefined);
  const names = new Set(large.map((t) => t.name));
  const cheap = withoutProducts(graph, new Map(large.map((t) => [t.name!, t])));
  // Weights that only fed the replaced products need no feed at all.
  const used = new Set(cheap.nodes.flatMap((n) => n.inputs));
  const fed = large.filter((t) => used.has(t.name!) || graph.outputs.some((o) => o.name === t.name));
  const bytes = Math.max(0, ...fed.map((t) => (elementCount(t) * dataTypeBits(t.dataType)!) / 8));
  const buffer = new ArrayBuffer(bytes);
  const zeros: Record<string, Ort.Tensor> = {};
  for (const t of fed) {
    zeros[t.name!] = ZERO_FEEDS[t.dataType!]!(ort, buffer, elementCount(t), t.dims);
  }
  return {
    model: {
      ...model,
      graph: {
        ...graph,
        nodes: cheap.nodes,
        initializers: [...graph.initializers.filter((t) => !names.has(t.name)), ...cheap.initializers],
        inputs: [...graph.inputs.filter((i) => !names.has(i.name)), ...fed.map((t) => makeValueInfo(t.name!, t.dataType!, t.dims))],
      },
    },
    zeros,
  };
}

/**
 * Runs `model` (not changed) and returns the shape of every node output. `labelClasses` keeps a
 * `labels` input within the classifier's range; `threads` is onnxruntime's intra-op thread count.
 * Fails with ADP3002 if onnxruntime cannot run it.
 */
export async function probeShapes(model: Model, file: string, labelClasses = 2, threads = 1): Promise<ShapeTable> {
  const values = [...new Set(model.graph.nodes.flatMap((n) => n.outputs).filter((o) => o !== ''))];
  const ort = await loadOnnxruntime();
  const { model: probe, zeros } = weightlessCopy(ort, model);
  probe.graph.outputs = values.map((name) => ({ name }));
  const initializers = new Set(model.graph.initializers.map((t) => t.name));
  const inputs = model.graph.inputs.filter((i) => !initializers.has(i.name));
  const results: Array<Record<string, Ort.Tensor>> = [];
  try {
    // Inline: tensors read from a side file are in memory, and onnxruntime is given bytes, not a path.
    const session = await ort.InferenceSession.create(encodeModel(probe, { externalData: 'inline' }), { logSeverityLevel: 3, graphOptimizationLevel: 'disabled', intraOpNumThreads: threads });
    try {
      for (const run of PROBE_RUNS) results.push(await session.run({ ...zeros, ...Object.fromEntries(inputs.map((i) => [i.name, feedFor(ort, i, run, labelClasses)])) }));
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
    const dims = concreteDims(input, PROBE_RUNS[0]);
    const other = concreteDims(input, PROBE_RUNS[1]);
    table.set(input.name, { elemType: DataType.FLOAT === elemTypeOf(input) ? 'float32' : 'other', dims, dynamic: dims.map((d, i) => other[i] !== d) });
  }
  return table;
}
