/**
 * Static shape and element-type inference: the shape of every value in a graph, with the input
 * size as symbols, found without running the model (and without reading a weight: only
 * initializers' dims, and the values of small integer ones, are used).
 *
 * Graph inputs' unknown dims are the symbols: the first of each input is `batch`, the others
 * `sequence`, as `adapterc train` feeds them. Nodes are visited in topological order; each op's
 * rule (rules/) gives its outputs' dims, and the values of the small integer tensors exporters
 * compute shapes with. Element types come from the operator schemas (src/target/element-types.ts).
 * A node whose shape cannot be inferred stops with ADP3002, naming the node, its op and why.
 */
import { AdapterError, diagnostic } from '../diagnostics/index.js';
import { nodeLabel, opKey, opsetLookup, shapeOf, topologicalOrder, type Model, type Node } from '../ir/index.js';
import { inferElementTypes, ORT_NAMES } from '../target/element-types.js';
import { asConstant, BATCH, constant, evaluate, isSymbolic, SEQUENCE, symbol, toString, type Dim } from './dim.js';
import type { ShapeContext, ValueShape } from './rule.js';
import { shapeRules } from './rules/index.js';
import { tensorShape } from './rules/shape.js';

/** onnxruntime's tensor type names (float32, int64, bool), from ONNX Runtime's C++ names (element-types.ts). */
const TYPE_NAMES: Readonly<Record<string, string>> = Object.fromEntries(Object.entries(ORT_NAMES).map(([name, cpp]) => [cpp, name]));

export type InferredShapes = ReadonlyMap<string, ValueShape>;


function cannot(file: string, node: Node, reason: string): never {
  throw new AdapterError([diagnostic('ADP3002', { node: nodeLabel(node), file, reason }, { file })]);
}

/** Graph inputs' declared dims, their unknown ones as symbols (the first `batch`, the others `sequence`). */
function inputDims(model: Model, file: string): Map<string, Dim[]> {
  const initializers = new Set(model.graph.initializers.map((t) => t.name));
  const out = new Map<string, Dim[]>();
  for (const input of model.graph.inputs) {
    if (initializers.has(input.name)) continue;
    const declared = shapeOf(input);
    if (declared === undefined) {
      throw new AdapterError([diagnostic('ADP3002', { node: `the graph input '${input.name}'`, file, reason: 'it declares no shape' }, { file }, 'export the model with input shapes (symbolic names for the batch and sequence dims)')]);
    }
    let unknown = 0;
    out.set(input.name, declared.map((d) => (typeof d === 'number' && d > 0 ? constant(d) : symbol(unknown++ === 0 ? BATCH : SEQUENCE))));
  }
  return out;
}

/**
 * The shape of every node output and graph input of `model` (initializers too). `file` names the
 * model in messages. `known` is an earlier result for this graph, which has since only gained
 * nodes (compile adds the loss): the nodes whose outputs it has are not visited again.
 */
