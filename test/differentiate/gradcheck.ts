/**
 * Gradient checking for the differentiate stage: tiny graphs built by hand in the IR, differentiated
 * with `differentiate`, run in onnxruntime-node and compared element by element with central finite
 * differences of the same forward graph.
 *
 * The loss of a case is L = Σⱼ Σ yⱼ · Wⱼ over the case's output values yⱼ, with Wⱼ fixed seeded
 * random weights (so dL/dyⱼ = Wⱼ is not trivially all ones and a gradient sent to the wrong element
 * shows). In the differentiated graph the loss is ReduceSum(Mul(yⱼ, Wⱼ)) (summed by Sum when there
 * are several outputs), the Wⱼ being graph inputs fed at run time; the finite differences run the
 * forward graph alone and sum yⱼ · Wⱼ in double precision, so only the float32 rounding of yⱼ
 * itself enters the difference quotient.
 *
 * Shapes: `shapeTable` infers them statically (dims at batch 2, sequence 2, and which follow the
 * input size). The weight inputs are added after inference, so their entries (and those of the two
 * or three loss nodes, whose shapes are those of yⱼ and a scalar) are added to the table by hand.
 * The check itself runs at another size (batch 3, sequence 4): a rule that baked the table's
 * lengths into the backward graph fails here.
 *
 * Finite differences and tolerance. The relative error |fd - analytic| / max(|fd| + |analytic|,
 * 1e-3) must stay ≤ 1e-2 on every element; a real mistake (a missing transpose, a wrong factor, a
 * gradient summed over the wrong axis or sent to the wrong element) gives an error of order 1. The
 * floor 1e-3 keeps elements whose gradient is (nearly) zero from dividing noise by nothing, so for
 * those the absolute error must stay below 1e-5. Two error sources:
 * - Rounding: the forward outputs are float32 (ε₃₂ ≈ 6e-8 relative each), so a difference quotient
 *   carries about ε₃₂·|y|·|W|·√(outputs that move)/h of noise (float32 roundoff ≈ 1e-7·|L|/h).
 *   Measured: ≈ 8e-6 at h = 1e-2 on a LayerNorm row, i.e. up to 8e-3 relative on near-zero
 *   gradients, too close to 1e-2; h = 3e-2 brings it to ≈ 2e-6 (2e-3 relative at worst).
 * - Truncation: the plain central difference (f(x+h) - f(x-h)) / 2h errs by h²·f'''/6, which is
 *   not small next to a small gradient: for y = x³ it is exactly h², 1% of 3x² at x = 0.03 with
 *   h = 1e-2 (seen here, on an element with gradient 3e-3). The checks use the fourth-order central
 *   difference (8(f(x+h) - f(x-h)) - (f(x+2h) - f(x-2h))) / 12h instead, whose truncation error
 *   h⁴·f⁽⁵⁾/30 is ≈ 3e-8·|f⁽⁵⁾| at h = 3e-2 (exact for polynomials up to degree 4).
 * Hence h = 3e-2·max(1, |x|) (relative for large |x|, so that x ± h is not lost to float32 rounding)
 * with the fourth-order formula. Inputs of ops with a kink or a pole (Relu, Reciprocal, Div, Log,
 * Sqrt) are drawn at least 0.3 away from it, farther than the 2h = 0.06 the stencil reaches.
 */
import * as ort from 'onnxruntime-node';
import { differentiate } from '../../src/differentiate/backward.js';
import { unfuse } from '../../src/differentiate/unfuse.js';
import { AdapterError } from '../../src/diagnostics/index.js';
import { attr, DataType, makeTensor, makeValueInfo, type Attribute, type DimValue, type Model, type Node, type Tensor } from '../../src/ir/index.js';
import { encodeModel } from '../../src/load/index.js';
import { shapeTable, type TableValue } from '../../src/shapes/index.js';
import { streamFor, type Uint32Source } from '../../src/util/prng.js';

/** The sizes the checks run at (the shape table's dims are for batch 2, sequence 2). */
export const CHECK_SIZES = { batch: 3, seq: 4 } as const;

