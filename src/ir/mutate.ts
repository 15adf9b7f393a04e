/**
 * Changing a graph: what the rewrite stage needs to splice adapters in. Functions mutate the graph
 * they are given. Misuse (a duplicate name, a node not in the graph) is a bug in the caller and
 * throws a plain Error.
 */
import { forEachGraph, subgraphsOf } from './walk.js';
import type { Attribute, Graph, Model, Node, Tensor } from './types.js';

export interface NewNode {
  opType: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  /** Leave out for the default ONNX domain. */
  domain?: string;
  attributes?: Attribute[];
  docString?: string;
}

/**
 * Adds a node, by default at the end; `after` or `before` places it next to an existing node (to
 * keep the file order readable; `sortGraph` restores topological order in any case).
 */
export function addNode(graph: Graph, spec: NewNode, position: { after?: Node; before?: Node } = {}): Node {
  const node: Node = {
    inputs: [...spec.inputs],
    outputs: [...spec.outputs],
    opType: spec.opType,
    attributes: spec.attributes ? [...spec.attributes] : [],
    ...(spec.name === undefined ? {} : { name: spec.name }),
    ...(spec.domain === undefined ? {} : { domain: spec.domain }),
    ...(spec.docString === undefined ? {} : { docString: spec.docString }),
  };
  const anchor = position.after ?? position.before;
  if (anchor === undefined) {
    graph.nodes.push(node);
    return node;
  }
  const index = graph.nodes.indexOf(anchor);
  if (index === -1) throw new Error(`addNode: the anchor node ${anchor.name ?? anchor.opType} is not in the graph`);
  graph.nodes.splice(position.after ? index + 1 : index, 0, node);
  return node;
}

/** Removes the given nodes (by identity). Values they produced are left dangling for the caller to rewire. */
export function removeNodes(graph: Graph, nodes: Iterable<Node>): void {
  const doomed = new Set(nodes);
  const missing = [...doomed].filter((n) => !graph.nodes.includes(n));
  if (missing.length > 0) throw new Error(`removeNodes: ${missing.length} of the nodes are not in the graph`);
  graph.nodes = graph.nodes.filter((n) => !doomed.has(n));
}

export function addInitializer(graph: Graph, tensor: Tensor): void {
  if (tensor.name === undefined || tensor.name === '') throw new Error('addInitializer: an initializer needs a name');
  if (graph.initializers.some((t) => t.name === tensor.name)) throw new Error(`addInitializer: '${tensor.name}' already exists`);
  graph.initializers.push(tensor);
}

/** Removes an initializer by name and returns it (undefined when there is none). */
export function removeInitializer(graph: Graph, name: string): Tensor | undefined {
  const index = graph.initializers.findIndex((t) => t.name === name);
  if (index === -1) return undefined;
  return graph.initializers.splice(index, 1)[0];
}

/** True when `graph` itself defines `name` (so a subgraph's own `name` hides the outer one). */
function defines(graph: Graph, name: string): boolean {
  return (
    graph.inputs.some((v) => v.name === name) ||
    graph.initializers.some((t) => t.name === name) ||
    graph.nodes.some((n) => n.outputs.includes(name))
  );
}

/** Makes one node read `to` where it read `from`, through its subgraphs too. True if anything changed. */
function replaceReads(node: Node, from: string, to: string): boolean {
  let touched = false;
  node.inputs = node.inputs.map((n) => {
    if (n !== from) return n;
    touched = true;
    return to;
  });
  for (const sub of subgraphsOf(node)) touched = replaceInSubgraph(sub, from, to) || touched;
  return touched;
}

/** Rewrites reads of the outer-scope value `from` inside a subgraph, unless the subgraph hides it. */
function replaceInSubgraph(graph: Graph, from: string, to: string): boolean {
  if (defines(graph, from)) return false;
  let touched = false;
  for (const node of graph.nodes) touched = replaceReads(node, from, to) || touched;
  for (const v of graph.outputs) {
    if (v.name === from) {
      v.name = to;
      touched = true;
    }
  }
  return touched;
}

export interface ReplaceOptions {
  /** Nodes whose reads stay as they are: typically the new nodes that consume `from` themselves. */
  except?: Iterable<Node>;
  /** Also make graph outputs named `from` name `to` instead. Default false: the model's interface stays. */
  graphOutputs?: boolean;
}

