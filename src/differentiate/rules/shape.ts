/** Gradients of ops that move values around without arithmetic. */
import { attr, attrInt, attrInts, getAttribute, makeTensor } from '../../ir/index.js';
import type { GradientContext, GradientRule } from '../rule.js';

/**
 * dx = dy reshaped back to x's (run-time) shape. Where possible the target is a constant, so that
 * nothing reads x: 0 where x's dim is the same input-size polynomial as y's at that position
 * (Reshape copies it from dy: BERT's [B, S, 768] ↔ [B, S, 12, 64]), -1 for one other dim that
 * follows the input size (TensorFlow's [B·S, 768] ↔ [B, S, 768]), and the fixed dims. Otherwise
 * Shape(x), which keeps x alive until the backward pass reaches it.
 */
const reshapeBack: GradientRule = (g, [dy]) => {
  const x = g.node.inputs[0]!;
  const from = g.shape(x);
  const to = g.shape(g.node.outputs[0]!);
  const fromDims = symbolicDims(from);
  const toDims = symbolicDims(to);
  const target = from.dims.map((d, i) => (!from.dynamic[i] ? (d > 0 ? d : undefined) : to.dynamic[i] === true && toDims[i] === fromDims[i] ? 0 : -1));
  const constant = target.every((d) => d !== undefined) && target.filter((d) => d === -1).length <= 1;
  const shape = constant ? g.b.int64s(`${x}.grad.shape`, target as number[]) : g.b.shape(x);
  return [g.b.node('Reshape', [dy!, shape], `${x}.grad`)];
};

/** A value's dims as input-size polynomials, one string each. */
function symbolicDims(value: { readonly dims: readonly number[]; readonly symbolic: string }): string[] {
  return value.dims.length === 0 ? [] : value.symbolic.split(', ');
}

const transpose: GradientRule = (g, [dy]) => {
  const x = g.node.inputs[0]!;
  const rank = g.rank(x);
  const perm = getAttribute(g.node, 'perm') ? attrInts(g.node, 'perm') : [...Array(rank).keys()].reverse();
  const inverse = new Array<number>(rank);
  perm.forEach((p, i) => (inverse[p] = i));
  return [g.b.transpose(dy!, inverse, `${x}.grad`)];
};

function normalizedAxis(g: GradientContext, value: string, axis: number): number {
  return axis < 0 ? axis + g.rank(value) : axis;
}

// Each input gets its slice of dy along the axis: from the sum of the lengths before it.
const concat: GradientRule = (g, [dy]) => {
  const y = g.node.outputs[0]!;
  const axis = normalizedAxis(g, y, attrInt(g.node, 'axis'));
  const inputs = g.node.inputs;
  const last = Math.max(...inputs.map((_, i) => (g.needs(i) ? i : -1)));
  const dynamic = inputs.slice(0, last + 1).some((x) => g.shape(x).dynamic[axis]);
  if (dynamic && g.b.opset < 10) return g.fail('concatenating along an axis whose length depends on the input needs opset 10 or later');
  // Static lengths are numbers; dynamic ones are read from the inputs' shapes at run time.
  const lengthOf = (x: string): string => g.b.node('Slice', [g.b.shape(x), ...['starts', 'ends'].map((n, k) => g.b.int64s(`${x}.length.${n}`, [axis + k]))], `${x}.length`);
  let offset: number | string = 0;
  return inputs.map((x, i) => {
    const size = g.shape(x).dims[axis]!;
    const start = offset;
    if (dynamic) {
      const begin = typeof offset === 'number' ? g.b.int64s(`${x}.grad.starts`, [offset]) : offset;
      offset = g.b.node('Add', [begin, lengthOf(x)], `${x}.grad.ends`);
    } else offset = (offset as number) + size;
    if (!g.needs(i)) return undefined;
    if (dynamic) {
      const starts = typeof start === 'number' ? g.b.int64s(`${x}.grad.starts`, [start]) : start;
      return g.b.node('Slice', [dy!, starts, offset as string, g.b.int64s(`${x}.grad.axes`, [axis])], `${x}.grad`);
    }
    const end = offset as number;
    if (g.b.opset < 10) return g.b.node('Slice', [dy!], `${x}.grad`, [attr.ints('starts', [start as number]), attr.ints('ends', [end]), attr.ints('axes', [axis])]);
    const ints = (name: string, values: number[]) => g.b.int64s(`${x}.grad.${name}`, values);
    return g.b.node('Slice', [dy!, ints('starts', [start as number]), ints('ends', [end]), ints('axes', [axis])], `${x}.grad`);
  });
};

