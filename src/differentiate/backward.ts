/**
 * differentiate: reverse-mode automatic differentiation over an ONNX graph. The driver is small and
 * generic (as in micrograd or tinygrad): walk the nodes between the trainable parameters and the
 * loss backwards, ask each node's rule for its input gradients, and sum the gradients that reach a
 * value along several paths. Only what is needed is built: nothing for frozen weights, nothing
 * below the lowest trainable parameter.
 */
import { AdapterError, diagnostic } from '../diagnostics/index.js';
import { GraphBuilder, indexGraph, nodeLabel, opKey, readNumbers, shapeOf, topologicalOrder, type Model, type Node } from '../ir/index.js';
import type { ShapeTable, TableValue } from '../shapes/index.js';
import { failure, FLOAT_TYPES, type GradientContext } from './rule.js';
import { matchPattern } from './patterns.js';
import { gradientRules } from './rules/index.js';

export interface Gradients {
  /** The gradient value of each trainable parameter, in the order asked for. */
  readonly byParameter: ReadonlyMap<string, string>;
  /** Nodes added for the backward pass. */
  readonly nodes: readonly Node[];
}

/** Element types that carry gradients (a value without an inferred type is taken to). */
function carriesGradient(elemType: string | undefined): boolean {
  return elemType === undefined || FLOAT_TYPES[elemType] !== undefined;
}


/**
 * Adds to `model` the nodes computing d`loss`/dp for every p in `parameters` (initializers or graph
 * inputs of float type). `shapes` are the inferred shapes of the forward graph.
 */
export function differentiate(model: Model, loss: string, parameters: readonly string[], shapes: ShapeTable): Gradients {
  const graph = model.graph;
  const forward = topologicalOrder(graph);
  const index = indexGraph(graph);
  const b = new GraphBuilder(model, 'grad.constant');

  // Values that depend on a parameter, and values the loss depends on.
  const requiresGrad = new Set(parameters);
  const firstParameter = new Map<string, string>(parameters.map((p) => [p, p]));
  for (const node of forward) {
    const source = node.inputs.find((i) => requiresGrad.has(i));
    if (source === undefined) continue;
    for (const out of node.outputs) {
      // Integer and bool values carry no gradient: a shape read from a trainable value (Shape, then
      // ConstantOfShape) does not make what is built from it depend on the parameter.
      if (out === '' || !carriesGradient(shapes.get(out)?.elemType)) continue;
      requiresGrad.add(out);
      firstParameter.set(out, firstParameter.get(source)!);
    }
  }
  const feedsLoss = new Set([loss]);
  for (const node of [...forward].reverse()) {
    if (node.outputs.some((o) => feedsLoss.has(o))) for (const i of node.inputs) if (i) feedsLoss.add(i);
  }

  const contributions = new Map<string, string[]>();
  const add = (value: string, grad: string) => contributions.set(value, [...(contributions.get(value) ?? []), grad]);
  const total = (value: string): string | undefined => {
    const parts = contributions.get(value);
    if (!parts || parts.length === 0) return undefined;
    if (parts.length === 1) return parts[0];
    const sum = b.node('Sum', parts, `${value}.grad`);
    contributions.set(value, [sum]);
    return sum;
  };
  add(loss, b.scalar(1));

  const shape = (value: string): TableValue => {
    const inferred = shapes.get(value);
    if (inferred) return inferred;
    const init = index.initializer.get(value);
    if (init) return fixedShape(init.dims);
    // Parameters turned into graph inputs keep their fixed shapes.
    const declared = index.input.get(value);
    const dims = declared ? shapeOf(declared) : undefined;
    if (dims && dims.every((d) => typeof d === 'number')) return fixedShape(dims as number[]);
    throw new Error(`differentiate: no shape for '${value}'`);
  };
  const constant = (value: string): number[] | undefined => {
    const init = index.initializer.get(value);
    if (init) return readNumbers(init);
    const p = index.producer.get(value);
    const t = p?.opType === 'Constant' ? p.attributes.find((a) => a.name === 'value')?.t : undefined;
    // Shape arithmetic that comes out the same at every input size is a constant too.
    return t ? readNumbers(t) : shapes.get(value)?.values?.slice();
  };

  for (const node of [...forward].reverse()) {
    const relevant = node.outputs.some((o) => o !== '' && requiresGrad.has(o) && feedsLoss.has(o));
    if (!relevant) continue;
    const dY = node.outputs.map((o) => (o === '' ? undefined : total(o)));
    if (dY.every((d) => d === undefined)) continue;
    // A chain that computes one function (patterns.ts): its output's gradient goes straight to its
    // input by that function's rule, as if the chain were one node.
    const pattern = matchPattern(node, { producer: index.producer, constant });
    const asNode: Node | undefined = pattern && requiresGrad.has(pattern.input) ? { ...node, opType: pattern.op, inputs: [pattern.input], attributes: [] } : undefined;
    const target = asNode ?? node;
    const rule = gradientRules.get(opKey(target));
    if (!rule) {
      const parameter = firstParameter.get(node.outputs.find((o) => firstParameter.has(o))!) ?? '?';
      throw new AdapterError([
        diagnostic('ADP3001', { op: opKey(node), node: nodeLabel(node), parameter }, undefined, 'freeze the parameters below this node, or use a model exported without this operator'),
      ]);
    }
    const context: GradientContext = {
      node: target,
      b,
      needs: (i) => target.inputs[i] !== undefined && target.inputs[i] !== '' && requiresGrad.has(target.inputs[i]!),
      shape,
      rank: (value) => shape(value).dims.length,
      constant,
      name: (base) => base,
      fail: (reason) => failure(node, reason),
    };
    const dX = rule(context, dY);
    target.inputs.forEach((input, i) => {
      const grad = dX[i];
      if (grad !== undefined && context.needs(i)) add(input, grad);
    });
  }

  const byParameter = new Map<string, string>();
  for (const p of parameters) byParameter.set(p, total(p) ?? b.zerosLike(p, `${p}.grad.zero`));
  readShapesFromKeptValues(b.added, graph.inputs.map((i) => i.name), shapes);
  return { byParameter, nodes: b.added };
}