/** Relative error allowed between finite differences and the analytic gradient (see the file comment). */
export const TOLERANCE = 1e-2;

/** The relative error of the brief: |fd - an| / max(|fd| + |an|, 1e-3). */
export function relativeError(fd: number, analytic: number): number {
  return Math.abs(fd - analytic) / Math.max(Math.abs(fd) + Math.abs(analytic), 1e-3);
}

/** The finite-difference step for a parameter value x. */
export function stepFor(x: number): number {
  return 3e-2 * Math.max(1, Math.abs(x));
}

// ---------------------------------------------------------------------------------------------
// Building tiny graphs.

export function op(opType: string, inputs: string[], outputs: string | string[], attributes: Attribute[] = [], extra: { name?: string; domain?: string } = {}): Node {
  const outs = typeof outputs === 'string' ? [outputs] : outputs;
  return { opType, inputs, outputs: outs, name: extra.name ?? `${opType.toLowerCase()}_${outs[0]}`, attributes, ...(extra.domain ? { domain: extra.domain } : {}) };
}

/** Contrib ops of ONNX Runtime. */
export function msOp(opType: string, inputs: string[], outputs: string | string[], attributes: Attribute[] = []): Node {
  return op(opType, inputs, outputs, attributes, { domain: 'com.microsoft' });
}

/** INT64_MAX, the "to the end" of Slice ends. */
export const INT64_MAX = 9223372036854775807n;

export const int64s = (name: string, values: readonly (number | bigint)[], dims: readonly number[] = [values.length]): Tensor =>
  makeTensor(name, dims, BigInt64Array.from(values.map((v) => (typeof v === 'bigint' ? v : BigInt(v)))));
export const int64Scalar = (name: string, value: number): Tensor => makeTensor(name, [], new BigInt64Array([BigInt(value)]));
export const float32s = (name: string, values: readonly number[], dims: readonly number[] = [values.length]): Tensor => makeTensor(name, dims, Float32Array.from(values));

/** How the values of an input are drawn at the check sizes. */
export type Values =
  /** Uniform in [lo, hi], optionally kept at least `away` from 0 (Relu, Reciprocal, Div). */
  | { readonly lo: number; readonly hi: number; readonly away?: number }
  /** Element i of `count` (e.g. token ids). */
  | ((i: number, count: number) => number);

export interface CaseInput {
  readonly name: string;
  /** Numbers, or 'batch' / 'seq' for the dynamic axes. */
  readonly dims: readonly DimValue[];
  /** Default float. */
  readonly type?: 'float' | 'int64' | 'int32' | 'bool';
  /** Default: a float input is a parameter (its gradient is checked); others never are. */
  readonly parameter?: boolean;
  /** Default uniform in [-1.5, 1.5]. */
  readonly values?: Values;
}

export interface GradCase {
  readonly name: string;
  /** The registry key (op type) whose rule this case checks; '' for cases that check no single rule. */
  readonly op: string;
  readonly opset: number;
  readonly inputs: readonly CaseInput[];
  readonly initializers?: readonly Tensor[];
  readonly nodes: readonly Node[];
  /** The float values the loss weighs and sums. */
  readonly outputs: readonly string[];
  /** Run `unfuse` before differentiating (com.microsoft ops). */
  readonly unfuse?: boolean;
}

function irVersionFor(opset: number): number {
  if (opset >= 21) return 10;
  if (opset >= 19) return 9;
  return 8;
}