// dx = the outputs' gradients side by side (zeros for outputs nothing differentiates).
const split: GradientRule = (g, dYs) => {
  const x = g.node.inputs[0]!;
  const axis = normalizedAxis(g, x, attrInt(g.node, 'axis', 0));
  const parts = g.node.outputs.map((out, i) => dYs[i] ?? g.b.zerosLike(out, `${out}.grad.zero`));
  return [g.b.node('Concat', parts, `${x}.grad`, [attr.int('axis', axis)])];
};

const gather: GradientRule = (g, [dy]) => {
  if (!g.needs(0)) return [];
  const [data, indices] = g.node.inputs as [string, string];
  const axis = normalizedAxis(g, data, attrInt(g.node, 'axis', 0));
  const constantIndex = g.constant(indices);
  if (constantIndex && constantIndex.length === 1 && g.rank(indices) === 0) {
    // One slice taken (e.g. the first token): scatter dy back into zeros at that index.
    const updates = g.b.unsqueeze(dy!, [axis], `${data}.grad.updates`);
    const value = makeTensor('', [1], new BigInt64Array([BigInt(constantIndex[0]!)]));
    const positions = g.b.node('ConstantOfShape', [g.b.shape(updates)], `${data}.grad.positions`, [attr.tensor('value', value)]);
    const op = g.b.opset >= 11 ? 'ScatterElements' : 'Scatter';
    return [g.b.node(op, [g.b.zerosLike(data, `${data}.grad.zeros`), positions, updates], `${data}.grad`, [attr.int('axis', axis)])];
  }
  const dims = g.shape(data).dims;
  // Row positions as int64 (TensorFlow exports use int32 token ids).
  const rowsOf = (): string => (g.shape(indices).elemType === 'int64' ? indices : g.b.node('Cast', [indices], `${indices}.int64`, [attr.int('to', 7)]));
  if (axis === 0 && dims.length === 2 && g.b.opset >= 16) {
    // Rows looked up in a table (an embedding): scatter-add dy into zeros, summing repeated rows.
    const positions = g.b.unsqueeze(rowsOf(), [-1], `${data}.grad.positions`);
    return [g.b.node('ScatterND', [g.b.zerosLike(data, `${data}.grad.zeros`), positions, dy!], `${data}.grad`, [attr.string('reduction', 'add')])];
  }
  if (axis === 0 && dims.length === 2 && g.shape(data).dynamic[0]) {
    // Rows of a matrix whose row count follows the input (e.g. the hidden states of every token,
    // [batch·sequence, hidden], where a masked-LM head picks its rows): the same one-hot product
    // as below, with the row ids 0 … rows-1 made at run time as NonZero(ones(rows)), which has
    // CUDA kernels from opset 9 (Range only from 11).
    if (g.b.opset < 10) return g.fail('gathering rows of a matrix whose row count depends on the input needs opset 10 or later');
    const width = dims[1]!;
    const rows = g.b.node('Slice', [g.b.shape(data), g.b.int64s(`${data}.grad.rows.start`, [0]), g.b.int64s(`${data}.grad.rows.end`, [1])], `${data}.grad.row_count`);
    const ones = g.b.node('ConstantOfShape', [rows], `${data}.grad.ones`, [attr.tensor('value', makeTensor('', [1], new Float32Array([1])))]);
    const rowIds = g.b.node('Reshape', [g.b.node('NonZero', [ones], `${data}.grad.nonzero`), g.b.int64s(`${data}.grad.row_ids.shape`, [-1])], `${data}.grad.row_ids`);
    const matches = g.b.node('Equal', [g.b.unsqueeze(rowsOf(), [-1], `${data}.grad.indices`), rowIds], `${data}.grad.matches`);
    const oneHot = g.b.node('Cast', [matches], `${data}.grad.one_hot`, [attr.int('to', 1)]);
    // [...indices, rows] → [count, rows]: Flatten keeps the last axis whatever its length.
    const flat = g.b.node('Flatten', [oneHot], `${data}.grad.one_hot.rows`, [attr.int('axis', g.rank(indices))]);
    const dyRows = g.b.node('Reshape', [dy!, g.b.int64s(`${data}.grad.rows.shape`, [-1, width])], `${data}.grad.rows`);
    return [g.b.node('MatMul', [g.b.transpose(flat, [1, 0], `${data}.grad.one_hot.T`), dyRows], `${data}.grad`)];
  }
  if (axis === 0 && dims.length === 2) {
    // Before opset 16 ScatterND cannot add: dTable = one_hot(indices)ᵀ · dy sums repeated rows,
    // at the price of a product over the whole vocabulary.
    const [rows, width] = dims as [number, number];
    // one_hot(indices) as indices == [0 … rows-1] (Equal has CUDA kernels where OneHot has none).
    const rowIds = g.b.int64s(`${data}.grad.row_ids`, [...Array(rows).keys()]);
    const matches = g.b.node('Equal', [g.b.unsqueeze(rowsOf(), [-1], `${data}.grad.indices`), rowIds], `${data}.grad.matches`);
    const oneHot = g.b.node('Cast', [matches], `${data}.grad.one_hot`, [attr.int('to', 1)]);
    const flat = g.b.node('Reshape', [oneHot, g.b.int64s(`${data}.grad.one_hot.shape`, [-1, rows])], `${data}.grad.one_hot.rows`);
    const dyRows = g.b.node('Reshape', [dy!, g.b.int64s(`${data}.grad.rows.shape`, [-1, width])], `${data}.grad.rows`);
    return [g.b.node('MatMul', [g.b.transpose(flat, [1, 0], `${data}.grad.one_hot.T`), dyRows], `${data}.grad`)];
  }
  return g.fail('only a constant scalar index, or rows of a 2-D table, are supported');
};

