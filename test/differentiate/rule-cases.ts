/**
 * Tiny graphs, one or more per gradient rule of the registry (src/differentiate/rules), at the
 * opsets where the op's signature changes, with broadcasting inputs, a dynamic batch (and sometimes
 * sequence) axis, both inputs trainable where that means something, and the attributes real
 * exports use. Each is checked by gradcheck.ts against central finite differences.
 *
 * Inputs are trainable by default (`p`); `frozen` inputs are graph inputs that need no gradient.
 */
import { attr, DataType, makeTensor } from '../../src/ir/index.js';
import { GATHER_ELEMENTS_CASES, GATHER_ELEMENTS_REFUSED } from './gather-elements-cases.js';
import { float32s, INT64_MAX, int64Scalar, int64s, op, type CaseInput, type GradCase, type Values } from './gradcheck.js';

export type Family = 'elementwise' | 'linear' | 'reduce' | 'shape' | 'normalization';

export interface RuleCase extends GradCase {
  readonly family: Family;
  /**
   * Set when the case exposes a bug in a rule: the case runs as `it.fails` and this says what is
   * wrong (see the report in the test file).
   */
  readonly bug?: string;
}

const B = 'batch';
const S = 'seq';

/** A trainable float input. */
const p = (name: string, dims: CaseInput['dims'], values?: Values): CaseInput => ({ name, dims, ...(values ? { values } : {}) });
/** A float input that needs no gradient. */
const frozen = (name: string, dims: CaseInput['dims'], values?: Values): CaseInput => ({ name, dims, parameter: false, ...(values ? { values } : {}) });
const ids = (name: string, dims: CaseInput['dims'], values: Values): CaseInput => ({ name, dims, type: 'int64', values });

const positive: Values = { lo: 0.3, hi: 2 };
const awayFromZero: Values = { lo: -1.5, hi: 1.5, away: 0.3 };

/** y = op(x) for a one-input elementwise op. */
function unary(opType: string, opset: number, values?: Values, dims: CaseInput['dims'] = [B, 3, 4]): RuleCase {
  return { family: 'elementwise', op: opType, name: `${opType} of [${dims.join(', ')}] at opset ${opset}`, opset, inputs: [p('x', dims, values)], nodes: [op(opType, ['x'], 'y')], outputs: ['y'] };
}

