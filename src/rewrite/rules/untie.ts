/**
 * Rule: give a parameter that is about to train its own tensor.
 *
 *   pattern   an initializer read (directly or through Identity nodes) by several nodes
 *   check     the node that should train it is one of them
 *   rewrite   a copy of the initializer, read by that node alone
 *
 * Exporters share equal tensors between layers (torch.onnx stores one untrained LayerNorm gamma
 * and points every layer at it through Identity nodes). Training such a tensor would train all
 * layers' copies jointly, which is not what "this layer's LayerNorm trains" means.
 */
import { addInitializer, indexGraph, type EditableGraphIndex, type Graph, type GraphIndex, type Node, type Tensor } from '../../ir/index.js';

/** The initializer behind `value` (through Identity), and the nodes that read it, Identity seen through. */
export function initializerUses(graph: Graph, value: string, index: GraphIndex = indexGraph(graph)): { tensor: Tensor | undefined; readers: Node[] } {
  let source = value;
  for (let p = index.producer.get(source); p && p.opType === 'Identity'; p = index.producer.get(source)) source = p.inputs[0]!;
  const tensor = index.initializer.get(source);
  const readers: Node[] = [];
  const visit = (name: string) => {
    for (const c of index.consumers.get(name) ?? []) {
      if (c.opType === 'Identity') c.outputs.forEach(visit);
      else if (!readers.includes(c)) readers.push(c);
    }
  };
  visit(source);
  return { tensor, readers };
}

export interface Untied {
  readonly original: string;
  readonly copy: string;
}

/**
 * Makes `node`'s input `inputIndex` a tensor of its own, named `name`, when the tensor behind it is
 * shared; returns what it did, or undefined when the tensor was already the node's alone (or not
 * an initializer). `name` must be free. `index`, when given, is kept up to date with the change, so
 * a caller untying many tensors indexes the graph once (BERT-large: 0.35 s of compile otherwise).
 */
export function untie(graph: Graph, node: Node, inputIndex: number, name: string, index: EditableGraphIndex = indexGraph(graph)): Untied | undefined {
  const value = node.inputs[inputIndex]!;
  const { tensor, readers } = initializerUses(graph, value, index);
  if (!tensor || tensor.name === undefined) return undefined;
  const direct = value === tensor.name;
  if (readers.length <= 1 && direct) return undefined;
  if (readers.length <= 1) {
    // Unshared but read through Identity: read the initializer itself, so it is plainly a parameter.
    rewire(index, node, inputIndex, tensor.name);
    return undefined;
  }
  const copy = { ...tensor, name, preserved: undefined };
  addInitializer(graph, copy);
  index.initializer.set(name, copy);
  rewire(index, node, inputIndex, name);
  return { original: tensor.name, copy: name };
}

/** Points `node`'s input at `to`, and moves the node between the two values' consumer lists. */
function rewire(index: EditableGraphIndex, node: Node, inputIndex: number, to: string): void {
  const from = node.inputs[inputIndex]!;
  node.inputs[inputIndex] = to;
  if (!node.inputs.includes(from)) {
    const left = (index.consumers.get(from) ?? []).filter((n) => n !== node);
    index.consumers.set(from, left);
  }
  const readers = index.consumers.get(to) ?? [];
  if (!readers.includes(node)) index.consumers.set(to, [...readers, node]);
}
