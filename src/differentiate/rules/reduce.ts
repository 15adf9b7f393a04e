/** Gradients of reductions and softmax over an axis. */
import { attr, attrInt, attrInts, getAttribute } from '../../ir/index.js';
import type { GradientContext, GradientRule } from '../rule.js';

/** The axes a Reduce* node reduces, normalized to be non-negative and sorted. */
function reducedAxes(g: GradientContext): number[] {
  const node = g.node;
  const rank = g.rank(node.inputs[0]!);
  let axes: number[] | undefined;
  if (getAttribute(node, 'axes')) axes = attrInts(node, 'axes');
  else if (node.inputs[1]) {
    axes = g.constant(node.inputs[1]);
    if (!axes) g.fail('the reduced axes are not a constant');
  }
  if (!axes || axes.length === 0) {
    if (attrInt(node, 'noop_with_empty_axes', 0) === 1) return [];
    axes = [...Array(rank).keys()];
  }
  return [...new Set(axes.map((a) => (a < 0 ? a + rank : a)))].sort((a, b) => a - b);
}

/** dy brought back to the input's shape: re-insert reduced axes (if dropped), then expand. */
function spread(g: GradientContext, dy: string): string {
  const node = g.node;
  const x = node.inputs[0]!;
  const axes = reducedAxes(g);
  const kept = attrInt(node, 'keepdims', 1) === 1 ? dy : g.b.unsqueeze(dy, axes, `${x}.grad.unsqueezed`);
  return g.b.node('Expand', [kept, g.b.shape(x)], `${x}.grad`);
}

const reduceSum: GradientRule = (g, [dy]) => [spread(g, dy!)];

const reduceMean: GradientRule = (g, [dy]) => {
  const x = g.node.inputs[0]!;
  const { dims, dynamic } = g.shape(x);
  const axes = reducedAxes(g);
  if (!axes.some((a) => dynamic[a])) {
    const count = axes.reduce((n, a) => n * dims[a]!, 1);
    return [g.b.node('Mul', [spread(g, dy!), g.b.scalar(1 / count)], `${x}.grad`)];
  }
  // Averaged over the batch or sequence: the count is known at run time only, as size(x) / size(y).
  const size = (v: string) => g.b.node('Cast', [g.b.node('Size', [v], `${v}.size`)], `${v}.size.float`, [attr.int('to', 1)]);
  const count = g.b.node('Div', [size(x), size(g.node.outputs[0]!)], `${x}.grad.count`);
  return [g.b.node('Div', [spread(g, dy!), count], `${x}.grad`)];
};

/**
 * The softmax axis, which must be the last one (as in attention and classification). Below opset
 * 13 the default axis is 1 and the input is flattened from the axis on: the same as the last axis
 * only when that is axis 1 of a matrix, or when the axis given is the last.
 */
function lastAxis(g: GradientContext): number {
  const rank = g.rank(g.node.inputs[0]!);
  const axis = attrInt(g.node, 'axis', g.b.opset >= 13 ? -1 : 1);
  const normalized = axis < 0 ? axis + rank : axis;
  if (normalized !== rank - 1) g.fail(`softmax over axis ${axis} of a rank-${rank} tensor at opset ${g.b.opset} (only the last axis is supported)`);
  return rank - 1;
}

// y = softmax(x): dx = y · (dy - Σ dy·y)
const softmax: GradientRule = (g, [dy]) => {
  const x = g.node.inputs[0]!;
  const y = g.node.outputs[0]!;
  const axis = lastAxis(g);
  const dot = g.b.reduce('ReduceSum', g.b.node('Mul', [dy!, y], `${x}.grad`), [axis], true, `${x}.grad`);
  return [g.b.node('Mul', [y, g.b.node('Sub', [dy!, dot], `${x}.grad`)], `${x}.grad`)];
};

// y = log softmax(x): dx = dy - softmax(x) · Σ dy
const logSoftmax: GradientRule = (g, [dy]) => {
  const x = g.node.inputs[0]!;
  const axis = lastAxis(g);
  const total = g.b.reduce('ReduceSum', dy!, [axis], true, `${x}.grad`);
  return [g.b.node('Sub', [dy!, g.b.node('Mul', [g.b.node('Exp', [g.node.outputs[0]!], `${x}.grad`), total], `${x}.grad`)], `${x}.grad`)];
};

export const reduceRules: ReadonlyArray<[string, GradientRule]> = [
  ['ReduceSum', reduceSum],
  ['ReduceMean', reduceMean],
  ['Softmax', softmax],
  ['LogSoftmax', logSoftmax],
];