const elementwise: RuleCase[] = [
  { family: 'elementwise', op: 'Identity', name: 'Identity', opset: 13, inputs: [p('x', [B, 3])], nodes: [op('Identity', ['x'], 'y')], outputs: ['y'] },
  {
    family: 'elementwise',
    op: 'Dropout',
    name: 'Dropout with a ratio attribute (opset 10), inference mode',
    opset: 10,
    inputs: [p('x', [B, 3, 4])],
    nodes: [op('Dropout', ['x'], ['y', 'dropout_mask'], [attr.float('ratio', 0.3)])],
    outputs: ['y'],
  },
  {
    family: 'elementwise',
    op: 'Dropout',
    name: 'Dropout with a ratio input (opset 13), inference mode',
    opset: 13,
    inputs: [p('x', [B, 3, 4])],
    initializers: [makeTensor('ratio', [], new Float32Array([0.1]))],
    nodes: [op('Dropout', ['x', 'ratio'], ['y', 'dropout_mask'])],
    outputs: ['y'],
  },
  {
    family: 'elementwise',
    op: 'Add',
    name: 'Add of [B,3,4] and [4] (both trainable)',
    opset: 13,
    inputs: [p('a', [B, 3, 4]), p('b', [4])],
    nodes: [op('Add', ['a', 'b'], 'y')],
    outputs: ['y'],
  },
  {
    family: 'elementwise',
    op: 'Add',
    name: 'Add of [B,1,4] and [3,1] (both broadcast) at opset 9',
    opset: 9,
    inputs: [p('a', [B, 1, 4]), p('b', [3, 1])],
    nodes: [op('Add', ['a', 'b'], 'y')],
    outputs: ['y'],
  },
  {
    family: 'elementwise',
    op: 'Add',
    name: 'Add of a value to itself (two contributions summed)',
    opset: 13,
    inputs: [p('a', [B, 3])],
    nodes: [op('Add', ['a', 'a'], 'y')],
    outputs: ['y'],
  },
  {
    family: 'elementwise',
    op: 'Add',
    name: 'Add of a scalar [] trainable and a constant [B,3]',
    opset: 13,
    inputs: [frozen('a', [B, 3]), p('s', [])],
    nodes: [op('Add', ['a', 's'], 'y')],
    outputs: ['y'],
  },
  {
    family: 'elementwise',
    op: 'Sub',
    name: 'Sub of [B,S,3] and [B,S,1] (both trainable)',
    opset: 13,
    inputs: [p('a', [B, S, 3]), p('b', [B, S, 1])],
    nodes: [op('Sub', ['a', 'b'], 'y')],
    outputs: ['y'],
  },
  {
    family: 'elementwise',
    op: 'Sub',
    name: 'Sub of a constant [3] minus a trainable [B,3]',
    opset: 13,
    inputs: [p('b', [B, 3])],
    initializers: [float32s('c', [0.5, -1, 2])],
    nodes: [op('Sub', ['c', 'b'], 'y')],
    outputs: ['y'],
  },
  {
    family: 'elementwise',
    op: 'Mul',
    name: 'Mul of [B,3,4] and [B,1,4] (both trainable)',
    opset: 13,
    inputs: [p('a', [B, 3, 4]), p('b', [B, 1, 4])],
    nodes: [op('Mul', ['a', 'b'], 'y')],
    outputs: ['y'],
  },
  {
    family: 'elementwise',
    op: 'Mul',
    name: 'Mul of static [2,3,4] and [2,1,4]',
    opset: 13,
    inputs: [p('a', [2, 3, 4]), p('b', [2, 1, 4])],
    nodes: [op('Mul', ['a', 'b'], 'y')],
    outputs: ['y'],
  },
  {
    family: 'elementwise',
    op: 'Mul',
    name: 'Mul of a value by itself, and by a trainable scalar',
    opset: 11,
    inputs: [p('a', [B, 3]), p('s', [])],
    nodes: [op('Mul', ['a', 'a'], 'square'), op('Mul', ['square', 's'], 'y')],
    outputs: ['y'],
  },
  {
    family: 'elementwise',
    op: 'Div',
    name: 'Div of [B,3,4] by [3,1] (both trainable)',
    opset: 13,
    inputs: [p('a', [B, 3, 4]), p('b', [3, 1], awayFromZero)],
    nodes: [op('Div', ['a', 'b'], 'y')],
    outputs: ['y'],
  },
  {
    family: 'elementwise',
    op: 'Div',
    name: 'Div of a constant by a trainable [B,4]',
    opset: 11,
    inputs: [p('b', [B, 4], awayFromZero)],
    initializers: [float32s('c', [1, -2, 0.5, 3])],
    nodes: [op('Div', ['c', 'b'], 'y')],
    outputs: ['y'],
  },
  ...[2, 3].map(
    (exponent): RuleCase => ({
      family: 'elementwise',
      op: 'Pow',
      name: `Pow with exponent ${exponent} (float initializer, opset 11)`,
      opset: 11,
      inputs: [p('x', [B, 3, 4])],
      initializers: [makeTensor('exponent', [], new Float32Array([exponent]))],
      nodes: [op('Pow', ['x', 'exponent'], 'y')],
      outputs: ['y'],
    }),
  ),
  {
    family: 'elementwise',
    op: 'Pow',
    name: 'Pow with exponent 3 as an int64 initializer (opset 13: the exponent type may differ)',
    opset: 13,
    inputs: [p('x', [B, 3, 4])],
    initializers: [int64Scalar('exponent', 3)],
    nodes: [op('Pow', ['x', 'exponent'], 'y')],
    outputs: ['y'],
  },
  {
    family: 'elementwise',
    op: 'Pow',
    name: 'Pow with exponent 0.5 from a Constant node',
    opset: 13,
    inputs: [p('x', [B, 4], positive)],
    nodes: [op('Constant', [], 'exponent', [attr.tensor('value', makeTensor('', [1], new Float32Array([0.5])))]), op('Pow', ['x', 'exponent'], 'y')],
    outputs: ['y'],
  },
  {
    family: 'elementwise',
    op: 'Pow',
    name: 'Pow with exponent -1',
    opset: 13,
    inputs: [p('x', [B, 4], awayFromZero)],
    initializers: [makeTensor('exponent', [], new Float32Array([-1]))],
    nodes: [op('Pow', ['x', 'exponent'], 'y')],
    outputs: ['y'],
  },
  unary('Neg', 13),
  unary('Sqrt', 13, positive),
  unary('Reciprocal', 13, awayFromZero),
  unary('Exp', 13),
  unary('Log', 13, positive),
  unary('Erf', 13),
  unary('Erf', 9, undefined, [B, S]),
  // The ONNX Gelu op (opset 20), exact form.
  unary('Gelu', 20),
  // GELU written with Erf (src/differentiate/patterns.ts): differentiated as one Gelu.
  {
    family: 'elementwise',
    op: 'Gelu',
    name: "GELU as torch.onnx exports it: Mul(Mul(x, Add(Erf(Div(x, √2)), 1)), 0.5)",
    opset: 14,
    inputs: [p('x', [B, 3, 4])],
    initializers: [makeTensor('sqrt2', [], new Float32Array([Math.SQRT2])), makeTensor('one', [], new Float32Array([1])), makeTensor('half', [], new Float32Array([0.5]))],
    nodes: [op('Div', ['x', 'sqrt2'], 'z'), op('Erf', ['z'], 'e'), op('Add', ['e', 'one'], 'a'), op('Mul', ['x', 'a'], 'm'), op('Mul', ['m', 'half'], 'y')],
    outputs: ['y'],
  },
  {
    family: 'elementwise',
    op: 'Gelu',
    name: "GELU as adapterc writes it, 0.5·x times 1 + erf(x·(1/√2)), and an inner value that is also an output",
    opset: 14,
    inputs: [p('x', [B, 3, 4])],
    initializers: [float32s('rsqrt2', [Math.SQRT1_2]), float32s('one', [1]), float32s('half', [0.5])],
    nodes: [op('Mul', ['rsqrt2', 'x'], 'z'), op('Erf', ['z'], 'e'), op('Add', ['one', 'e'], 'a'), op('Mul', ['x', 'half'], 'h'), op('Mul', ['a', 'h'], 'y')],
    outputs: ['y', 'e'],
  },
  unary('Tanh', 13),
  unary('Sigmoid', 13),
  // Values at least 0.3 from the kink at 0, farther than any step taken (h = 1e-2·max(1, |x|)).
  unary('Relu', 13, awayFromZero),
  unary('Relu', 9, awayFromZero, [B, S]),
  {
    family: 'elementwise',
    op: 'Cast',
    name: 'Cast float to float',
    opset: 13,
    inputs: [p('x', [B, 3])],
    nodes: [op('Cast', ['x'], 'y', [attr.int('to', DataType.FLOAT)])],
    outputs: ['y'],
  },
  {
    family: 'elementwise',
    op: 'Cast',
    name: 'Cast float to double and back to float',
    opset: 13,
    inputs: [p('x', [B, 3])],
    nodes: [op('Cast', ['x'], 'x_double', [attr.int('to', DataType.DOUBLE)]), op('Cast', ['x_double'], 'y', [attr.int('to', DataType.FLOAT)])],
    outputs: ['y'],
  },
  {
    family: 'elementwise',
    op: 'Cast',
    name: 'Cast of an int64 input to float (no gradient path) times a trainable value',
    opset: 13,
    inputs: [p('x', [B, 3]), ids('counts', [B, 3], (i) => i % 4)],
    nodes: [op('Cast', ['counts'], 'counts_float', [attr.int('to', DataType.FLOAT)]), op('Mul', ['x', 'counts_float'], 'y')],
    outputs: ['y'],
  },
  {
    family: 'elementwise',
    op: 'Where',
    name: 'Where with a broadcast condition [1,4], a [B,3,4] and b [4] (both trainable)',
    opset: 13,
    inputs: [{ name: 'condition', dims: [1, 4], type: 'bool', values: (i) => (i === 1 || i === 2 ? 1 : 0) }, p('a', [B, 3, 4]), p('b', [4])],
    nodes: [op('Where', ['condition', 'a', 'b'], 'y')],
    outputs: ['y'],
  },
  {
    family: 'elementwise',
    op: 'Where',
    name: 'Where with a condition [B,1,4] larger than both branches, a [3,1] and b [] (both trainable)',
    opset: 16,
    inputs: [{ name: 'condition', dims: [B, 1, 4], type: 'bool', values: (i) => (i * 5) % 3 === 0 ? 1 : 0 }, p('a', [3, 1]), p('b', [])],
    nodes: [op('Where', ['condition', 'a', 'b'], 'y')],
    outputs: ['y'],
  },
  {
    family: 'elementwise',
    op: 'Where',
    name: 'Where whose condition is computed from the trainable value (Greater has no rule, and needs none)',
    opset: 9,
    inputs: [p('a', [B, 3], awayFromZero), p('b', [3])],
    initializers: [makeTensor('zero', [], new Float32Array([0]))],
    nodes: [op('Greater', ['a', 'zero'], 'positive'), op('Where', ['positive', 'a', 'b'], 'y')],
    outputs: ['y'],
  },
  {
    family: 'elementwise',
    op: 'Expand',
    name: 'Expand of [3,1] to a constant shape [2,3,4]',
    opset: 13,
    inputs: [p('x', [3, 1])],
    initializers: [int64s('shape', [2, 3, 4])],
    nodes: [op('Expand', ['x', 'shape'], 'y')],
    outputs: ['y'],
  },
  {
    family: 'elementwise',
    op: 'Expand',
    name: 'Expand of [1,4] to the run-time shape of a [B,3,4] input (opset 8)',
    opset: 8,
    inputs: [p('x', [1, 4]), frozen('z', [B, 3, 4])],
    nodes: [op('Shape', ['z'], 'z_shape'), op('Expand', ['x', 'z_shape'], 'y')],
    outputs: ['y'],
  },
  {
    family: 'elementwise',
    op: 'Sum',
    name: 'Sum of [B,3,4], [4] and [3,1] (all trainable)',
    opset: 13,
    inputs: [p('a', [B, 3, 4]), p('b', [4]), p('c', [3, 1])],
    nodes: [op('Sum', ['a', 'b', 'c'], 'y')],
    outputs: ['y'],
  },
  {
    family: 'elementwise',
    op: 'Sum',
    name: 'Sum of two trainable and one constant input at opset 8',
    opset: 8,
    inputs: [p('a', [B, 3]), p('b', [3])],
    initializers: [float32s('c', [1, 2, 3])],
    nodes: [op('Sum', ['a', 'c', 'b'], 'y')],
    outputs: ['y'],
  },
];