const slice: GradientRule = (g, [dy]) => {
  const x = g.node.inputs[0]!;
  const { dims, dynamic } = g.shape(x);
  const rank = dims.length;
  const read = (i: number) => (g.node.inputs[i] ? g.constant(g.node.inputs[i]!) : undefined);
  const starts = g.node.inputs.length > 1 ? read(1) : attrInts(g.node, 'starts');
  const ends = g.node.inputs.length > 1 ? read(2) : attrInts(g.node, 'ends');
  const axes = (g.node.inputs.length > 1 ? read(3) : getAttribute(g.node, 'axes') ? attrInts(g.node, 'axes') : undefined) ?? starts?.map((_, i) => i);
  const steps = (g.node.inputs.length > 1 ? read(4) : undefined) ?? starts?.map(() => 1);
  if (!starts || !ends || !axes || !steps || steps.some((s) => s !== 1)) return g.fail('only constant slices with step 1 are supported');
  // Pad dy with zeros back to x's shape. Pads after a slice of an axis whose length depends on
  // the input are computed at run time (Pad takes its pads as an input from opset 11).
  const before = new Array<number>(rank).fill(0);
  const after: Array<number | string> = new Array<number | string>(rank).fill(0);
  axes.forEach((a, i) => {
    const axis = a < 0 ? a + rank : a;
    // A whole axis (0 to a sentinel end) needs no padding, whatever its length.
    if (starts[i] === 0 && ends[i]! >= 2 ** 31 - 1) return;
    if (dynamic[axis]) {
      if (g.b.opset < 11 || starts[i]! < 0 || ends[i]! < 0 || ends[i]! >= 2 ** 31 - 1) {
        g.fail('slicing part of an axis whose length depends on the input is supported from opset 11, with non-negative starts and ends');
      }
      before[axis] = starts[i]!;
      const length = g.b.node('Slice', [g.b.shape(x), g.b.int64s(`${x}.grad.axis_start`, [axis]), g.b.int64s(`${x}.grad.axis_end`, [axis + 1])], `${x}.grad.length`);
      after[axis] = g.b.node('Sub', [length, g.b.int64s(`${x}.grad.slice_end`, [ends[i]!])], `${x}.grad.pad_after`);
      return;
    }
    const size = dims[axis]!;
    const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + size : v, 0), size);
    before[axis] = clamp(starts[i]!);
    after[axis] = size - clamp(ends[i]!);
  });
  if (after.some((p) => typeof p === 'string')) {
    const pieces = [...before, ...after].map((p, k) => (typeof p === 'string' ? p : g.b.int64s(`${x}.grad.pad${k}`, [p])));
    return [g.b.node('Pad', [dy!, g.b.node('Concat', pieces, `${x}.grad.pads`, [attr.int('axis', 0)])], `${x}.grad`)];
  }
  const pads = [...before, ...(after as number[])];
  if (g.b.opset >= 11) return [g.b.node('Pad', [dy!, g.b.int64s(`${x}.grad.pads`, pads)], `${x}.grad`)];
  return [g.b.node('Pad', [dy!], `${x}.grad`, [attr.ints('pads', pads)])];
};

export const shapeRules: ReadonlyArray<[string, GradientRule]> = [
  ['Reshape', reshapeBack],
  ['Flatten', reshapeBack],
  ['Squeeze', reshapeBack],
  ['Unsqueeze', reshapeBack],
  ['Transpose', transpose],
  ['Concat', concat],
  ['Split', split],
  ['Gather', gather],
  ['Slice', slice],
];
