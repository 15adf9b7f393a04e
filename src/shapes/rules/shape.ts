/** Shapes of the ops that move elements around or compute shapes: the exporters' shape arithmetic. */
import { attrInt, attrInts, DataType, getAttribute, readNumbers, type Tensor } from '../../ir/index.js';
import { add, asConstant, compare, constant, divExact, product, sub, symbol, toString, type Dim } from '../dim.js';
import type { ShapeContext, ShapeRule, ValueShape } from '../rule.js';
import { concatValues, gatherValues, MAX_TRACKED, sliceValues, transposeValues } from '../values.js';
import { broadcastOrFail } from './elementwise.js';

function axisOf(c: ShapeContext, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) c.fail(`axis ${axis} is outside a rank-${rank} input`);
  return a;
}

/** The constant dims of `dims`, if all are. */
function constantDims(dims: readonly Dim[]): number[] | undefined {
  const out = dims.map(asConstant);
  return out.every((d) => d !== undefined) ? (out as number[]) : undefined;
}

/** `values` kept when the tensor is small enough to track. */
function withValues(dims: readonly Dim[], values: readonly Dim[] | undefined): ValueShape {
  return values !== undefined && values.length <= MAX_TRACKED ? { dims, values } : { dims };
}

const INTEGRAL_TYPES: ReadonlySet<number> = new Set([DataType.UINT8, DataType.INT8, DataType.UINT16, DataType.INT16, DataType.INT32, DataType.INT64, DataType.BOOL, DataType.UINT32, DataType.UINT64]);

/** Float constants this small are read too (scalars a float shape computation uses); larger ones are weights. */
const MAX_FLOAT_TRACKED = 16;

export function tensorShape(t: Tensor): ValueShape {
  const dims = t.dims.map(constant);
  const n = t.dims.reduce((p, d) => p * d, 1);
  const integral = INTEGRAL_TYPES.has(t.dataType ?? DataType.UNDEFINED);
  const float = t.dataType === DataType.FLOAT || t.dataType === DataType.DOUBLE;
  const read = (integral && n <= MAX_TRACKED) || (float && n <= MAX_FLOAT_TRACKED);
  const numbers = read ? readNumbers(t) : undefined;
  // A tensor whose data does not fill its dims (a damaged file) has no values to compute with.
  return withValues(dims, numbers !== undefined && numbers.length === n ? numbers.map(constant) : undefined);
}

const shape: ShapeRule = (c) => {
  const dims = c.dims(0);
  const rank = dims.length;
  const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + rank : v, 0), rank);
  const start = c.opset >= 15 ? clamp(attrInt(c.node, 'start', 0)) : 0;
  const end = c.opset >= 15 && getAttribute(c.node, 'end') ? clamp(attrInt(c.node, 'end')) : rank;
  const values = dims.slice(start, Math.max(start, end));
  return [{ dims: [constant(values.length)], values }];
};

const size: ShapeRule = (c) => [{ dims: [], values: [product(c.dims(0))] }];

const constantNode: ShapeRule = (c) => {
  const a = c.node.attributes[0];
  if (a?.t) return [tensorShape(a.t)];
  if (a?.name === 'value_float') return [{ dims: [], values: [constant(a.f ?? 0)] }];
  if (a?.name === 'value_int') return [{ dims: [], values: [constant(Number(a.i ?? 0))] }];
  if (a?.name === 'value_floats') return [{ dims: [constant(a.floats?.length ?? 0)] }];
  if (a?.name === 'value_ints') return [withValues([constant(a.ints?.length ?? 0)], (a.ints ?? []).map((v) => constant(Number(v))))];
  return c.fail(`a Constant with attribute '${a?.name ?? '(none)'}' has no shape rule`);
};

const gather: ShapeRule = (c) => {
  const data = c.shape(0);
  const indices = c.shape(1);
  const axis = axisOf(c, attrInt(c.node, 'axis', 0), data.dims.length);
  const dims = [...data.dims.slice(0, axis), ...indices.dims, ...data.dims.slice(axis + 1)];
  const dataDims = constantDims(data.dims);
  if (data.values === undefined || indices.values === undefined || dataDims === undefined) return [{ dims }];
  const length = dataDims[axis]!;
  const at = indices.values.map(asConstant);
  if (at.some((i) => i === undefined)) return [{ dims }];
  const outside = (at as number[]).find((i) => i < -length || i >= length);
  if (outside !== undefined) c.fail(`its index ${outside} is outside an axis of length ${length}`);
  return [withValues(dims, gatherValues(data.values, dataDims, axis, (at as number[]).map((i) => (i < 0 ? i + length : i))))];
};

