/**
 * Adapting a value in place: the node that computed `value` now writes a fresh name, and the caller
 * computes `value` again from it. Every reader of `value`, and every site discovery recorded by that
 * name (a bottleneck adapter after the same sub-layer, say), then sees the adapted value without
 * being rewired, and rules applied to the same layer compose in any order.
 */
import type { GraphBuilder } from '../../ir/index.js';

/** Renames `value`'s producer output to a fresh `${base}` name and returns that name. */
export function takeOver(emit: GraphBuilder, value: string, base: string): string {
  const producer = emit.graph.nodes.find((n) => n.outputs.includes(value));
  if (!producer) throw new Error(`no node computes '${value}'`);
  const renamed = emit.fresh(base);
  producer.outputs[producer.outputs.indexOf(value)] = renamed;
  return renamed;
}
