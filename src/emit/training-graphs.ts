/**
 * The training and eval models, as ONNX Runtime's training runtime expects them
 * (../shared/docs/ort-training-contract.md): the forward graph plus the loss; every parameter a
 * graph input whose value lives in the checkpoint; in the training model, the backward pass with
 * one `InPlaceAccumulatorV2` per trainable parameter writing into its gradient buffer, and the
 * `lazy_reset_grad` flag. Both models take the same parameter inputs in the same order and give
 * the same outputs (loss first).
 */
import type { Plan } from '../check/plan.js';
import { appendLoss } from '../differentiate/loss.js';
import { differentiate } from '../differentiate/backward.js';
import { unfuse } from '../differentiate/unfuse.js';
import type { Discovery } from '../discover/index.js';
import { AdapterError, diagnostic } from '../diagnostics/index.js';
import { cloneModel, DataType, dataTypeName, elementCount, makeValueInfo, requireOpset, shapeOf, sortGraph, type Model, type Tensor } from '../ir/index.js';
import type { Adaptation } from '../rewrite/rewrite.js';
import { inferShapeTable } from '../shapes/index.js';
import { stage } from '../util/stages.js';

export const GRADIENT_BUFFER_SUFFIX = '_grad.accumulation.buffer';
export const GRADIENT_OUT_SUFFIX = '_grad.accumulation.out';
export const RESET_FLAG = 'lazy_reset_grad';

export interface TrainingGraphs {
  readonly training: Model;
  readonly eval: Model;
  /** Checkpoint contents: trainable parameters in graph-input order, then the frozen ones. */
  readonly trainable: readonly Tensor[];
  readonly frozen: readonly Tensor[];
  /** User inputs of the training model (model inputs, then `labels`). */
  readonly inputs: readonly string[];
  /** Outputs shared by both models: the loss, then the head's output. */
  readonly outputs: readonly string[];
  readonly loss: string;
  readonly labels: string;
}

/** The head's output: the new classifier's, the one the spec names, or the model's logits. */
function headOutput(model: Model, plan: Plan, discovery: Discovery, adaptation: Adaptation): string {
  if (adaptation.classifier) return adaptation.classifier.output;
  const named = plan.head.kind === 'output' ? plan.head.output : undefined;
  if (named !== undefined) {
    if (!model.graph.outputs.some((o) => o.name === named)) {
      throw new AdapterError([diagnostic('ADP3005', { output: named }, undefined, `the model's outputs are ${model.graph.outputs.map((o) => `'${o.name}'`).join(', ')}`)]);
    }
    return named;
  }
  return discovery.outputs.find((o) => o.role === 'logits')?.name ?? model.graph.outputs[0]!.name;
}

/**
 * Where the frozen weights live:
 * - 'default': in the checkpoint, like every parameter (what `generate_artifacts` writes); every
 *   parameter is a graph input of the training and eval models.
 * - 'shared-base': in one external data file (`base.data`) that the training and eval models
 *   reference as initializers; the checkpoint holds only the trainable parameters. The file holds
 *   every weight of the model as it was loaded, so each task compiled against the same model
 *   writes it byte for byte the same: one base, many small task folders.
 */
export type Layout = 'default' | 'shared-base';

/** A float32 tensor with at least two elements: a weight, not a constant like ε or a shape. */
export function isParameter(t: Tensor): boolean {
  return t.dataType === DataType.FLOAT && t.dims.length >= 1 && elementCount(t) >= 2;
}

/**
 * What goes into the checkpoint: the trainable parameters in the adaptation's order, then, in the
 * default layout, every other weight (`isParameter`) in the graph's order. Both are known once the
 * model is adapted, so compile can start writing the checkpoint while the gradients are built.
 */
export function checkpointParameters(model: Model, trainableNames: readonly string[], layout: Layout): { trainable: Tensor[]; frozen: Tensor[] } {
  const initializers = model.graph.initializers;
  const byName = new Map(initializers.map((t) => [t.name ?? '', t]));
  const trainable = trainableNames.map((name) => {
    const t = byName.get(name);
    // Any size trains, down to a one-label classifier's single bias.
    if (!t) {
      throw new AdapterError([diagnostic('ADP2208', { name, reason: 'the model stores no weight of that name (the value is computed or fed, not stored)' }, undefined, 'check the model file, or leave this parameter frozen in the spec')]);
    }
    if (t.dataType !== DataType.FLOAT) {
      throw new AdapterError([diagnostic('ADP2208', { name, reason: `it holds ${dataTypeName(t.dataType)} values, and adapterc trains float32 parameters only` }, undefined, 'export the model in float32, or leave this parameter frozen in the spec')]);
    }
    return t;
  });
  const names = new Set(trainableNames);
  const frozen = layout === 'default' ? initializers.filter((t) => isParameter(t) && !names.has(t.name ?? '')) : [];
  return { trainable, frozen };
}

