/** Shapes of elementwise ops: one input's shape, or several broadcast together (numpy rules). */
import { DataType, getAttribute } from '../../ir/index.js';
import { add, asConstant, compare, constant, divExact, equals, mul, scale, sub, toString, type Dim } from '../dim.js';
import type { ShapeContext, ShapeRule, ValueShape } from '../rule.js';
import { mapBroadcast } from '../values.js';

/** Multidirectional broadcasting of `shapes`' dims; undefined (with the reason) when they do not broadcast. */
export function broadcast(shapes: ReadonlyArray<readonly Dim[]>): { dims: Dim[] } | { reason: string } {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const dims: Dim[] = [];
  for (let a = 0; a < rank; a++) {
    let out: Dim = constant(1);
    for (const s of shapes) {
      const d = s[a - (rank - s.length)];
      if (d === undefined || asConstant(d) === 1) continue;
      if (asConstant(out) === 1) out = d;
      else if (!equals(out, d)) return { reason: `dims ${toString(out)} and ${toString(d)} (axis ${a} of the broadcast result) do not broadcast` };
    }
    dims.push(out);
  }
  return { dims };
}

export function broadcastOrFail(c: ShapeContext, shapes: ReadonlyArray<readonly Dim[]>): Dim[] {
  const r = broadcast(shapes);
  if ('reason' in r) return c.fail(r.reason);
  return r.dims;
}

const FLOAT_TYPES = new Set(['float32', 'float64', 'float16', 'bfloat16']);

/** The inputs' values, if every input has them. */
function knownValues(c: ShapeContext, inputs: readonly number[]): Array<{ values: readonly Dim[]; dims: readonly number[] }> | undefined {
  const out = [];
  for (const i of inputs) {
    const s = c.shape(i);
    if (s.values === undefined) return undefined;
    out.push({ values: s.values, dims: s.dims.map((d) => asConstant(d)!) });
  }
  return out;
}

/** Whether input 0 is a float tensor (Div divides exactly, not truncating). */
function isFloat(c: ShapeContext): boolean {
  return FLOAT_TYPES.has(c.shape(0).elemType ?? '');
}

type ValueOp = (xs: Dim[], float: boolean) => Dim | undefined;

const truth = (b: boolean | undefined): Dim | undefined => (b === undefined ? undefined : constant(b ? 1 : 0));
const isTrue = (d: Dim): boolean | undefined => {
  const n = asConstant(d);
  return n === undefined ? undefined : n !== 0;
};

/**
 * Arithmetic on shape values (ONNX integer Div truncates; some exporters compute shapes in float:
 * Shape -> Cast(float) -> Min -> Cast(int64)). Undefined where it is not decided.
 */
const VALUE_OPS: Readonly<Partial<Record<string, ValueOp>>> = {
  Add: ([a, b]) => add(a!, b!),
  Sub: ([a, b]) => sub(a!, b!),
  Mul: ([a, b]) => mul(a!, b!),
  Sum: (xs) => xs.reduce((p, x) => add(p, x)),
  Div: ([a, b], float) => {
    const [x, y] = [asConstant(a!), asConstant(b!)];
    if (x !== undefined && y !== undefined) return y === 0 ? undefined : constant(float ? x / y : Math.trunc(x / y));
    return divExact(a!, b!);
  },
  Mod: ([a, b]) => {
    const [x, y] = [asConstant(a!), asConstant(b!)];
    return x !== undefined && y !== undefined && y !== 0 ? constant(x - Math.floor(x / y) * y) : undefined;
  },
  Neg: ([a]) => scale(a!, -1),
  Abs: ([a]) => {
    const sign = compare(a!, constant(0));
    return sign === undefined ? undefined : sign < 0 ? scale(a!, -1) : a;
  },
  Equal: ([a, b]) => truth(compare(a!, b!) === undefined ? undefined : compare(a!, b!) === 0),
  Less: ([a, b]) => truth(compare(a!, b!) === undefined ? undefined : compare(a!, b!)! < 0),
  Greater: ([a, b]) => truth(compare(a!, b!) === undefined ? undefined : compare(a!, b!)! > 0),
  LessOrEqual: ([a, b]) => truth(compare(a!, b!) === undefined ? undefined : compare(a!, b!)! <= 0),
  GreaterOrEqual: ([a, b]) => truth(compare(a!, b!) === undefined ? undefined : compare(a!, b!)! >= 0),
  Not: ([a]) => truth(isTrue(a!) === undefined ? undefined : !isTrue(a!)),
  And: ([a, b]) => truth(isTrue(a!) === undefined || isTrue(b!) === undefined ? undefined : isTrue(a!)! && isTrue(b!)!),
  Or: ([a, b]) => truth(isTrue(a!) === undefined || isTrue(b!) === undefined ? undefined : isTrue(a!)! || isTrue(b!)!),
  Where: ([cond, a, b]) => (isTrue(cond!) === undefined ? undefined : isTrue(cond!) ? a : b),
  Max: (xs) => xs.reduce<Dim | undefined>((p, x) => (p === undefined || compare(p, x) === undefined ? undefined : compare(p, x)! >= 0 ? p : x), xs[0]),
  Min: (xs) => xs.reduce<Dim | undefined>((p, x) => (p === undefined || compare(p, x) === undefined ? undefined : compare(p, x)! <= 0 ? p : x), xs[0]),
  Identity: ([a]) => a,
  Cast: ([a]) => a,
  CastLike: ([a]) => a,
};