/** Gemm at `opset`: y = alpha·op(A)·op(B) + beta·C, with M = batch. */
function gemm(opset: number, options: { transA?: boolean; transB?: boolean; alpha?: number; beta?: number; c?: readonly (number | string)[] | 'none'; frozenA?: boolean }): RuleCase {
  const [K, N] = [3, 5];
  const a = options.transA ? [K, B] : [B, K];
  const b = options.transB ? [N, K] : [K, N];
  const attributes = [
    ...(options.alpha !== undefined ? [attr.float('alpha', options.alpha)] : []),
    ...(options.beta !== undefined ? [attr.float('beta', options.beta)] : []),
    ...(options.transA ? [attr.int('transA', 1)] : []),
    ...(options.transB ? [attr.int('transB', 1)] : []),
  ];
  const c = options.c ?? [N];
  const inputs = [options.frozenA ? frozen('A', a) : p('A', a), p('B', b), ...(c === 'none' ? [] : [p('C', c)])];
  const flags = Object.entries(options)
    .map(([k, v]) => `${k} ${Array.isArray(v) ? `[${v.join(',')}]` : String(v)}`)
    .join(', ');
  return {
    family: 'linear',
    op: 'Gemm',
    name: `Gemm at opset ${opset} (${flags})`,
    opset,
    inputs,
    nodes: [op('Gemm', c === 'none' ? ['A', 'B'] : ['A', 'B', 'C'], 'y', attributes)],
    outputs: ['y'],
  };
}

