/**
 * Element types of every value in a graph, inferred node by node: what the CUDA coverage check needs
 * to pick a kernel. Graph inputs and initializers state theirs; most ops pass on their first input's
 * type; the rest are listed here.
 */
import { attrInt, DataType, elemTypeOf, getAttribute, isDefaultDomain, topologicalOrder, type Model, type Node } from '../ir/index.js';

/** A value's type: a DataType, or 'sequence' for seq(tensor) values (the optimizer's inputs). */
export type ElementType = number | 'sequence';

const boolean = new Set(['Equal', 'Greater', 'Less', 'GreaterOrEqual', 'LessOrEqual', 'Not', 'And', 'Or', 'Xor', 'IsNaN', 'IsInf']);
const int64 = new Set(['Shape', 'Size', 'NonZero', 'ArgMax', 'ArgMin']);

function outputTypes(node: Node, input: (i: number) => ElementType | undefined): Array<ElementType | undefined> {
  const first = node.inputs.map((_, i) => input(i)).find((t) => t !== undefined);
  const op = node.opType;
  if (isDefaultDomain(node.domain)) {
    if (op === 'Constant') {
      const a = node.attributes[0];
      if (a?.t) return [a.t.dataType];
      return [a?.name === 'value_float' || a?.name === 'value_floats' ? DataType.FLOAT : a?.name === 'value_string' || a?.name === 'value_strings' ? DataType.STRING : DataType.INT64];
    }
    if (int64.has(op)) return [DataType.INT64];
    if (boolean.has(op)) return [DataType.BOOL];
    if (op === 'Cast') return [attrInt(node, 'to')];
    if (op === 'ConstantOfShape') return [getAttribute(node, 'value')?.t?.dataType ?? DataType.FLOAT];
    if (op === 'OneHot') return [input(2)];
    if (op === 'Where') return [input(1)];
    if (op === 'LayerNormalization') return [input(0), DataType.FLOAT, DataType.FLOAT];
    if (op === 'Dropout') return [input(0), DataType.BOOL];
  }
  if (node.domain === 'com.microsoft') {
    if (op === 'InPlaceAccumulatorV2' || op === 'AdamWOptimizer' || op === 'SGDOptimizerV2') return [DataType.BOOL, 'sequence', 'sequence', 'sequence'];
    if (op === 'SkipLayerNormalization') return [input(0), DataType.FLOAT, DataType.FLOAT, input(0)];
  }
  return node.outputs.map(() => first);
}

export function inferElementTypes(model: Model): Map<string, ElementType> {
  const graph = model.graph;
  const types = new Map<string, ElementType>();
  for (const t of graph.initializers) if (t.name && t.dataType !== undefined) types.set(t.name, t.dataType);
  for (const v of graph.inputs) {
    const t = elemTypeOf(v);
    // seq(tensor) inputs carry no tensor type in the IR (their TypeProto is kept verbatim).
    types.set(v.name, t ?? (v.type?.tensor === undefined && v.type !== undefined ? 'sequence' : DataType.UNDEFINED));
  }
  for (const node of topologicalOrder(graph)) {
    const produced = outputTypes(node, (i) => (node.inputs[i] ? types.get(node.inputs[i]!) : undefined));
    node.outputs.forEach((out, i) => {
      const t = produced[i];
      if (out && t !== undefined) types.set(out, t);
    });
  }
  return types;
}