const concat: ShapeRule = (c) => {
  const parts = c.node.inputs.map((_, i) => i).filter((i) => c.has(i)).map((i) => c.shape(i));
  const rank = parts[0]!.dims.length;
  const axis = axisOf(c, attrInt(c.node, 'axis'), rank);
  const odd = c.node.inputs.filter((x, i) => c.has(i) && c.rank(i) !== rank);
  if (odd.length > 0) c.fail(`its inputs must all have one rank, as ONNX's Concat requires, but ${odd.map((x) => `'${x}'`).join(', ')} ${odd.length > 1 ? 'have' : 'has'} rank ${c.shape(c.node.inputs.indexOf(odd[0]!)).dims.length} and '${c.node.inputs[0]}' rank ${rank}: the graph is not valid ONNX`);
  const dims = parts[0]!.dims.map((d, a) => {
    if (a === axis) return parts.map((p) => p.dims[a]!).reduce(add);
    for (const p of parts) if (compare(p.dims[a]!, d) !== 0) c.fail(`its inputs differ in dim ${a} (${toString(d)} and ${toString(p.dims[a]!)}), which must match outside axis ${axis}`);
    return d;
  });
  if (parts.some((p) => p.values === undefined || constantDims(p.dims) === undefined)) return [{ dims }];
  return [withValues(dims, concatValues(parts.map((p) => ({ values: p.values!, dims: constantDims(p.dims)! })), axis))];
};

const reshape: ShapeRule = (c) => {
  const input = c.shape(0);
  const target = c.values(1, 'shape');
  const allowZero = attrInt(c.node, 'allowzero', 0) === 1;
  const dims: Array<Dim | undefined> = target.map((t, a) => {
    const n = asConstant(t);
    if (n === 0 && !allowZero) return input.dims[a] ?? c.fail(`its shape copies dim ${a} (a 0), which the rank-${input.dims.length} input does not have`);
    if (n === -1) return undefined;
    return t;
  });
  const unknown = dims.filter((d) => d === undefined).length;
  if (unknown > 1) c.fail('its shape has more than one -1');
  if (unknown === 1) {
    const known = product(dims.filter((d): d is Dim => d !== undefined));
    const rest = divExact(product(input.dims), known);
    if (rest === undefined) c.fail(`the -1 in its shape is ${toString(product(input.dims))} elements / ${toString(known)}, which does not divide`);
    dims[dims.indexOf(undefined)] = rest;
  }
  const [from, to] = [product(input.dims), product(dims as Dim[])];
  if (compare(from, to) !== 0) c.fail(`its shape [${(dims as Dim[]).map(toString).join(', ')}] holds ${toString(to)} elements, but its input ${toString(from)}`);
  return [withValues(dims as Dim[], input.values)];
};

function squeezeAxes(c: ShapeContext): number[] | undefined {
  if (c.opset >= 13) return c.has(1) ? c.ints(1, 'axes') : undefined;
  return getAttribute(c.node, 'axes') ? attrInts(c.node, 'axes') : undefined;
}

const squeeze: ShapeRule = (c) => {
  const input = c.shape(0);
  const rank = input.dims.length;
  const axes = squeezeAxes(c)?.map((a) => axisOf(c, a, rank)) ?? input.dims.flatMap((d, a) => (asConstant(d) === 1 ? [a] : []));
  for (const a of axes) if (asConstant(input.dims[a]!) !== 1) c.fail(`it squeezes axis ${a}, whose dim is ${toString(input.dims[a]!)}, not 1`);
  return [withValues(input.dims.filter((_, a) => !axes.includes(a)), input.values)];
};

const unsqueeze: ShapeRule = (c) => {
  const input = c.shape(0);
  const given = squeezeAxes(c) ?? c.fail('it has no axes');
  const rank = input.dims.length + given.length;
  const axes = given.map((a) => axisOf(c, a, rank));
  const dims: Dim[] = [];
  let from = 0;
  for (let a = 0; a < rank; a++) dims.push(axes.includes(a) ? constant(1) : input.dims[from++]!);
  return [withValues(dims, input.values)];
};

/** ONNX Slice's clamping of a start or end against a dim (symbolic where the dim is), decided or failing. */
function clampIndex(c: ShapeContext, v: Dim, dim: Dim, step: number, isEnd: boolean, what: string): Dim {
  const n = asConstant(v);
  const sign = compare(v, constant(0));
  if (sign === undefined) c.fail(`whether its ${what} ${toString(v)} counts from the end depends on the input size`);
  // INT64_MAX and INT64_MIN (and any other huge value) mean "to the end" and "from before the start".
  let at = n !== undefined && n >= 2 ** 31 ? dim : n !== undefined && n <= -(2 ** 31) ? constant(-1) : sign! < 0 ? add(v, dim) : v;
  const low = step < 0 && isEnd ? constant(-1) : constant(0);
  const high = step < 0 ? sub(dim, constant(1)) : dim;
  const below = compare(at, low);
  const above = compare(at, high);
  if (below === undefined || above === undefined) c.fail(`whether its ${what} ${toString(v)} is within the axis (length ${toString(dim)}) depends on the input size`);
  if (below! < 0) at = low;
  if (above! > 0) at = high;
  return at;
}