const linear: RuleCase[] = [
  {
    family: 'linear',
    op: 'MatMul',
    name: 'MatMul of [B,S,4] by a shared weight [4,5] (both trainable)',
    opset: 13,
    inputs: [p('x', [B, S, 4]), p('w', [4, 5])],
    nodes: [op('MatMul', ['x', 'w'], 'y')],
    outputs: ['y'],
  },
  {
    family: 'linear',
    op: 'MatMul',
    name: 'MatMul of 2-D [B,3] by [3,4] at opset 9',
    opset: 9,
    inputs: [p('x', [B, 3]), p('w', [3, 4])],
    nodes: [op('MatMul', ['x', 'w'], 'y')],
    outputs: ['y'],
  },
  {
    family: 'linear',
    op: 'MatMul',
    name: 'MatMul of attention scores [B,2,S,3] by [B,2,3,S] (batched, both trainable)',
    opset: 13,
    inputs: [p('q', [B, 2, S, 3]), p('k', [B, 2, 3, S])],
    nodes: [op('MatMul', ['q', 'k'], 'y')],
    outputs: ['y'],
  },
  {
    family: 'linear',
    op: 'MatMul',
    name: 'MatMul with broadcast batch axes: [B,1,3,4] by [2,4,5]',
    opset: 13,
    inputs: [p('a', [B, 1, 3, 4]), p('b', [2, 4, 5])],
    nodes: [op('MatMul', ['a', 'b'], 'y')],
    outputs: ['y'],
  },
  {
    family: 'shape',
    op: 'Slice',
    name: 'Slice of the first row along the dynamic batch axis (pads computed at run time)',
    opset: 13,
    inputs: [p('x', [B, 6])],
    initializers: [int64s('starts', [0]), int64s('ends', [1]), int64s('axes', [0])],
    nodes: [op('Slice', ['x', 'starts', 'ends', 'axes'], 'y')],
    outputs: ['y'],
  },
  {
    family: 'linear',
    op: 'MatMul',
    name: 'MatMul of a 2-D [3,4] by a batched [B,4,5]',
    opset: 11,
    inputs: [p('a', [3, 4]), p('b', [B, 4, 5])],
    nodes: [op('MatMul', ['a', 'b'], 'y')],
    outputs: ['y'],
  },
  gemm(9, { alpha: 0.7, beta: 1.3, c: [5] }),
  gemm(10, { transB: true, c: [1, 5] }),
  gemm(11, { c: 'none', alpha: 1.5 }),
  gemm(11, { transA: true, transB: true, alpha: 0.5, beta: 2, c: [1, 5] }),
  gemm(13, { transA: true, beta: 0.5, c: [B, 5] }),
  gemm(13, { transB: true, c: [5], frozenA: true }),
];

/** A Reduce* over `axes` (attribute or input as the opset wants; undefined: no axes). */
function reduce(opType: 'ReduceSum' | 'ReduceMean', opset: number, dims: CaseInput['dims'], axes: number[] | undefined, keepdims: number, extra: { noop?: boolean } = {}): RuleCase {
  const axesAsInput = opset >= (opType === 'ReduceSum' ? 13 : 18);
  const attributes = [attr.int('keepdims', keepdims), ...(extra.noop ? [attr.int('noop_with_empty_axes', 1)] : []), ...(axes && !axesAsInput ? [attr.ints('axes', axes)] : [])];
  return {
    family: 'reduce',
    op: opType,
    name: `${opType} of [${dims.join(',')}] over ${axes ? `axes [${axes.join(',')}]` : 'no axes'}${extra.noop ? ' with noop_with_empty_axes' : ''}, keepdims ${keepdims}, at opset ${opset} (axes as ${axesAsInput ? 'input' : 'attribute'})`,
    opset,
    inputs: [p('x', dims)],
    initializers: axes && axesAsInput ? [int64s('axes', axes)] : [],
    nodes: [op(opType, axes && axesAsInput ? ['x', 'axes'] : ['x'], 'y', attributes)],
    outputs: ['y'],
  };
}

function softmax(opType: 'Softmax' | 'LogSoftmax', opset: number, dims: CaseInput['dims'], axis: number | undefined, bug?: string): RuleCase {
  return {
    family: 'reduce',
    op: opType,
    name: `${opType} of [${dims.join(',')}] over ${axis === undefined ? 'the default axis' : `axis ${axis}`} at opset ${opset}`,
    opset,
    inputs: [p('x', dims)],
    nodes: [op(opType, ['x'], 'y', axis === undefined ? [] : [attr.int('axis', axis)])],
    outputs: ['y'],
    ...(bug ? { bug } : {}),
  };
}

const reduceCases: RuleCase[] = [
  reduce('ReduceSum', 11, [B, 3, 4], [1], 1),
  reduce('ReduceSum', 11, [B, 3, 4], [-1], 0),
  reduce('ReduceSum', 11, [B, S, 3], [0, 1], 0),
  reduce('ReduceSum', 13, [B, 3, 4], [0], 0),
  reduce('ReduceSum', 13, [B, 3, 4], [0, 2], 1),
  reduce('ReduceSum', 13, [B, 3, 4], [-2], 0),
  reduce('ReduceSum', 13, [B, 3, 4], undefined, 0),
  reduce('ReduceSum', 13, [B, 3, 4], undefined, 1, { noop: true }),
  reduce('ReduceMean', 11, [B, 3, 4], undefined, 0),
  reduce('ReduceMean', 13, [B, 3, 4], [0], 0),
  reduce('ReduceMean', 13, [B, 3, 4], [0], 1),
  reduce('ReduceMean', 13, [B, 3, 4], [1, 2], 0),
  reduce('ReduceMean', 13, [B, S, 3], [1], 1),
  reduce('ReduceMean', 18, [B, 3, 4], [0, -1], 1),
  reduce('ReduceMean', 18, [B, 3, 4], [1], 0),
  softmax('Softmax', 11, [B, 3, 4], -1),
  softmax('Softmax', 13, [B, S, 4], 2),
  softmax('Softmax', 13, [B, 3, 4], undefined),
  softmax('Softmax', 11, [B, 4], undefined),
  softmax('LogSoftmax', 11, [B, 3, 4], -1),
  softmax('LogSoftmax', 13, [B, S, 4], 2),
  softmax('LogSoftmax', 13, [B, 4], undefined),
];

function squeezeLike(opType: 'Squeeze' | 'Unsqueeze', opset: number, dims: CaseInput['dims'], axes: number[] | undefined): RuleCase {
  const asInput = opset >= 13;
  return {
    family: 'shape',
    op: opType,
    name: `${opType} of [${dims.join(',')}] ${axes ? `axes [${axes.join(',')}]` : 'without axes'} at opset ${opset}`,
    opset,
    inputs: [p('x', dims)],
    initializers: axes && asInput ? [int64s('axes', axes)] : [],
    nodes: [op(opType, axes && asInput ? ['x', 'axes'] : ['x'], 'y', axes && !asInput ? [attr.ints('axes', axes)] : [])],
    outputs: ['y'],
  };
}

