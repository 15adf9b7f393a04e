/**
 * A tiny training setup built by hand in the IR, for tests of the training artifacts: linear
 * regression `pred = (x ⊙ scale) · W + b` with a mean squared error loss, its backward pass written
 * in standard ONNX ops, and gradients accumulated in place the way ONNX Runtime's training runtime
 * wants them (see `../shared/docs/ort-training-contract.md`, section 2).
 *
 *   inputs   x float[batch, 3], y float[batch, 1]          (user inputs)
 *            W float[3, 1], b float[1]                      (trainable parameters)
 *            scale float[3]                                 (frozen parameter, also a graph input)
 *            W_grad.accumulation.buffer, b_grad.accumulation.buffer, lazy_reset_grad bool[1]
 *   outputs  loss float[] (first), W_grad.accumulation.out, b_grad.accumulation.out (bool[1])
 *
 * The eval model has the same forward pass and loss, the same parameter inputs in the same order,
 * and the single output `loss`.
 */
import { attr, DataType, makeTensor, makeValueInfo, type Attribute, type Model, type Node, type Tensor, type ValueInfo } from '../../src/ir/index.js';

export const FEATURES = 3;
/** The weights and bias the data is generated from. */
export const TRUE_W = [1.5, -2, 0.5] as const;
export const TRUE_B = 0.75;
/** The frozen input scale: not 1, so that a model ignoring it would learn the wrong weights. */
export const SCALE = [1, 0.5, 2] as const;

export const TRAINABLE = ['W', 'b'] as const;
export const FROZEN = ['scale'] as const;

function node(opType: string, inputs: string[], outputs: string[], attributes: Attribute[] = [], domain?: string): Node {
  return { opType, inputs, outputs, name: outputs[0]!, attributes, ...(domain === undefined ? {} : { domain }) };
}

/** The starting parameters: W and b zero, scale fixed. */
export function tinyParameters(): { trainable: Tensor[]; frozen: Tensor[] } {
  return {
    trainable: [makeTensor('W', [FEATURES, 1], new Float32Array(FEATURES)), makeTensor('b', [1], new Float32Array(1))],
    frozen: [makeTensor('scale', [FEATURES], new Float32Array(SCALE))],
  };
}

/** The forward pass and loss, shared by both models: x, y, W, b, scale → loss (and the values backward needs). */
function forward(): Node[] {
  return [
    node('Mul', ['x', 'scale'], ['xs']),
    node('MatMul', ['xs', 'W'], ['xw']),
    node('Add', ['xw', 'b'], ['pred']),
    node('Sub', ['pred', 'y'], ['diff']),
    node('Mul', ['diff', 'diff'], ['sq']),
    node('ReduceMean', ['sq'], ['loss'], [attr.int('keepdims', 0)]),
  ];
}

function modelOf(name: string, nodes: Node[], initializers: Tensor[], inputs: ValueInfo[], outputs: ValueInfo[], opset: number, training: boolean): Model {
  return {
    irVersion: 8,
    opsetImports: training
      ? [
          { domain: '', version: opset },
          { domain: 'com.microsoft', version: 1 },
        ]
      : [{ domain: '', version: opset }],
    producerName: 'adapterc tests',
    metadata: [],
    graph: { name, nodes, initializers, inputs, outputs, valueInfo: [] },
  };
}

const OPSET = 17;

function parameterInputs(): ValueInfo[] {
  return [makeValueInfo('W', DataType.FLOAT, [FEATURES, 1]), makeValueInfo('b', DataType.FLOAT, [1]), makeValueInfo('scale', DataType.FLOAT, [FEATURES])];
}

function userInputs(): ValueInfo[] {
  return [makeValueInfo('x', DataType.FLOAT, ['batch', FEATURES]), makeValueInfo('y', DataType.FLOAT, ['batch', 1])];
}

/**
 * The training model. d loss/d pred = 2·diff / n (n = the number of elements of diff), dW = xsᵀ ·
 * dpred, db = Σ_batch dpred; each gradient goes into its parameter's accumulation buffer through
 * com.microsoft InPlaceAccumulatorV2, reset first when `lazy_reset_grad` is true.
 */
