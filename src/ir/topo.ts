/**
 * Topological order. ONNX requires nodes to be sorted, but real exports are not always (PyTorch
 * 1.1's BERT in ONNX Runtime's test data, for one), and ONNX Runtime runs them anyway, so stages
 * must not rely on the file order.
 */
import { AdapterError, diagnostic } from '../diagnostics/index.js';
import { nodeLabel } from './attributes.js';
import { readNames, valuesReadBy } from './navigate.js';
import type { Graph, Node } from './types.js';

/**
 * The nodes in an order where every node comes after the producers of the values it reads.
 * Among the nodes that are ready at a time, the one earliest in the file goes first: a graph that
 * is already sorted keeps its order exactly, and the result never depends on anything but the graph.
 * Values produced by no node (graph inputs, initializers, outer-scope values) count as available.
 * Throws an ADP2012 error when the nodes form a cycle.
 */
export function topologicalOrder(graph: Graph): Node[] {
  const nodes = graph.nodes;
  // Most graphs (every one adapterc emits, and most exports) are sorted already: one pass tells.
  if (inFileOrder(nodes)) return nodes.slice();
  // Indexed loops (see inFileOrder).
  const producerIndex = new Map<string, number>();
  for (let i = 0; i < nodes.length; i++) {
    const outputs = nodes[i]!.outputs;
    for (let k = 0; k < outputs.length; k++) if (outputs[k] !== '' && !producerIndex.has(outputs[k]!)) producerIndex.set(outputs[k]!, i);
  }

  // For each node: how many producers it still waits for, and who waits for it. Nodes are visited
  // in order, so a producer whose list already ends with this node was counted for it already.
  const waitingFor = new Array<number>(nodes.length).fill(0);
  const dependents: number[][] = nodes.map(() => []);
  for (let i = 0; i < nodes.length; i++) {
    const node = nodes[i]!;
    const reads = readNames(node);
    for (let k = 0; k < reads.length; k++) {
      const p = reads[k] === '' ? undefined : producerIndex.get(reads[k]!);
      if (p === undefined) continue;
      const waiting = dependents[p]!;
      if (waiting[waiting.length - 1] === i) continue;
      waiting.push(i);
      waitingFor[i]!++;
    }
  }

  const ready = new MinHeap();
  waitingFor.forEach((count, i) => {
    if (count === 0) ready.push(i);
  });
  const order: Node[] = [];
  while (ready.size > 0) {
    const i = ready.pop();
    order.push(nodes[i]!);
    const waiting = dependents[i]!;
    for (let k = 0; k < waiting.length; k++) if (--waitingFor[waiting[k]!]! === 0) ready.push(waiting[k]!);
  }
  if (order.length < nodes.length) {
    const stuck = nodes.find((_, i) => waitingFor[i]! > 0)!;
    throw new AdapterError([diagnostic('ADP2012', { node: nodeLabel(stuck) })]);
  }
  return order;
}

/** Whether every value a node reads that some node produces was produced by an earlier node. */
function inFileOrder(nodes: readonly Node[]): boolean {
  // One pass: values read before any node produced them are kept aside, and the graph is sorted
  // if none of them is produced later (they are graph inputs, initializers or outer values).
  // Indexed loops: this runs a few times per compile over thousands of nodes, mostly before V8 has
  // optimized it, and an interpreted for-of makes an iterator per array.
  const before = new Set<string>();
  const early: string[] = [];
  for (let n = 0; n < nodes.length; n++) {
    const node = nodes[n]!;
    const reads = readNames(node);
    for (let i = 0; i < reads.length; i++) {
      const name = reads[i]!;
      if (name !== '' && !before.has(name)) early.push(name);
    }
    const outputs = node.outputs;
    for (let i = 0; i < outputs.length; i++) if (outputs[i] !== '') before.add(outputs[i]!);
  }
  for (let i = 0; i < early.length; i++) if (before.has(early[i]!)) return false;
  return true;
}

/** Reorders `graph.nodes` topologically (see `topologicalOrder`), in place. */
export function sortGraph(graph: Graph): void {
  graph.nodes = topologicalOrder(graph);
}

/** True when every node comes after the producers of what it reads. */
export function isTopologicallySorted(graph: Graph): boolean {
  const order = topologicalOrder(graph);
  return order.every((node, i) => node === graph.nodes[i]);
}

/**
 * A topological order that depends only on the graph's structure, not on the order of its nodes:
 * a depth-first walk back from the graph outputs (in their order), which emits each node after the
 * producers of its inputs (in input order). Nodes no output depends on follow, walked from in order
 * of their first output name. Each node thus appears right after what it reads, which makes
 * dumps read naturally, and a rewrite that appends nodes dumps as if it had inserted them in place.
 * Throws an ADP2012 error when the nodes form a cycle.
 */
export function canonicalOrder(graph: Graph): Node[] {
  const producer = new Map<string, Node>();
  for (const node of graph.nodes) for (const out of node.outputs) if (out !== '' && !producer.has(out)) producer.set(out, node);

  const state = new Map<Node, 'open' | 'done'>();
  const order: Node[] = [];
  const walkFrom = (root: Node): void => {
    if (state.has(root)) return;
    // An explicit stack instead of recursion: real graphs are thousands of nodes deep.
    const stack: { node: Node; reads: string[]; next: number }[] = [{ node: root, reads: valuesReadBy(root), next: 0 }];
    state.set(root, 'open');
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      if (top.next === top.reads.length) {
        stack.pop();
        state.set(top.node, 'done');
        order.push(top.node);
        continue;
      }
      const p = producer.get(top.reads[top.next++]!);
      if (p === undefined || state.get(p) === 'done') continue;
      if (state.get(p) === 'open') throw new AdapterError([diagnostic('ADP2012', { node: nodeLabel(p) })]);
      state.set(p, 'open');
      stack.push({ node: p, reads: valuesReadBy(p), next: 0 });
    }
  };

  for (const output of graph.outputs) {
    const p = producer.get(output.name);
    if (p !== undefined) walkFrom(p);
  }
  const key = (n: Node): string => n.outputs.find((o) => o !== '') ?? '';
  const rest = graph.nodes.filter((n) => !state.has(n)).sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  for (const node of rest) walkFrom(node);
  return order;
}

/** A binary min-heap of node indices. */
class MinHeap {
  private readonly items: number[] = [];

  get size(): number {
    return this.items.length;
  }

  push(value: number): void {
    const items = this.items;
    items.push(value);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (items[parent]! <= value) break;
      items[i] = items[parent]!;
      i = parent;
    }
    items[i] = value;
  }

  pop(): number {
    const items = this.items;
    const top = items[0]!;
    const last = items.pop()!;
    if (items.length > 0) {
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        if (left >= items.length) break;
        const right = left + 1;
        const child = right < items.length && items[right]! < items[left]! ? right : left;
        if (items[child]! >= last) break;
        items[i] = items[child]!;
        i = child;
      }
      items[i] = last;
    }
    return top;
  }
}