/** Slice of x [B,6,5]: the attribute form below opset 10, inputs from it (the gradient's Pad: attribute below 11, input from it). */
function slice(opset: number, starts: (number | bigint)[], ends: (number | bigint)[], axes: number[] | undefined, steps?: number[]): RuleCase {
  const text = (v: (number | bigint)[]) => `[${v.map((e) => (e === INT64_MAX ? 'INT64_MAX' : String(e))).join(',')}]`;
  const name = `Slice of [B,6,5] starts ${text(starts)} ends ${text(ends)} ${axes ? `axes ${text(axes)}` : 'without axes'}${steps ? ` steps ${text(steps)}` : ''} at opset ${opset}`;
  if (opset < 10) {
    return {
      family: 'shape',
      op: 'Slice',
      name,
      opset,
      inputs: [p('x', [B, 6, 5])],
      nodes: [op('Slice', ['x'], 'y', [attr.ints('starts', starts), attr.ints('ends', ends), ...(axes ? [attr.ints('axes', axes)] : [])])],
      outputs: ['y'],
    };
  }
  const initializers = [int64s('starts', starts), int64s('ends', ends), ...(axes ? [int64s('axes', axes)] : []), ...(steps ? [int64s('steps', steps)] : [])];
  const inputs = ['x', 'starts', 'ends', ...(axes ? ['axes'] : steps ? [''] : []), ...(steps ? ['steps'] : [])];
  return { family: 'shape', op: 'Slice', name, opset, inputs: [p('x', [B, 6, 5])], initializers, nodes: [op('Slice', inputs, 'y')], outputs: ['y'] };
}

