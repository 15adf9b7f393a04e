/** Visiting the graphs nested in node attributes (If, Loop, Scan bodies) and all tensors. */
import type { Graph, Node, Tensor } from './types.js';

/** The graphs held by a node's attributes. */
export function subgraphsOf(node: Node): Graph[] {
  const graphs: Graph[] = [];
  for (const a of node.attributes) {
    if (a.g) graphs.push(a.g);
    if (a.graphs) graphs.push(...a.graphs);
  }
  return graphs;
}

/** Calls `visit` on `graph` and then on every graph nested in it, depth first. */
export function forEachGraph(graph: Graph, visit: (g: Graph) => void): void {
  visit(graph);
  // As subgraphsOf, without an array per node: graphs of thousands of nodes are walked often, a few
  // times per compile, so mostly before V8 optimizes this; indexed loops, as an interpreted for-of
  // makes an iterator and a result object per element.
  const nodes = graph.nodes;
  for (let n = 0; n < nodes.length; n++) {
    const attributes = nodes[n]!.attributes;
    for (let i = 0; i < attributes.length; i++) {
      const a = attributes[i]!;
      if (a.g) forEachGraph(a.g, visit);
      if (a.graphs) for (const sub of a.graphs) forEachGraph(sub, visit);
    }
  }
}

/**
 * Every tensor of a graph and its subgraphs: initializers and the tensors in node attributes
 * (Constant values). Tensors inside preserved (unmodelled) fields are not included.
 */
export function allTensors(graph: Graph): Tensor[] {
  const tensors: Tensor[] = [];
  forEachGraph(graph, (g) => {
    tensors.push(...g.initializers);
    for (const node of g.nodes) {
      for (const a of node.attributes) {
        if (a.t) tensors.push(a.t);
        if (a.tensors) tensors.push(...a.tensors);
      }
    }
  });
  return tensors;
}