/** Builds both models from the adapted model (which is consumed). `file` names the model in messages. */
export function buildTrainingGraphs(model: Model, plan: Plan, discovery: Discovery, adaptation: Adaptation, file: string, layout: Layout = 'default'): TrainingGraphs {
  const graph = model.graph;
  const head = headOutput(model, plan, discovery, adaptation);
  graph.outputs = graph.outputs.filter((o) => o.name === head);

  // Fused ONNX Runtime ops become standard ones, so that every op on a gradient path has a rule.
  const inferred = stage('infer shapes (model)', () => inferShapeTable(model, file));
  const before = inferred.table;
  const unfused = stage('unfuse', () => unfuse(model, before));
  if (unfused > 0) sortGraph(graph);
  const headDims = before.get(head)?.dims ?? [];
  const classes = headDims[1] ?? 1;
  if (plan.loss === 'cross_entropy' && classes < 2) {
    throw new AdapterError([diagnostic('ADP3006', { output: head, classes }, undefined, "use 'loss mse' for a single output")]);
  }
  // The labels' first dim follows the head's: its symbolic name when the graph declares one.
  const declared = shapeOf(graph.outputs.find((o) => o.name === head) ?? { name: head })?.[0];
  const { loss, labels } = appendLoss(model, plan.loss, head, headDims, file, before.get(head)?.dynamic[0] === false, typeof declared === 'string' && declared !== '' ? declared : 'batch');
  // The loss (and any unfused ops) brought new values: infer again, only the new nodes unless ops were unfused.
  const shapes = stage('infer shapes (loss)', () => inferShapeTable(model, file, unfused === 0 ? inferred : undefined).table);

  // Parameters become graph inputs, trainable ones first; their values go to the checkpoint.
  const byName = new Map(graph.initializers.map((t) => [t.name ?? '', t]));
  const { trainable, frozen } = checkpointParameters(model, adaptation.trainable, layout);
  const parameters = [...trainable, ...frozen];
  const parameterNames = new Set(parameters.map((t) => t.name!));
  // Old exports list initializers among the graph inputs too; those entries are replaced below.
  const userInputs = graph.inputs.filter((i) => !byName.has(i.name));
  graph.initializers = graph.initializers.filter((t) => !parameterNames.has(t.name ?? ''));
  graph.inputs = [...userInputs, ...parameters.map((t) => makeValueInfo(t.name!, DataType.FLOAT, t.dims))];
  graph.outputs = [makeValueInfo(loss, DataType.FLOAT, []), ...graph.outputs.filter((o) => o.name === head)];
  const outputs = graph.outputs.map((o) => o.name);

  const evalModel = cloneModel(model);
  sortGraph(evalModel.graph);

  const gradients = stage('differentiate', () => differentiate(model, loss, adaptation.trainable, shapes));
  requireOpset(model, 'com.microsoft', 1);
  graph.inputs.push(...trainable.map((t) => makeValueInfo(`${t.name}${GRADIENT_BUFFER_SUFFIX}`, DataType.FLOAT, t.dims)));
  graph.inputs.push(makeValueInfo(RESET_FLAG, DataType.BOOL, [1]));
  for (const t of trainable) {
    const out = `${t.name}${GRADIENT_OUT_SUFFIX}`;
    graph.nodes.push({
      opType: 'InPlaceAccumulatorV2',
      domain: 'com.microsoft',
      name: `${t.name}.accumulate_gradient`,
      inputs: [`${t.name}${GRADIENT_BUFFER_SUFFIX}`, gradients.byParameter.get(t.name!)!, RESET_FLAG],
      outputs: [out],
      attributes: [],
    });
    graph.outputs.push(makeValueInfo(out, DataType.BOOL, [1]));
  }
  sortGraph(graph);
  return { training: model, eval: evalModel, trainable, frozen, inputs: [...userInputs.map((i) => i.name), labels].filter((v, i, all) => all.indexOf(v) === i), outputs, loss, labels };
}

/** A trainable parameter's gradient, as a value of the training graph. */
export interface ParameterGradient {
  readonly parameter: string;
  readonly gradient: string;
}

/**
 * The training model without its `InPlaceAccumulatorV2` nodes, gradient buffers and reset flag:
 * the same forward and backward graph with each parameter's gradient as an output after the loss.
 * It is standard ONNX, so any ONNX Runtime build runs it (the accumulators need a training build):
 * the training benchmark counts its arithmetic, and the GPU check runs it on CUDA.
 */
export function withoutAccumulators(training: Model): { model: Model; gradients: ParameterGradient[] } {
  const model = cloneModel(training);
  const accumulators = model.graph.nodes.filter((n) => n.opType === 'InPlaceAccumulatorV2');
  const gradients = accumulators.map((a) => ({ parameter: a.inputs[0]!.slice(0, -GRADIENT_BUFFER_SUFFIX.length), gradient: a.inputs[1]! }));
  model.graph.nodes = model.graph.nodes.filter((n) => n.opType !== 'InPlaceAccumulatorV2');
  model.graph.inputs = model.graph.inputs.filter((i) => !i.name.endsWith(GRADIENT_BUFFER_SUFFIX) && i.name !== RESET_FLAG);
  model.graph.outputs = [model.graph.outputs[0]!, ...gradients.map((g) => ({ name: g.gradient }))];
  return { model, gradients };
}