const shape: RuleCase[] = [
  {
    family: 'shape',
    op: 'Reshape',
    name: 'Reshape [B,3,4] to [0,12]',
    opset: 13,
    inputs: [p('x', [B, 3, 4])],
    initializers: [int64s('shape', [0, 12])],
    nodes: [op('Reshape', ['x', 'shape'], 'y')],
    outputs: ['y'],
  },
  {
    family: 'shape',
    op: 'Reshape',
    name: 'Reshape [B,3,4] to [-1,4] (the batch merged into rows) at opset 9',
    opset: 9,
    inputs: [p('x', [B, 3, 4])],
    initializers: [int64s('shape', [-1, 4])],
    nodes: [op('Reshape', ['x', 'shape'], 'y')],
    outputs: ['y'],
  },
  {
    family: 'shape',
    op: 'Reshape',
    name: 'Reshape [B,S,4] to [0,0,2,2] (heads split off)',
    opset: 14,
    inputs: [p('x', [B, S, 4])],
    initializers: [int64s('shape', [0, 0, 2, 2])],
    nodes: [op('Reshape', ['x', 'shape'], 'y')],
    outputs: ['y'],
  },
  ...[1, 2, 0].map(
    (axis): RuleCase => ({
      family: 'shape',
      op: 'Flatten',
      name: `Flatten [B,3,4] at axis ${axis}`,
      opset: 13,
      inputs: [p('x', [B, 3, 4])],
      nodes: [op('Flatten', ['x'], 'y', [attr.int('axis', axis)])],
      outputs: ['y'],
    }),
  ),
  { family: 'shape', op: 'Flatten', name: 'Flatten [B,3,2] with the default axis at opset 9', opset: 9, inputs: [p('x', [B, 3, 2])], nodes: [op('Flatten', ['x'], 'y')], outputs: ['y'] },
  squeezeLike('Squeeze', 11, [B, 1, 4], [1]),
  squeezeLike('Squeeze', 13, [B, 1, 4], [-2]),
  squeezeLike('Squeeze', 13, [B, 1, 4, 1], undefined),
  squeezeLike('Unsqueeze', 11, [B, 4], [1]),
  squeezeLike('Unsqueeze', 13, [B, 4], [-1]),
  squeezeLike('Unsqueeze', 13, [B, 4], [0, 3]),
  ...[
    { dims: [B, 3, 4], perm: [0, 2, 1] },
    { dims: [B, 3, 4], perm: [2, 0, 1] },
    { dims: [2, 3, 4], perm: undefined },
    { dims: [B, S, 2, 3], perm: [0, 2, 1, 3] },
    { dims: [B, S, 3], perm: [1, 0, 2] },
  ].map(
    ({ dims, perm }): RuleCase => ({
      family: 'shape',
      op: 'Transpose',
      name: `Transpose [${dims.join(',')}] ${perm ? `perm [${perm.join(',')}]` : 'without perm (reversed axes)'}`,
      opset: 13,
      inputs: [p('x', dims)],
      nodes: [op('Transpose', ['x'], 'y', perm ? [attr.ints('perm', perm)] : [])],
      outputs: ['y'],
    }),
  ),
  {
    family: 'shape',
    op: 'Concat',
    name: 'Concat along axis 1 of trainable [B,2,4], constant [B,1,4], trainable [B,3,4]',
    opset: 13,
    inputs: [p('a', [B, 2, 4]), frozen('b', [B, 1, 4]), p('c', [B, 3, 4])],
    nodes: [op('Concat', ['a', 'b', 'c'], 'y', [attr.int('axis', 1)])],
    outputs: ['y'],
  },
  {
    family: 'shape',
    op: 'Concat',
    name: 'Concat along the sequence axis of a trainable [B,2,3] before a constant [B,S,3] (prompt tokens first)',
    opset: 13,
    inputs: [p('prompt', [B, 2, 3]), frozen('tokens', [B, S, 3])],
    nodes: [op('Concat', ['prompt', 'tokens'], 'y', [attr.int('axis', 1)])],
    outputs: ['y'],
  },
  {
    family: 'shape',
    op: 'Concat',
    name: 'Concat along the sequence axis of a constant [B,S,3] before a trainable [B,2,3] (prompt tokens last)',
    opset: 13,
    inputs: [frozen('tokens', [B, S, 3]), p('prompt', [B, 2, 3])],
    nodes: [op('Concat', ['tokens', 'prompt'], 'y', [attr.int('axis', 1)])],
    outputs: ['y'],
  },
  {
    family: 'shape',
    op: 'Concat',
    name: 'Concat along the dynamic batch axis: trainable [B,3] before a fixed [2,3] (offsets read at run time)',
    opset: 13,
    inputs: [p('a', [B, 3]), p('b', [2, 3])],
    nodes: [op('Concat', ['a', 'b'], 'y', [attr.int('axis', 0)])],
    outputs: ['y'],
  },
  {
    family: 'shape',
    op: 'Concat',
    name: 'Concat along axis -1 of [B,S,2] and [B,S,3] at opset 11',
    opset: 11,
    inputs: [p('a', [B, S, 2]), p('b', [B, S, 3])],
    nodes: [op('Concat', ['a', 'b'], 'y', [attr.int('axis', -1)])],
    outputs: ['y'],
  },
  ...[10, 9].map(
    (opset): RuleCase => ({
      family: 'shape',
      op: 'Concat',
      name: `Concat along axis 0 of static [2,3] and [1,3] at opset ${opset}`,
      opset,
      inputs: [p('a', [2, 3]), p('b', [1, 3])],
      nodes: [op('Concat', ['a', 'b'], 'y', [attr.int('axis', 0)])],
      outputs: ['y'],
    }),
  ),
  {
    family: 'shape',
    op: 'Split',
    name: 'Split [B,6,4] along axis 1 into [2,4] (split attribute, opset 11)',
    opset: 11,
    inputs: [p('x', [B, 6, 4])],
    nodes: [op('Split', ['x'], ['y0', 'y1'], [attr.int('axis', 1), attr.ints('split', [2, 4])])],
    outputs: ['y0', 'y1'],
  },
  {
    family: 'shape',
    op: 'Split',
    name: 'Split [B,6] along axis 1 in equal parts, no split attribute (opset 11), the middle part unused',
    opset: 11,
    inputs: [p('x', [B, 6])],
    nodes: [op('Split', ['x'], ['y0', 'y1', 'y2'], [attr.int('axis', 1)])],
    outputs: ['y0', 'y2'],
  },
  {
    family: 'shape',
    op: 'Split',
    name: 'Split [B,6,4] along axis 1 into [1,2,3] (split input, opset 13), the first part unused',
    opset: 13,
    inputs: [p('x', [B, 6, 4])],
    initializers: [int64s('split', [1, 2, 3])],
    nodes: [op('Split', ['x', 'split'], ['y0', 'y1', 'y2'], [attr.int('axis', 1)])],
    outputs: ['y1', 'y2'],
  },
  {
    family: 'shape',
    op: 'Split',
    name: 'Split [B,3,6] along axis -1 with num_outputs 3 (opset 18)',
    opset: 18,
    inputs: [p('x', [B, 3, 6])],
    nodes: [op('Split', ['x'], ['y0', 'y1', 'y2'], [attr.int('axis', -1), attr.int('num_outputs', 3)])],
    outputs: ['y0', 'y1', 'y2'],
  },
  ...[10, 13].map(
    (opset): RuleCase => ({
      family: 'shape',
      op: 'Gather',
      name: `Gather of the first token: scalar index 0 on axis 1 of [B,S,4] at opset ${opset} (${opset >= 11 ? 'ScatterElements' : 'Scatter'})`,
      opset,
      inputs: [p('x', [B, S, 4])],
      initializers: [int64Scalar('index', 0)],
      nodes: [op('Gather', ['x', 'index'], 'y', [attr.int('axis', 1)])],
      outputs: ['y'],
    }),
  ),
  ...[13, 10].map(
    (opset): RuleCase => ({
      family: 'shape',
      op: 'Gather',
      name: `Gather of scalar index -1 on axis 1 of [B,5,3] at opset ${opset} (${opset >= 11 ? 'ScatterElements' : 'Scatter'})`,
      opset,
      inputs: [p('x', [B, 5, 3])],
      initializers: [int64Scalar('index', -1)],
      nodes: [op('Gather', ['x', 'index'], 'y', [attr.int('axis', 1)])],
      outputs: ['y'],
    }),
  ),
  {
    family: 'shape',
    op: 'Gather',
    name: 'Gather of scalar index 2 on axis 0 of a table [5,4]',
    opset: 11,
    inputs: [p('x', [5, 4])],
    initializers: [int64Scalar('index', 2)],
    nodes: [op('Gather', ['x', 'index'], 'y', [attr.int('axis', 0)])],
    outputs: ['y'],
  },
  {
    family: 'shape',
    op: 'Gather',
    name: 'Gather of a scalar index from a Constant node on axis 2 of [B,3,4]',
    opset: 13,
    inputs: [p('x', [B, 3, 4])],
    nodes: [op('Constant', [], 'index', [attr.tensor('value', makeTensor('', [], new BigInt64Array([3n])))]), op('Gather', ['x', 'index'], 'y', [attr.int('axis', 2)])],
    outputs: ['y'],
  },
  ...[11, 13].map(
    (opset): RuleCase => ({
      family: 'shape',
      op: 'Gather',
      name: `Gather of embedding rows: table [7,3] by token ids [B,S] with repeated ids at opset ${opset}`,
      opset,
      inputs: [p('table', [7, 3]), ids('token_ids', [B, S], (i) => [1, 4, 1, 0, 4, 4, 2][i % 7]!)],
      nodes: [op('Gather', ['table', 'token_ids'], 'y')],
      outputs: ['y'],
    }),
  ),
  {
    family: 'shape',
    op: 'Gather',
    name: 'Gather of embedding rows by int32 token ids [B,S] (tf2onnx exports)',
    opset: 13,
    inputs: [p('table', [6, 2]), { name: 'token_ids', dims: [B, S], type: 'int32', values: (i) => [3, 0, 3, 1][i % 4]! }],
    nodes: [op('Gather', ['table', 'token_ids'], 'y')],
    outputs: ['y'],
  },
  {
    family: 'shape',
    op: 'Gather',
    name: 'Gather of embedding rows by constant positions [5] with repeats (position embeddings)',
    opset: 13,
    inputs: [p('table', [6, 4])],
    initializers: [int64s('positions', [1, 3, 1, 5, 1])],
    nodes: [op('Gather', ['table', 'positions'], 'y', [attr.int('axis', 0)])],
    outputs: ['y'],
  },
  ...[10, 13, 16].map(
    (opset): RuleCase => ({
      family: 'shape',
      op: 'Gather',
      name: `Gather of masked-LM rows: [B,S,3] reshaped to [B·S,3], rows by positions [B] with repeats at opset ${opset} (${opset >= 16 ? 'ScatterND add' : 'run-time one-hot'})`,
      opset,
      inputs: [p('x', [B, S, 3]), ids('positions', [B], (i) => [5, 0, 5, 2][i % 4]!)],
      initializers: [int64s('rows_shape', [-1, 3])],
      nodes: [op('Reshape', ['x', 'rows_shape'], 'rows'), op('Gather', ['rows', 'positions'], 'y', [attr.int('axis', 0)])],
      outputs: ['y'],
    }),
  ),
  slice(9, [1, -3], [4, INT64_MAX], [1, 2]),
  slice(10, [1, -3], [4, INT64_MAX], [1, 2]),
  slice(11, [2], [100], [2]),
  slice(13, [1, -3], [4, INT64_MAX], [1, 2]),
  slice(13, [0, 1, 0], [INT64_MAX, -1, 3], undefined),
  slice(13, [0, 2], [INT64_MAX, 5], [0, 1], [1, 1]),
  slice(9, [0, 0, 1], [INT64_MAX, 3, 2], undefined),
  slice(13, [1], [-1], [-1]),
  slice(13, [0, 1, 1], [INT64_MAX, 5, 4], undefined, [1, 1, 1]),
];