export function inferShapes(model: Model, file: string, known?: InferredShapes): InferredShapes {
  const graph = model.graph;
  let knownTypes: Map<string, string> | undefined;
  if (known !== undefined) {
    knownTypes = new Map();
    for (const [name, s] of known) if (s.elemType !== undefined) knownTypes.set(name, ORT_NAMES[s.elemType] ?? s.elemType);
  }
  const types = inferElementTypes(model, knownTypes);
  const typeOf = (value: string) => {
    const t = types.get(value);
    return t === undefined ? undefined : (TYPE_NAMES[t] ?? t);
  };
  const shapes = new Map<string, ValueShape>(known);
  for (const t of graph.initializers) if (t.name) shapes.set(t.name, { ...tensorShape(t), elemType: typeOf(t.name) });
  for (const [name, dims] of inputDims(model, file)) shapes.set(name, { dims, elemType: typeOf(name) });

  // One context for every node, reading the node being inferred (`node` below): a context and its
  // functions made per node were thousands of objects a graph, most of this loop before V8 optimizes it.
  let node: Node = graph.nodes[0]!;
  const opsetOf = opsetLookup(model);
  const fail = (reason: string): never => cannot(file, node, reason);
  const present = (i: number) => node.inputs[i] !== undefined && node.inputs[i] !== '';
  const shape = (i: number): ValueShape => {
    if (!present(i)) return fail(`its input ${i} is missing`);
    return shapes.get(node.inputs[i]!) ?? fail(`the shape of its input '${node.inputs[i]}' is unknown`);
  };
  const values = (i: number, role: string): readonly Dim[] => {
    const v = shape(i).values;
    if (v === undefined) fail(`its ${role} ('${node.inputs[i]}') is computed from values known only when the model runs`);
    return v!;
  };
  const context: ShapeContext = {
    get node() {
      return node;
    },
    get opset() {
      return opsetOf(node.domain ?? '');
    },
    has: present,
    shape,
    dims: (i) => shape(i).dims,
    rank: (i) => shape(i).dims.length,
    values,
    ints: (i, role) =>
      values(i, role).map((d) => {
        const n = asConstant(d);
        if (n === undefined) fail(`its ${role} ('${node.inputs[i]}') holds ${toString(d)}, which depends on the input size`);
        return n!;
      }),
    fail,
  };

  for (const next of topologicalOrder(graph)) {
    node = next;
    if (known !== undefined && node.outputs.every((o) => o === '' || known.has(o))) continue;
    const rule = shapeRules.get(opKey(node));
    if (rule === undefined) cannot(file, node, `adapterc has no shape rule for ${opKey(node)}`);
    const outputs = rule!(context);
    node.outputs.forEach((name, k) => {
      const out = outputs[k];
      if (name === '' || out === undefined) return;
      // Values must fill the dims exactly (a damaged constant can make them disagree): else they are dropped.
      const count = out.dims.reduce<number | undefined>((n, d) => (n === undefined || asConstant(d) === undefined ? undefined : n * asConstant(d)!), 1);
      const { values, ...shape } = out;
      const kept = values !== undefined && values.length === count && values.every((v) => v !== undefined) ? { values } : {};
      shapes.set(name, { ...shape, ...kept, elemType: typeOf(name) ?? out.elemType });
    });
  }
  return shapes;
}

/** The input size at which `ShapeTable` dims are given: 2 sequences of 2 tokens (other sizes only a run can tell: 2). */
export const TABLE_INPUT = { batch: 2, sequence: 2 } as const;

export interface TableValue {
  readonly elemType: string;
  /** Dims at `TABLE_INPUT`. */
  readonly dims: readonly number[];
  /** Per axis: whether the dim changes with the batch size or sequence length. */
  readonly dynamic: readonly boolean[];
  /** The dims as polynomials in the input size, written canonically: equal strings, equal shapes at every input size. */
  readonly symbolic: string;
  /**
   * The elements of a small integer value (shape arithmetic) when they are the same at every input
   * size: torch.nn.MultiheadAttention slices its packed q, k, v at offsets computed from a Shape.
   */
  readonly values?: readonly number[];
}

export type ShapeTable = ReadonlyMap<string, TableValue>;

/** `inferShapes` as the gradient rules read it: dims at a small input size, and which of them follow the input size. */
export function shapeTable(model: Model, file: string): ShapeTable {
  return inferShapeTable(model, file).table;
}

/** A graph's shapes: the table the gradient rules read, and the inferred shapes it was made from. */
export interface GraphShapes {
  readonly table: ShapeTable;
  readonly inferred: InferredShapes;
}

/**
 * `shapeTable`, with the inferred shapes it was made from. `earlier`, this graph's shapes before it
 * only gained nodes (compile adds the loss), is reused: only the new nodes are visited.
 */
export function inferShapeTable(model: Model, file: string, earlier?: GraphShapes): GraphShapes {
  const at = (s: string) => (s === BATCH ? TABLE_INPUT.batch : s === SEQUENCE ? TABLE_INPUT.sequence : 2);
  const table = new Map<string, TableValue>();
  const initializers = new Set(model.graph.initializers.map((t) => t.name));
  const inferred = inferShapes(model, file, earlier?.inferred);
  for (const [name, s] of inferred) {
    if (initializers.has(name)) continue;
    const before = earlier?.inferred.get(name) === s ? earlier.table.get(name) : undefined;
    if (before !== undefined) {
      table.set(name, before);
      continue;
    }
    const values = s.values && !s.values.some(isSymbolic) ? { values: s.values.map((d) => evaluate(d, at)) } : {};
    table.set(name, { elemType: s.elemType ?? 'unknown', dims: s.dims.map((d) => evaluate(d, at)), dynamic: s.dims.map(isSymbolic), symbolic: s.dims.map(toString).join(', '), ...values });
  }
  return { table, inferred };
}