const slice: ShapeRule = (c) => {
  const input = c.shape(0);
  const rank = input.dims.length;
  let starts: readonly Dim[], ends: readonly Dim[], axes: number[], steps: number[];
  if (c.opset >= 10) {
    starts = c.values(1, 'starts');
    ends = c.values(2, 'ends');
    axes = c.has(3) ? c.ints(3, 'axes') : starts.map((_, i) => i);
    steps = c.has(4) ? c.ints(4, 'steps') : starts.map(() => 1);
  } else {
    starts = attrInts(c.node, 'starts').map(constant);
    ends = attrInts(c.node, 'ends').map(constant);
    axes = getAttribute(c.node, 'axes') ? attrInts(c.node, 'axes') : starts.map((_, i) => i);
    steps = starts.map(() => 1);
  }
  const dims = [...input.dims];
  const ranges = input.dims.map((d) => ({ start: constant(0), step: 1, length: d }));
  axes.forEach((given, i) => {
    const a = axisOf(c, given, rank);
    const step = steps[i]!;
    if (step === 0) c.fail('a step is 0');
    const start = clampIndex(c, starts[i]!, input.dims[a]!, step, false, 'start');
    const end = clampIndex(c, ends[i]!, input.dims[a]!, step, true, 'end');
    const span = step > 0 ? sub(end, start) : sub(start, end);
    const empty = compare(span, constant(0));
    if (empty === undefined) c.fail(`whether its slice along axis ${a} is empty depends on the input size`);
    const magnitude = Math.abs(step);
    let length: Dim | undefined = empty! <= 0 ? constant(0) : magnitude === 1 ? span : undefined;
    if (length === undefined) {
      const n = asConstant(span);
      if (n === undefined) c.fail(`a step of ${step} over ${toString(span)} elements depends on the input size`);
      length = constant(Math.ceil(n! / magnitude));
    }
    dims[a] = length;
    ranges[a] = { start, step, length };
  });
  const fromDims = constantDims(input.dims);
  if (input.values === undefined || fromDims === undefined) return [{ dims }];
  const plain = ranges.map((r) => ({ start: asConstant(r.start)!, step: r.step, length: asConstant(r.length)! }));
  return [withValues(dims, sliceValues(input.values, fromDims, plain))];
};

const expand: ShapeRule = (c) => {
  const input = c.shape(0);
  const dims = broadcastOrFail(c, [input.dims, c.values(1, 'shape')]);
  return [{ dims }];
};

const constantOfShape: ShapeRule = (c) => {
  const dims = c.values(0, 'shape');
  const value = getAttribute(c.node, 'value')?.t;
  const fill = constant(value ? (readNumbers(value)[0] ?? 0) : 0);
  const n = constantDims(dims)?.reduce((p, d) => p * d, 1);
  return [{ ...withValues(dims, n !== undefined && n <= MAX_TRACKED ? new Array<Dim>(n).fill(fill) : undefined), fill }];
};

const range: ShapeRule = (c) => {
  const [start, limit, delta] = [0, 1, 2].map((i) => c.values(i, ['start', 'limit', 'delta'][i]!)[0]!);
  const step = asConstant(delta!);
  if (step === undefined || step === 0) c.fail('its delta is not a non-zero constant');
  const span = sub(limit!, start!);
  const sign = compare(span, constant(0));
  let length: Dim | undefined;
  if (sign !== undefined && sign * step! <= 0) length = constant(0);
  else if (Math.abs(step!) === 1) length = step! > 0 ? span : sub(start!, limit!);
  else {
    const n = asConstant(span);
    if (n === undefined) c.fail(`a delta of ${step} over ${toString(span)} depends on the input size`);
    length = constant(Math.ceil(n! / step!));
  }
  const n = asConstant(length);
  const values = n !== undefined && n <= MAX_TRACKED ? Array.from({ length: n }, (_, i) => add(start!, constant(i * step!))) : undefined;
  return [withValues([length], values)];
};