const normalization: RuleCase[] = [
  ...[
    { opset: 17, epsilon: 1e-3, bias: true, axis: undefined as number | undefined },
    { opset: 17, epsilon: 1e-5, bias: false, axis: 2 },
    // The default-domain op ONNX Runtime's optimizer writes below opset 17.
    { opset: 14, epsilon: 1e-12, bias: true, axis: -1 },
  ].map(
    ({ opset, epsilon, bias, axis }): RuleCase => ({
      family: 'normalization',
      op: 'LayerNormalization',
      name: `LayerNormalization of [B,S,6] at opset ${opset}, epsilon ${epsilon}, ${bias ? 'with' : 'without'} bias, ${axis === undefined ? 'default axis' : `axis ${axis}`}`,
      opset,
      inputs: [p('x', [B, S, 6]), p('scale', [6], { lo: 0.5, hi: 1.5 }), ...(bias ? [p('bias', [6])] : [])],
      nodes: [op('LayerNormalization', bias ? ['x', 'scale', 'bias'] : ['x', 'scale'], 'y', [attr.float('epsilon', epsilon), ...(axis === undefined ? [] : [attr.int('axis', axis)])])],
      outputs: ['y'],
    }),
  ),
  {
    family: 'normalization',
    op: 'LayerNormalization',
    name: 'LayerNormalization of [B,4] with a constant scale and a trainable bias',
    opset: 17,
    inputs: [p('x', [B, 4]), p('bias', [4])],
    initializers: [float32s('scale', [0.5, 1, 1.5, 2])],
    nodes: [op('LayerNormalization', ['x', 'scale', 'bias'], 'y')],
    outputs: ['y'],
  },
];

export const RULE_CASES: readonly RuleCase[] = [...elementwise, ...linear, ...reduceCases, ...shape, ...GATHER_ELEMENTS_CASES, ...normalization];

/** A case with `op` outside the registry off the gradient path (on a frozen input): nothing to differentiate there. */
export const OFF_PATH_CASE: GradCase = {
  name: 'Sin (no rule) on a frozen input, off the gradient path',
  op: '',
  opset: 13,
  inputs: [p('x', [B, 3]), frozen('z', [B, 3])],
  nodes: [op('Sin', ['z'], 'sin_z', [], { name: 'frozen_sin' }), op('Mul', ['x', 'sin_z'], 'y')],
  outputs: ['y'],
};

export interface RefusedCase extends GradCase {
  readonly code: 'ADP3001' | 'ADP3002' | 'ADP3003';
  /** Text the message must contain (the node label, the reason). */
  readonly mentions: readonly string[];
}