/** How many inputs an op needs (binary ops two, Where three; the variadic ones at least one). */
function needed(op: string): number {
  return op === 'Where' ? 3 : BINARY.includes(op) || BINARY.includes(`com.microsoft:${op}`) ? 2 : 1;
}

/** An output shaped like the inputs `inputs` broadcast together, with values where known. */
function broadcasting(inputs: (c: ShapeContext) => number[]): ShapeRule {
  return (c) => {
    const which = inputs(c).filter((i) => c.has(i));
    const want = needed(c.node.opType);
    if (which.length < want || (want > 1 && c.node.inputs.length > want && c.node.opType !== 'Where')) c.fail(`it has ${which.length} input(s); ${c.node.opType} takes ${want}`);
    const dims = broadcastOrFail(c, which.map((i) => c.dims(i)));
    const op = VALUE_OPS[c.node.opType];
    const known = op && dims.every((d) => asConstant(d) !== undefined) ? knownValues(c, which) : undefined;
    const float = isFloat(c);
    const values = known && mapBroadcast(known, dims.map((d) => asConstant(d)!), (xs) => op!(xs, float));
    return [{ dims, ...(values ? { values } : {}) }];
  };
}

const all = (c: ShapeContext) => c.node.inputs.map((_, i) => i);

/** Same shape as input 0, for each output (Dropout's mask too); values pass through unary value ops. */
const sameAsFirst: ShapeRule = (c) => {
  const s: ValueShape = c.shape(0);
  const op = VALUE_OPS[c.node.opType];
  const known = op ? knownValues(c, [0]) : undefined;
  const float = isFloat(c);
  const values = known && mapBroadcast(known, known[0]!.dims, (xs) => op!(xs, float));
  return c.node.outputs.map((_, k) => ({ dims: s.dims, ...(k === 0 && values ? { values } : {}) }));
};

// Cast to an integer type truncates a float constant toward zero, as onnxruntime's Cast does.
const FLOAT_DATA_TYPES: ReadonlySet<number> = new Set([DataType.FLOAT, DataType.FLOAT16, DataType.DOUBLE, DataType.BFLOAT16]);
const cast: ShapeRule = (c) => {
  const [out] = sameAsFirst(c);
  const to = Number(getAttribute(c.node, 'to')?.i ?? 1);
  if (out?.values === undefined || FLOAT_DATA_TYPES.has(to)) return [out];
  return [{ ...out, values: out.values.map((d) => (asConstant(d) === undefined ? d : constant(Math.trunc(asConstant(d)!)))) }];
};

const UNARY = [
  'Abs', 'Neg', 'Sqrt', 'Erf', 'Tanh', 'Relu', 'Exp', 'Log', 'Ceil', 'Floor', 'Round', 'Reciprocal', 'Identity', 'Sigmoid', 'Not', 'Sign',
  'Softmax', 'LogSoftmax', 'Gelu', 'HardSigmoid', 'LeakyRelu', 'Elu', 'Selu', 'Softplus', 'Sin', 'Cos', 'IsNaN', 'IsInf', 'Clip', 'Dropout', 'CastLike',
  'com.microsoft:Gelu', 'com.microsoft:FastGelu', 'com.microsoft:QuickGelu',
];
const BINARY = ['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Mod', 'Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'And', 'Or', 'Xor', 'PRelu', 'com.microsoft:BiasGelu'];
const VARIADIC = ['Sum', 'Max', 'Min', 'Mean', 'Where'];

export const elementwiseRules: ReadonlyArray<readonly [string, ShapeRule]> = [
  ...UNARY.map((op) => [op, sameAsFirst] as const),
  ['Cast', cast],
  ...[...BINARY, ...VARIADIC].map((op) => [op, broadcasting(all)] as const),
];