function fixedShape(dims: readonly number[]): TableValue {
  return { elemType: 'float32', dims, dynamic: dims.map(() => false), symbolic: dims.join(', ') };
}

/**
 * A gradient rule's Shape(x) keeps the forward value x alive until the backward pass reaches it:
 * inference runtimes run a node where its consumer needs it (ORT's training build alone moves Shape
 * nodes up to their inputs). On BERT-base that held LayerNorm's input and its squared deviation,
 * read only for their shapes: a fifth of the activations the step model keeps. So each Shape of a
 * forward value the backward pass reads for nothing else reads instead a graph input, or a value
 * the backward pass keeps anyway, whose inferred dims are the same polynomials in the input size.
 */
function readShapesFromKeptValues(added: readonly Node[], graphInputs: readonly string[], shapes: ShapeTable): void {
  const backward = new Set(added.flatMap((n) => n.outputs));
  const kept = new Map<string, string>();
  const keep = (value: string) => {
    const symbolic = shapes.get(value)?.symbolic;
    if (symbolic !== undefined && !kept.has(symbolic)) kept.set(symbolic, value);
  };
  for (const input of graphInputs) keep(input);
  for (const node of added) if (node.opType !== 'Shape') for (const input of node.inputs) if (input && !backward.has(input)) keep(input);
  const readOtherwise = new Set(added.filter((n) => n.opType !== 'Shape').flatMap((n) => n.inputs));
  for (const node of added) {
    const x = node.opType === 'Shape' && node.attributes.length === 0 ? node.inputs[0]! : undefined;
    if (x === undefined || backward.has(x) || readOtherwise.has(x)) continue;
    const symbolic = shapes.get(x)?.symbolic;
    const substitute = symbolic === undefined ? undefined : kept.get(symbolic);
    if (substitute !== undefined) node.inputs[0] = substitute;
  }
}