/**
 * Makes every reader of `from` read `to` instead, including reads from subgraphs. The producer of
 * `from` is untouched. Returns how many nodes changed.
 *
 * Inserting an adapter after value v: add nodes that read v and produce v', then
 * `replaceUses(graph, v, v', { except: newNodes })`.
 */
export function replaceUses(graph: Graph, from: string, to: string, options: ReplaceOptions = {}): number {
  const except = new Set(options.except ?? []);
  let changed = 0;
  for (const node of graph.nodes) if (!except.has(node) && replaceReads(node, from, to)) changed++;
  if (options.graphOutputs) for (const v of graph.outputs) if (v.name === from) v.name = to;
  return changed;
}

/**
 * Renames a value everywhere in the graph: where it is defined (node output, graph input or
 * initializer), where it is read, graph outputs and value_info.
 */
export function renameValue(graph: Graph, from: string, to: string): void {
  if (from === to) return;
  if (usedNames(graph).has(to)) throw new Error(`renameValue: '${to}' is already used`);
  for (const node of graph.nodes) node.outputs = node.outputs.map((n) => (n === from ? to : n));
  for (const v of graph.inputs) if (v.name === from) v.name = to;
  for (const t of graph.initializers) if (t.name === from) t.name = to;
  for (const v of graph.valueInfo) if (v.name === from) v.name = to;
  replaceUses(graph, from, to, { graphOutputs: true });
}

/** Every value and node name in the graph and its subgraphs. */
export function usedNames(graph: Graph): Set<string> {
  const names = new Set<string>();
  // Indexed loops over the nodes (see forEachGraph).
  forEachGraph(graph, (g) => {
    for (const list of [g.inputs, g.outputs, g.valueInfo]) for (const v of list) names.add(v.name);
    for (const t of g.initializers) if (t.name !== undefined) names.add(t.name);
    const nodes = g.nodes;
    for (let n = 0; n < nodes.length; n++) {
      const node = nodes[n]!;
      if (node.name !== undefined) names.add(node.name);
      for (let i = 0; i < node.inputs.length; i++) names.add(node.inputs[i]!);
      for (let i = 0; i < node.outputs.length; i++) names.add(node.outputs[i]!);
    }
  });
  names.delete('');
  return names;
}

/** Hands out names no value or node in the graph uses yet. */
export interface Namer {
  /** `base` if it is free, else `base_1`, `base_2`, ...; the name is then taken. */
  fresh(base: string): string;
  /** Marks a name as taken. */
  reserve(name: string): void;
}

/** A namer over the names `graph` uses now; names it hands out are remembered. */
export function createNamer(graph: Graph): Namer {
  const taken = usedNames(graph);
  // Per base, the suffix last handed out: names are only ever added, so the search for the next
  // free one resumes there (the same names, without trying _1, _2, ... again for each).
  const lastSuffix = new Map<string, number>();
  return {
    fresh(base) {
      let name = base;
      let i = lastSuffix.get(base) ?? 0;
      while (name === '' || taken.has(name)) name = `${base}_${++i}`;
      if (i > 0) lastSuffix.set(base, i);
      taken.add(name);
      return name;
    },
    reserve(name) {
      taken.add(name);
    },
  };
}

/**
 * A copy of a model whose graph can be changed without touching the original: node, value and
 * list objects are new; tensors are shared (stages never change a tensor's contents in place).
 * With `nodes: 'shared'`, the Node objects are the original's (in a new list): for a copy whose
 * nodes stay as they are, which later stages can then recognize (target/cuda.ts, coverageOfSameNodes).
 */
export function cloneModel(model: Model, options: { readonly nodes?: 'copied' | 'shared' } = {}): Model {
  const graph = model.graph;
  return {
    ...model,
    opsetImports: model.opsetImports.map((o) => ({ ...o })),
    graph: {
      ...graph,
      nodes: options.nodes === 'shared' ? [...graph.nodes] : graph.nodes.map((n) => ({ ...n, inputs: [...n.inputs], outputs: [...n.outputs], attributes: [...n.attributes] })),
      initializers: [...graph.initializers],
      inputs: graph.inputs.map((v) => ({ ...v })),
      outputs: graph.outputs.map((v) => ({ ...v })),
      valueInfo: [...graph.valueInfo],
    },
  };
}