const transpose: ShapeRule = (c) => {
  const input = c.shape(0);
  const rank = input.dims.length;
  const perm = getAttribute(c.node, 'perm') ? attrInts(c.node, 'perm') : [...Array(rank).keys()].reverse();
  if (perm.length !== rank) c.fail(`its perm has ${perm.length} axes for a rank-${rank} input`);
  const dims = perm.map((p) => input.dims[axisOf(c, p, rank)]!);
  const fromDims = constantDims(input.dims);
  return [withValues(dims, input.values && fromDims ? transposeValues(input.values, fromDims, perm) : undefined)];
};

const tile: ShapeRule = (c) => {
  const input = c.shape(0);
  const repeats = c.values(1, 'repeats');
  if (repeats.length !== input.dims.length) c.fail(`it has ${repeats.length} repeats for a rank-${input.dims.length} input`);
  return [{ dims: input.dims.map((d, a) => product([d, repeats[a]!])) }];
};

const flatten: ShapeRule = (c) => {
  const input = c.shape(0);
  const rank = input.dims.length;
  const given = attrInt(c.node, 'axis', 1);
  const axis = given < 0 ? given + rank : given;
  if (axis < 0 || axis > rank) c.fail(`axis ${given} is outside a rank-${rank} input`);
  return [withValues([product(input.dims.slice(0, axis)), product(input.dims.slice(axis))], input.values)];
};

const split: ShapeRule = (c) => {
  const input = c.shape(0);
  const rank = input.dims.length;
  const axis = axisOf(c, attrInt(c.node, 'axis', 0), rank);
  const outputs = c.node.outputs.length;
  let sizes: Dim[];
  if (c.opset >= 13 && c.has(1)) sizes = [...c.values(1, 'split')];
  else if (c.opset < 13 && getAttribute(c.node, 'split')) sizes = attrInts(c.node, 'split').map(constant);
  else {
    const each = divExact(input.dims[axis]!, constant(outputs));
    if (each === undefined) c.fail(`its axis of ${toString(input.dims[axis]!)} does not split evenly into ${outputs} outputs`);
    sizes = new Array<Dim>(outputs).fill(each!);
  }
  return sizes.map((s) => ({ dims: input.dims.map((d, a) => (a === axis ? s : d)) }));
};

const pad: ShapeRule = (c) => {
  const input = c.shape(0);
  const rank = input.dims.length;
  const pads = c.opset >= 11 ? c.values(1, 'pads') : attrInts(c.node, 'pads').map(constant);
  const axes = c.opset >= 18 && c.has(3) ? c.ints(3, 'axes').map((a) => axisOf(c, a, rank)) : [...Array(rank).keys()];
  const dims = [...input.dims];
  axes.forEach((a, i) => (dims[a] = add(add(dims[a]!, pads[i]!), pads[i + axes.length]!)));
  return [{ dims }];
};

/**
 * NonZero's count: the number of non-zero elements where they are known (old torch exports write
 * arange(n) as NonZero(ConstantOfShape([n], 1))); otherwise known only when the model runs, a size
 * of its own.
 */
const nonZero: ShapeRule = (c) => {
  const input = c.shape(0);
  const rank = constant(input.dims.length);
  if (input.fill !== undefined && asConstant(input.fill) !== undefined) return [{ dims: [rank, asConstant(input.fill) === 0 ? constant(0) : product(input.dims)] }];
  if (input.values !== undefined && input.values.every((v) => asConstant(v) !== undefined)) return [{ dims: [rank, constant(input.values.filter((v) => asConstant(v) !== 0).length)] }];
  return [{ dims: [rank, symbol(`nonzero(${c.node.outputs[0]})`)] }];
};

/** Outputs shaped like input 0 (Scatter*: the updated data). */
const likeData: ShapeRule = (c) => [{ dims: c.dims(0) }];

/** Outputs shaped like input 1: GatherElements takes one element of the data per index. */
const likeIndices: ShapeRule = (c) => [{ dims: c.dims(1) }];

export const shapeRules: ReadonlyArray<readonly [string, ShapeRule]> = [
  ['Shape', shape],
  ['Size', size],
  ['Constant', constantNode],
  ['Gather', gather],
  ['Concat', concat],
  ['Reshape', reshape],
  ['Squeeze', squeeze],
  ['Unsqueeze', unsqueeze],
  ['Slice', slice],
  ['Expand', expand],
  ['ConstantOfShape', constantOfShape],
  ['Range', range],
  ['Transpose', transpose],
  ['Tile', tile],
  ['Flatten', flatten],
  ['Split', split],
  ['Pad', pad],
  ['NonZero', nonZero],
  ['Scatter', likeData],
  ['ScatterElements', likeData],
  ['ScatterND', likeData],
  // Running sums (RoBERTa's and MPNet's position ids count the non-padding tokens): x's shape, the values not tracked.
  ['CumSum', likeData],
  ['GatherElements', likeIndices],
];