/** The forward graph of a case, with the case outputs as graph outputs. */
export function buildModel(c: GradCase): Model {
  const elem = (t: CaseInput['type']) => (t === 'int64' ? DataType.INT64 : t === 'int32' ? DataType.INT32 : t === 'bool' ? DataType.BOOL : DataType.FLOAT);
  const usesMs = c.nodes.some((n) => n.domain === 'com.microsoft');
  return {
    irVersion: irVersionFor(c.opset),
    opsetImports: [{ domain: '', version: c.opset }, ...(usesMs ? [{ domain: 'com.microsoft', version: 1 }] : [])],
    metadata: [],
    graph: {
      name: c.name.replace(/[^A-Za-z0-9_]/g, '_'),
      // Fresh copies: the builders and `unfuse` change node lists and initializers in place.
      nodes: c.nodes.map((n) => ({ ...n, inputs: [...n.inputs], outputs: [...n.outputs], attributes: [...n.attributes] })),
      initializers: [...(c.initializers ?? [])],
      inputs: c.inputs.map((i) => makeValueInfo(i.name, elem(i.type), i.dims)),
      outputs: c.outputs.map((o) => makeValueInfo(o, DataType.FLOAT)),
      valueInfo: [],
    },
  };
}

export const isParameter = (i: CaseInput): boolean => (i.parameter ?? (i.type ?? 'float') === 'float') && (i.type ?? 'float') === 'float';

function uniform(rng: Uint32Source): number {
  return (rng.nextUint32() + 0.5) / 0x1_0000_0000;
}

/** `count` seeded values drawn as `values` says. */
export function drawValues(values: Values | undefined, count: number, rng: Uint32Source): number[] {
  const spec = values ?? { lo: -1.5, hi: 1.5 };
  if (typeof spec === 'function') return Array.from({ length: count }, (_, i) => spec(i, count));
  const away = spec.away ?? 0;
  return Array.from({ length: count }, () => {
    for (;;) {
      const v = spec.lo + (spec.hi - spec.lo) * uniform(rng);
      if (Math.abs(v) >= away) return v;
    }
  });
}

function concreteDims(dims: readonly DimValue[]): number[] {
  return dims.map((d) => (typeof d === 'number' ? d : d === 'seq' ? CHECK_SIZES.seq : CHECK_SIZES.batch));
}

function tensorOf(input: CaseInput, values: readonly number[], dims: number[]): ort.Tensor {
  switch (input.type ?? 'float') {
    case 'int64':
      return new ort.Tensor('int64', BigInt64Array.from(values.map((v) => BigInt(v))), dims);
    case 'int32':
      return new ort.Tensor('int32', Int32Array.from(values), dims);
    case 'bool':
      return new ort.Tensor('bool', Uint8Array.from(values.map((v) => (v ? 1 : 0))), dims);
    default:
      return new ort.Tensor('float32', Float32Array.from(values), dims);
  }
}

export const sessionOptions: ort.InferenceSession.SessionOptions = {
  logSeverityLevel: 3,
  graphOptimizationLevel: 'disabled',
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  enableCpuMemArena: false,
  enableMemPattern: false,
};

// ---------------------------------------------------------------------------------------------
// Differentiating a case.

export interface Prepared {
  readonly model: Model;
  /** The forward graph (after unfusing, when asked), encoded before any loss or backward node. */
  readonly forward: Uint8Array;
  readonly shapes: Map<string, TableValue>;
  readonly loss: string;
  /** Per case output, the weight input it is multiplied by. */
  readonly weights: readonly string[];
  readonly parameters: readonly string[];
}

/** Builds, infers shapes, unfuses (when asked) and appends the weighted-sum loss; does not differentiate. */
export async function prepare(c: GradCase): Promise<Prepared> {
  const model = buildModel(c);
  let shapes = new Map(shapeTable(model, `${c.name}.onnx`));
  if (c.unfuse) {
    unfuse(model, shapes);
    shapes = new Map(shapeTable(model, `${c.name}.onnx`));
  }
  const forward = encodeModel(model);
  const graph = model.graph;
  const weights: string[] = [];
  const terms: string[] = [];
  const scalar: TableValue = { elemType: 'float32', dims: [], dynamic: [], symbolic: '' };
  c.outputs.forEach((y, j) => {
    const inferred = shapes.get(y);
    if (!inferred) throw new Error(`${c.name}: no inferred shape for '${y}'`);
    const w = `loss.weight.${j}`;
    const product = `loss.product.${j}`;
    const term = `loss.term.${j}`;
    graph.inputs.push(makeValueInfo(w, DataType.FLOAT));
    graph.nodes.push(op('Mul', [y, w], product), op('ReduceSum', [product], term, [attr.int('keepdims', 0)]));
    shapes.set(w, inferred);
    shapes.set(product, inferred);
    shapes.set(term, scalar);
    weights.push(w);
    terms.push(term);
  });
  let loss = terms[0]!;
  if (terms.length > 1) {
    loss = 'loss';
    graph.nodes.push(op('Sum', terms, loss));
    shapes.set(loss, scalar);
  }
  return { model, forward, shapes, loss, weights, parameters: c.inputs.filter(isParameter).map((i) => i.name) };
}

