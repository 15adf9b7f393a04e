/**
 * Gradient of LayerNormalization over the last axis (the ONNX op, and the same op in the default
 * domain that ONNX Runtime's optimizer writes below opset 17).
 *
 *   x̂ = (x - μ) / σ,  y = γ·x̂ + β,  σ = √(var + ε)
 *   dβ = Σ dy,  dγ = Σ dy·x̂            (sums over every axis but the last)
 *   dx = (g - mean(g) - x̂·mean(g·x̂)) / σ,  g = dy·γ   (means over the last axis)
 *
 * μ and σ are recomputed from x rather than read from the op's optional outputs.
 */
import { attrFloat, attrInt } from '../../ir/index.js';
import type { GradientContext, GradientRule } from '../rule.js';

/** Σ over every axis but the last: rows of width `width`, summed. */
function sumRows(g: GradientContext, x: string, width: number, name: string): string {
  const rows = g.b.node('Reshape', [x, g.b.int64s(`${name}.rows.shape`, [-1, width])], `${name}.rows`);
  return g.b.reduce('ReduceSum', rows, [0], false, name);
}

const layerNormalization: GradientRule = (g, [dy]) => {
  const [x, scale, bias] = g.node.inputs as [string, string, string | undefined];
  const rank = g.rank(x);
  const axis = attrInt(g.node, 'axis', -1);
  if ((axis < 0 ? axis + rank : axis) !== rank - 1) return g.fail(`normalization over axis ${axis} (only the last axis is supported)`);
  const epsilon = attrFloat(g.node, 'epsilon', 1e-5);
  const width = g.shape(x).dims[rank - 1]!;
  const b = g.b;
  const mean = (v: string, name: string) => b.reduce('ReduceMean', v, [-1], true, name);

  const centered = b.node('Sub', [x, mean(x, `${x}.mean`)], `${x}.centered`);
  const variance = mean(b.node('Mul', [centered, centered], `${x}.squared`), `${x}.variance`);
  const sigma = b.node('Sqrt', [b.node('Add', [variance, b.scalar(epsilon)], `${x}.variance_eps`)], `${x}.sigma`);
  const normalized = b.node('Div', [centered, sigma], `${x}.normalized`);

  let dx: string | undefined;
  if (g.needs(0)) {
    const gx = b.node('Mul', [dy!, scale], `${x}.grad.scaled`);
    const term = b.node('Mul', [normalized, mean(b.node('Mul', [gx, normalized], `${x}.grad.dot`), `${x}.grad.dot_mean`)], `${x}.grad.term`);
    const inner = b.node('Sub', [b.node('Sub', [gx, mean(gx, `${x}.grad.mean`)], `${x}.grad.centered`), term], `${x}.grad.inner`);
    dx = b.node('Div', [inner, sigma], `${x}.grad`);
  }
  const dScale = g.needs(1) ? sumRows(g, b.node('Mul', [dy!, normalized], `${scale}.grad.terms`), width, `${scale}.grad`) : undefined;
  const dBias = bias && g.needs(2) ? sumRows(g, dy!, width, `${bias}.grad`) : undefined;
  return [dx, dScale, dBias];
};

export const normalizationRules: ReadonlyArray<[string, GradientRule]> = [['LayerNormalization', layerNormalization]];
