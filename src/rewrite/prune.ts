/**
 * Removes what no graph output needs any more: nodes (after a new head replaced the outputs) and
 * initializers nothing reads. Graph inputs stay (except initializers listed as inputs), so the model keeps its interface.
 */
import { indexGraph, valuesReadBy, type Graph } from '../ir/index.js';

export function pruneUnused(graph: Graph): { nodes: number; initializers: number } {
  const index = indexGraph(graph);
  const needed = new Set<string>(graph.outputs.map((o) => o.name));
  const keep = new Set<(typeof graph.nodes)[number]>();
  const queue = [...needed];
  while (queue.length > 0) {
    const value = queue.pop()!;
    const producer = index.producer.get(value);
    if (!producer || keep.has(producer)) continue;
    keep.add(producer);
    for (const input of valuesReadBy(producer)) {
      if (!needed.has(input)) {
        needed.add(input);
        queue.push(input);
      }
    }
  }
  const nodesBefore = graph.nodes.length;
  graph.nodes = graph.nodes.filter((n) => keep.has(n));
  const initializersBefore = graph.initializers.length;
  const removed = new Set(graph.initializers.filter((t) => t.name === undefined || !needed.has(t.name)).map((t) => t.name));
  graph.initializers = graph.initializers.filter((t) => !removed.has(t.name));
  // Old exports also list initializers as graph inputs; an input whose default is gone goes too.
  graph.inputs = graph.inputs.filter((i) => !removed.has(i.name));
  graph.valueInfo = graph.valueInfo.filter((v) => needed.has(v.name));
  return { nodes: nodesBefore - graph.nodes.length, initializers: initializersBefore - graph.initializers.length };
}