/** `prepare` then `differentiate`: what must-not-apply cases expect to throw. */
export async function differentiateCase(c: GradCase): Promise<void> {
  const p = await prepare(c);
  differentiate(p.model, p.loss, p.parameters, p.shapes);
}

/** The AdapterError codes and messages `run` rejects with (an Error that is not an AdapterError is rethrown). */
export async function adapterErrorOf(run: () => Promise<unknown>): Promise<{ code: string; message: string }[]> {
  try {
    await run();
  } catch (error) {
    if (error instanceof AdapterError) return error.diagnostics.map((d) => ({ code: d.code, message: d.message }));
    throw error;
  }
  return [];
}

export interface Mismatch {
  readonly parameter: string;
  readonly element: number;
  readonly fd: number;
  readonly analytic: number;
  readonly error: number;
}

export interface CheckResult {
  /** The largest relative error over every checked element. */
  readonly worst: number;
  /** Elements checked. */
  readonly checked: number;
  readonly mismatches: readonly Mismatch[];
  /** |loss computed by the graph - Σ y·W in double|, relative to the latter (sanity of the loss graph). */
  readonly lossAgreement: number;
  /** Nodes the backward pass added. */
  readonly backwardNodes: number;
}

export interface CaseFeeds {
  readonly feeds: Record<string, ort.Tensor>;
  /** The parameters' values (as float32) and dims. */
  readonly values: Map<string, Float32Array>;
  readonly dimsOf: Map<string, number[]>;
}

/** Seeded values of every case input at the check sizes. */
export function caseFeeds(c: GradCase, seed = 1): CaseFeeds {
  const feeds: Record<string, ort.Tensor> = {};
  const values = new Map<string, Float32Array>();
  const dimsOf = new Map<string, number[]>();
  for (const input of c.inputs) {
    const dims = concreteDims(input.dims);
    const count = dims.reduce((a, b) => a * b, 1);
    const drawn = drawValues(input.values, count, streamFor(seed, `${c.name}/${input.name}`));
    feeds[input.name] = tensorOf(input, drawn, dims);
    if (isParameter(input)) {
      values.set(input.name, Float32Array.from(drawn));
      dimsOf.set(input.name, dims);
    }
  }
  return { feeds, values, dimsOf };
}

/** Runs `model` once and returns the named float outputs. */
export async function runOnce(model: Model, feeds: Record<string, ort.Tensor>, names: readonly string[]): Promise<Float32Array[]> {
  const session = await ort.InferenceSession.create(encodeModel(model), sessionOptions);
  try {
    const results = await session.run(feeds, [...names]);
    return names.map((n) => results[n]!.data as Float32Array);
  } finally {
    await session.release();
  }
}