export const REFUSED_CASES: readonly RefusedCase[] = [
  ...GATHER_ELEMENTS_REFUSED,
  // Below opset 13 a missing axis means axis 1 over the input flattened from there on: for a rank-3
  // input that is not the last axis, which the rule refuses rather than differentiate wrongly.
  ...(['Softmax', 'LogSoftmax'] as const).map(
    (opType): RefusedCase => ({
      code: 'ADP3003',
      mentions: [`'soft' (${opType})`, 'axis 1 of a rank-3 tensor at opset 11'],
      name: `${opType} of [B,3,4] with the default axis at opset 11`,
      op: opType,
      opset: 11,
      inputs: [p('x', [B, 3, 4])],
      nodes: [op(opType, ['x'], 'y', [], { name: 'soft' })],
      outputs: ['y'],
    }),
  ),
  {
    code: 'ADP3001',
    mentions: ["'my_sin' (Sin)", "'x'"],
    name: 'an op outside the registry (Sin) on the gradient path',
    op: 'Sin',
    opset: 13,
    inputs: [p('x', [B, 3])],
    nodes: [op('Sin', ['x'], 'sin_x', [], { name: 'my_sin' }), op('Mul', ['sin_x', 'sin_x'], 'y')],
    outputs: ['y'],
  },
  {
    code: 'ADP3001',
    mentions: ['com.microsoft:Gelu', "'fused_gelu' (Gelu)"],
    name: 'a com.microsoft op (Gelu) on the gradient path without unfusing',
    op: 'com.microsoft:Gelu',
    opset: 13,
    inputs: [p('x', [B, 3])],
    nodes: [op('Gelu', ['x'], 'y', [], { name: 'fused_gelu', domain: 'com.microsoft' })],
    outputs: ['y'],
  },
  {
    code: 'ADP3003',
    mentions: ["'power' (Pow)", 'constant exponent'],
    name: 'Pow with a trainable exponent',
    op: 'Pow',
    opset: 13,
    inputs: [p('x', [B, 3], positive), p('e', [])],
    nodes: [op('Pow', ['x', 'e'], 'y', [], { name: 'power' })],
    outputs: ['y'],
  },
  {
    code: 'ADP3003',
    mentions: ["'power' (Pow)", 'not a constant scalar'],
    name: 'Pow with a non-constant (frozen input) exponent',
    op: 'Pow',
    opset: 13,
    inputs: [p('x', [B, 3], positive), frozen('e', [])],
    nodes: [op('Pow', ['x', 'e'], 'y', [], { name: 'power' })],
    outputs: ['y'],
  },
  {
    code: 'ADP3003',
    mentions: ["'power' (Pow)", 'not a constant scalar'],
    name: 'Pow with a per-element constant exponent [3]',
    op: 'Pow',
    opset: 13,
    inputs: [p('x', [B, 3], positive)],
    initializers: [float32s('e', [1, 2, 3])],
    nodes: [op('Pow', ['x', 'e'], 'y', [], { name: 'power' })],
    outputs: ['y'],
  },
  ...(['Softmax', 'LogSoftmax'] as const).map(
    (opType): RefusedCase => ({
      code: 'ADP3003',
      mentions: [`'normalize' (${opType})`, 'axis 1'],
      name: `${opType} over a non-last axis (axis 1 of [B,3,4])`,
      op: opType,
      opset: 13,
      inputs: [p('x', [B, 3, 4])],
      nodes: [op(opType, ['x'], 'y', [attr.int('axis', 1)], { name: 'normalize' })],
      outputs: ['y'],
    }),
  ),
  {
    code: 'ADP3003',
    mentions: ["'product' (MatMul)", 'one-dimensional'],
    name: 'MatMul with a 1-D operand ([4] by [4,3])',
    op: 'MatMul',
    opset: 13,
    inputs: [p('v', [4]), p('w', [4, 3])],
    nodes: [op('MatMul', ['v', 'w'], 'y', [], { name: 'product' })],
    outputs: ['y'],
  },
  {
    code: 'ADP3003',
    mentions: ["'product' (MatMul)", 'one-dimensional'],
    name: 'MatMul with a 1-D second operand ([B,4] by [4])',
    op: 'MatMul',
    opset: 13,
    inputs: [p('x', [B, 4]), p('v', [4])],
    nodes: [op('MatMul', ['x', 'v'], 'y', [], { name: 'product' })],
    outputs: ['y'],
  },
  {
    // Its output's rank is known only when the model runs: shape inference stops first.
    code: 'ADP3002',
    mentions: ["'sum' (ReduceSum)", "its axes ('axes') is computed from values known only when the model runs"],
    name: 'ReduceSum over axes given by a graph input (opset 13)',
    op: 'ReduceSum',
    opset: 13,
    inputs: [p('x', [B, 3, 4]), ids('axes', [1], () => 1)],
    nodes: [op('ReduceSum', ['x', 'axes'], 'y', [], { name: 'sum' })],
    outputs: ['y'],
  },
  {
    code: 'ADP3003',
    mentions: ["'pick' (Gather)", 'constant scalar index'],
    name: 'Gather of a vector of indices on axis 1',
    op: 'Gather',
    opset: 13,
    inputs: [p('x', [B, 5, 3])],
    initializers: [int64s('indices', [0, 2])],
    nodes: [op('Gather', ['x', 'indices'], 'y', [attr.int('axis', 1)], { name: 'pick' })],
    outputs: ['y'],
  },
  {
    code: 'ADP3003',
    mentions: ["'cut' (Slice)", 'step 1'],
    name: 'Slice with step 2',
    op: 'Slice',
    opset: 13,
    inputs: [p('x', [B, 6])],
    initializers: [int64s('starts', [0]), int64s('ends', [6]), int64s('axes', [1]), int64s('steps', [2])],
    nodes: [op('Slice', ['x', 'starts', 'ends', 'axes', 'steps'], 'y', [], { name: 'cut' })],
    outputs: ['y'],
  },
  {
    code: 'ADP3003',
    mentions: ["'cut' (Slice)", 'depends on the input'],
    name: 'Slice of part of the dynamic batch axis at opset 10 (Pad takes its pads as an attribute)',
    op: 'Slice',
    opset: 10,
    inputs: [p('x', [B, 6])],
    initializers: [int64s('starts', [0]), int64s('ends', [1]), int64s('axes', [0])],
    nodes: [op('Slice', ['x', 'starts', 'ends', 'axes'], 'y', [], { name: 'cut' })],
    outputs: ['y'],
  },
  {
    code: 'ADP3003',
    mentions: ["'norm' (LayerNormalization)", 'axis 1'],
    name: 'LayerNormalization over axes 1.. of a rank-3 input',
    op: 'LayerNormalization',
    opset: 17,
    inputs: [p('x', [B, 3, 4]), p('scale', [3, 4])],
    nodes: [op('LayerNormalization', ['x', 'scale'], 'y', [attr.int('axis', 1)], { name: 'norm' })],
    outputs: ['y'],
  },
];
