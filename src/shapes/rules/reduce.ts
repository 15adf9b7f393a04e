/** Shapes of reductions: the axes from an attribute (or, from opset 13 for ReduceSum and 18 for the rest, an input). */
import { attrInt, attrInts, getAttribute } from '../../ir/index.js';
import { constant, mul, type Dim } from '../dim.js';
import type { ShapeContext, ShapeRule } from '../rule.js';

function reduceAxes(c: ShapeContext): number[] | undefined {
  const fromInput = c.node.opType === 'ReduceSum' ? c.opset >= 13 : c.opset >= 18;
  if (fromInput) return c.has(1) ? c.ints(1, 'axes') : undefined;
  return getAttribute(c.node, 'axes') ? attrInts(c.node, 'axes') : undefined;
}

const reduce: ShapeRule = (c) => {
  const input = c.shape(0);
  const rank = input.dims.length;
  const keep = attrInt(c.node, 'keepdims', 1) === 1;
  const given = reduceAxes(c);
  if ((given === undefined || given.length === 0) && attrInt(c.node, 'noop_with_empty_axes', 0) === 1) return [input];
  const axes = new Set((given ?? []).length > 0 ? given!.map((a) => (a < 0 ? a + rank : a)) : [...Array(rank).keys()]);
  for (const a of axes) if (a < 0 || a >= rank) c.fail(`axis ${a} is outside a rank-${rank} input`);
  const dims = input.dims.flatMap((d, a) => (axes.has(a) ? (keep ? [constant(1)] : []) : [d]));
  // ReduceProd of a shape vector: the element count exporters reshape with.
  if (c.node.opType === 'ReduceProd' && input.values && rank === 1 && axes.size === 1) return [{ dims, values: [input.values.reduce<Dim>((p, v) => mul(p, v), constant(1))] }];
  return [{ dims }];
};

const argReduce: ShapeRule = (c) => {
  const input = c.shape(0);
  const rank = input.dims.length;
  const given = attrInt(c.node, 'axis', 0);
  const axis = given < 0 ? given + rank : given;
  if (axis < 0 || axis >= rank) c.fail(`axis ${given} is outside a rank-${rank} input`);
  const keep = attrInt(c.node, 'keepdims', 1) === 1;
  return [{ dims: input.dims.flatMap((d, a) => (a === axis ? (keep ? [constant(1)] : []) : [d])) }];
};

export const reduceRules: ReadonlyArray<readonly [string, ShapeRule]> = [
  ...['ReduceSum', 'ReduceMean', 'ReduceProd', 'ReduceMax', 'ReduceMin', 'ReduceL1', 'ReduceL2', 'ReduceLogSumExp', 'ReduceSumSquare'].map((op) => [op, reduce] as const),
  ['ArgMax', argReduce],
  ['ArgMin', argReduce],
];