export function buildTinyTrainingModel(): Model {
  const backward: Node[] = [
    node('Size', ['diff'], ['n']),
    node('Cast', ['n'], ['n_float'], [attr.int('to', DataType.FLOAT)]),
    node('Div', ['two', 'n_float'], ['two_over_n']),
    node('Mul', ['diff', 'two_over_n'], ['pred_grad']),
    node('Transpose', ['xs'], ['xs_t'], [attr.ints('perm', [1, 0])]),
    node('MatMul', ['xs_t', 'pred_grad'], ['W_grad']),
    node('ReduceSum', ['pred_grad', 'axis_0'], ['b_grad'], [attr.int('keepdims', 0)]),
    node('InPlaceAccumulatorV2', ['W_grad.accumulation.buffer', 'W_grad', 'lazy_reset_grad'], ['W_grad.accumulation.out'], [], 'com.microsoft'),
    node('InPlaceAccumulatorV2', ['b_grad.accumulation.buffer', 'b_grad', 'lazy_reset_grad'], ['b_grad.accumulation.out'], [], 'com.microsoft'),
  ];
  const initializers = [makeTensor('two', [], new Float32Array([2])), makeTensor('axis_0', [1], new BigInt64Array([0n]))];
  const inputs = [
    ...userInputs(),
    ...parameterInputs(),
    makeValueInfo('W_grad.accumulation.buffer', DataType.FLOAT, [FEATURES, 1]),
    makeValueInfo('b_grad.accumulation.buffer', DataType.FLOAT, [1]),
    makeValueInfo('lazy_reset_grad', DataType.BOOL, [1]),
  ];
  const outputs = [
    makeValueInfo('loss', DataType.FLOAT, []),
    makeValueInfo('W_grad.accumulation.out', DataType.BOOL, [1]),
    makeValueInfo('b_grad.accumulation.out', DataType.BOOL, [1]),
  ];
  return modelOf('tiny training model', [...forward(), ...backward], initializers, inputs, outputs, OPSET, true);
}

/** The eval model: forward and loss only, the training model's parameter inputs in the same order. */
export function buildTinyEvalModel(): Model {
  return modelOf('tiny eval model', forward(), [], [...userInputs(), ...parameterInputs()], [makeValueInfo('loss', DataType.FLOAT, [])], OPSET, false);
}

/** A deterministic batch: x in [-1, 1), y = (x ⊙ scale) · TRUE_W + TRUE_B. */
export function tinyBatch(seed: number, size = 16): { x: Float32Array; y: Float32Array } {
  let state = (seed * 2654435761) >>> 0 || 1;
  const next = (): number => {
    // xorshift32
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 2 ** 32;
  };
  const x = new Float32Array(size * FEATURES);
  const y = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    let sum = TRUE_B;
    for (let j = 0; j < FEATURES; j++) {
      const v = next() * 2 - 1;
      x[i * FEATURES + j] = v;
      sum += v * SCALE[j]! * TRUE_W[j]!;
    }
    y[i] = sum;
  }
  return { x, y };
}

/**
 * The loss and its gradient computed directly in JavaScript (double precision), as a reference for
 * the hand-written backward pass: returns the loss and [dW₀, dW₁, dW₂, db].
 */
export function tinyLossAndGradient(w: readonly number[], b: number, batch: { x: Float32Array; y: Float32Array }): { loss: number; gradient: number[] } {
  const n = batch.y.length;
  const gradient = new Array<number>(FEATURES + 1).fill(0);
  let loss = 0;
  for (let i = 0; i < n; i++) {
    let pred = b;
    for (let j = 0; j < FEATURES; j++) pred += batch.x[i * FEATURES + j]! * SCALE[j]! * w[j]!;
    const diff = pred - batch.y[i]!;
    loss += (diff * diff) / n;
    for (let j = 0; j < FEATURES; j++) gradient[j]! += (2 * diff * batch.x[i * FEATURES + j]! * SCALE[j]!) / n;
    gradient[FEATURES]! += (2 * diff) / n;
  }
  return { loss, gradient };
}
