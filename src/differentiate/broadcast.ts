/**
 * Undoing numpy-style broadcasting: an input that was stretched to the output's shape receives the
 * sum of the output gradient over the stretched axes. Which axes those are comes from the inferred
 * shapes: the leading axes the input lacks, and the axes where the input has 1 and the output not.
 */
import type { GradientContext } from './rule.js';

export function unbroadcast(g: GradientContext, grad: string, input: string, output: string): string {
  return unbroadcastFrom(g, grad, input, g.shape(output).dims);
}

/** As `unbroadcast`, for a gradient whose dims (`from`) are not those of a graph value. */
export function unbroadcastFrom(g: GradientContext, grad: string, input: string, from: readonly number[]): string {
  const to = g.shape(input).dims;
  const lead = from.length - to.length;
  const axes: number[] = [];
  for (let i = 0; i < from.length; i++) {
    if (i < lead || (to[i - lead] === 1 && from[i] !== 1)) axes.push(i);
  }
  if (axes.length === 0) return grad;
  const summed = g.b.reduce('ReduceSum', grad, axes, true, g.name(`${input}.grad.summed`));
  if (lead === 0) return summed;
  // Drop the leading axes: reshape to the input's own (run-time) shape.
  return g.b.node('Reshape', [summed, g.b.shape(input)], g.name(`${input}.grad.reshaped`));
}