/** Central finite differences against `differentiate` on every element of every parameter. */
export async function gradCheck(c: GradCase, seed = 1): Promise<CheckResult> {
  const p = await prepare(c);
  const gradients = differentiate(p.model, p.loss, p.parameters, p.shapes);
  const gradNames = p.parameters.map((name) => gradients.byParameter.get(name)!);
  const outputNames = [...new Set([p.loss, ...gradNames])];
  p.model.graph.outputs = outputNames.map((o) => makeValueInfo(o, DataType.FLOAT));

  const { feeds, values, dimsOf } = caseFeeds(c, seed);
  const forward = await ort.InferenceSession.create(p.forward, sessionOptions);
  const backward = await ort.InferenceSession.create(encodeModel(p.model), sessionOptions);
  try {
    // The forward outputs at the check sizes give the weights' shapes.
    const first = await forward.run(feeds);
    const weights = c.outputs.map((y, j) => {
      const t = first[y]!;
      const count = t.dims.reduce((a, b) => a * b, 1);
      const w = Float64Array.from(drawValues({ lo: -1, hi: 1 }, count, streamFor(seed, `${c.name}/weight.${j}`)), (v) => Math.fround(v));
      feeds[p.weights[j]!] = new ort.Tensor('float32', Float32Array.from(w), [...t.dims]);
      return w;
    });
    const lossOf = (results: Record<string, ort.Tensor>): number => {
      let sum = 0;
      c.outputs.forEach((y, j) => {
        const data = results[y]!.data as Float32Array;
        const w = weights[j]!;
        if (data.length !== w.length) throw new Error(`${c.name}: output '${y}' changed size under perturbation`);
        for (let i = 0; i < data.length; i++) sum += data[i]! * w[i]!;
      });
      return sum;
    };

    const analytic = await backward.run(feeds);
    const reference = lossOf(first);
    const graphLoss = (analytic[p.loss]!.data as Float32Array)[0]!;
    const lossAgreement = Math.abs(graphLoss - reference) / Math.max(Math.abs(reference), 1e-6);

    let worst = 0;
    let checked = 0;
    const mismatches: Mismatch[] = [];
    for (const [k, name] of p.parameters.entries()) {
      const grad = analytic[gradNames[k]!]!.data as Float32Array;
      const base = values.get(name)!;
      if (grad.length !== base.length) throw new Error(`${c.name}: the gradient of '${name}' has ${grad.length} elements, the parameter ${base.length}`);
      const perturbed = Float32Array.from(base);
      const at = async (element: number, value: number): Promise<number> => {
        perturbed[element] = value;
        const results = await forward.run({ ...feeds, [name]: new ort.Tensor('float32', perturbed, dimsOf.get(name)!) });
        perturbed[element] = base[element]!;
        return lossOf(results);
      };
      for (let e = 0; e < base.length; e++) {
        const x = base[e]!;
        const h = stepFor(x);
        const near = (await at(e, x + h)) - (await at(e, x - h));
        const far = (await at(e, x + 2 * h)) - (await at(e, x - 2 * h));
        const fd = (8 * near - far) / (12 * h);
        const error = relativeError(fd, grad[e]!);
        worst = Math.max(worst, error);
        checked++;
        if (!(error <= TOLERANCE)) mismatches.push({ parameter: name, element: e, fd, analytic: grad[e]!, error });
      }
    }
    return { worst, checked, mismatches, lossAgreement, backwardNodes: gradients.nodes.length };
  } finally {
    await forward.release();
    await backward.release();
  }
}

/** One line per mismatch (the first few), for assertion messages. */
export function describeMismatches(result: CheckResult, limit = 8): string {
  return result.mismatches
    .slice(0, limit)
    .map((m) => `${m.parameter}[${m.element}]: fd ${m.fd.toPrecision(6)}, analytic ${m.analytic.toPrecision(6)} (relative error ${m.error.toPrecision(3)})`)
    .join('\n');
}

/** Worst relative error per family, printed at the end of a test file (for the report). */
export class WorstByFamily {
  private readonly worst = new Map<string, { error: number; name: string; checked: number }>();
  record(family: string, name: string, result: CheckResult): void {
    const current = this.worst.get(family) ?? { error: 0, name: '', checked: 0 };
    this.worst.set(family, result.worst >= current.error ? { error: result.worst, name, checked: current.checked + result.checked } : { ...current, checked: current.checked + result.checked });
  }
  summary(): string {
    return [...this.worst].map(([family, w]) => `${family}: worst relative error ${w.error.toExponential(2)} (${w.name}) over ${w.checked} elements`).join('\n');
  }
}
