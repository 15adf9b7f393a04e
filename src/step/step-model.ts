/**
 * The step model: a whole training step as one standard-ONNX inference graph, for the ONNX Runtime
 * builds people run today (1.20 and later have no training runtime: onnxruntime-node, Python
 * onnxruntime and onnxruntime-gpu, WebGPU). It is the training model without its in-place
 * accumulators (forward, loss, the gradient graph of `differentiate`), plus the learning-rate
 * schedule (`schedule.ts`) and the optimizer update (`update.ts`):
 *
 *   inputs   the batch (as the training model's), step (int64 [1], 1-based), total_steps (int64
 *            [1], only with a linear schedule), each trainable parameter, then each one's
 *            optimizer state (AdamW: `<p>.adamw.m`, then `<p>.adamw.v`; zeros at the start)
 *   outputs  the loss, learning_rate (float [1]), each `<p>.updated`, then each new state
 *            (`<p>.adamw.m.updated`, …)
 *
 * The frozen weights are initializers, stored once in the folder (the checkpoint, or base.data)
 * and referenced as external data, so a runtime loads them once per session. The step eval model
 * is the eval model with the same frozen initializers: the batch and the trainable parameters in,
 * the loss and the head's output out.
 */
import type { Plan } from '../check/plan.js';
import { cloneModel, DataType, GraphBuilder, makeValueInfo, sortGraph, type Model, type Tensor, type ValueInfo } from '../ir/index.js';
import { withoutAccumulators, type TrainingGraphs } from '../emit/training-graphs.js';
import { learningRateNodes, LEARNING_RATE_OUTPUT, STEP_INPUT, TOTAL_STEPS_INPUT } from './schedule.js';
import { updateRule } from './update.js';

export const STEP_ARTIFACTS = { step: 'step_model.onnx', eval: 'step_eval_model.onnx' } as const;

/** A trainable parameter's inputs and outputs in the step model. */
export interface SteppedParameter {
  readonly name: string;
  readonly dims: readonly number[];
  /** Optimizer state inputs (zeros at the start), in the optimizer's order. */
  readonly state: readonly string[];
  readonly updated: string;
  readonly stateUpdated: readonly string[];
  /** Whether weight decay applies to it (`no_decay` exempts it). */
  readonly decay: boolean;
}

/** What a runtime needs to drive the step model; summary.json records it as `step`. */
export interface StepInterface {
  readonly files: typeof STEP_ARTIFACTS;
  readonly optimizer: Plan['optimizer']['kind'];
  /** The batch's inputs, labels last: as the training model's. */
  readonly batch: readonly string[];
  readonly step: string;
  /** Fed with a linear schedule: the run's number of steps. */
  readonly totalSteps?: string;
  readonly parameters: readonly SteppedParameter[];
  readonly loss: string;
  readonly learningRate: string;
  /** The step eval model's outputs: the loss, then the head's output. */
  readonly evalOutputs: readonly string[];
}

export interface StepModels {
  readonly step: Model;
  readonly eval: Model;
  readonly interface: StepInterface;
}

/** Frozen parameters that are graph inputs become initializers again (their values stay shared Tensors). */
function freeze(model: Model, frozen: readonly Tensor[]): void {
  const names = new Set(frozen.map((t) => t.name!));
  model.graph.inputs = model.graph.inputs.filter((i) => !names.has(i.name));
  model.graph.initializers = [...model.graph.initializers, ...frozen];
}

/** Drops the com.microsoft import when no node needs it any more (the accumulators did). */
function dropUnusedDomains(model: Model): void {
  const used = new Set(model.graph.nodes.map((n) => n.domain ?? ''));
  model.opsetImports = model.opsetImports.filter((o) => (o.domain ?? '') === '' || o.domain === 'ai.onnx' || used.has(o.domain ?? ''));
}

/**
 * Builds the step and step eval models from the training graphs (which are not changed).
 * `noDecay` names the trainable parameters the spec exempts from weight decay.
 */
export function buildStepModels(graphs: TrainingGraphs, plan: Plan, noDecay: ReadonlySet<string>): StepModels {
  const { model, gradients } = withoutAccumulators(graphs.training);
  freeze(model, graphs.frozen);
  dropUnusedDomains(model);
  const graph = model.graph;
  const b = new GraphBuilder(model, 'step.constant');
  const taken = (name: string) => graph.inputs.some((i) => i.name === name) || graph.nodes.some((n) => n.outputs.includes(name));
  for (const name of [STEP_INPUT, TOTAL_STEPS_INPUT, LEARNING_RATE_OUTPUT]) {
    if (taken(name)) throw new Error(`the model already has a value named '${name}', which the step model uses for its own input or output`);
  }
  const { learningRate, step, usesTotalSteps } = learningRateNodes(b, plan);
  const rule = updateRule(plan.optimizer);
  const sharedValues = new Map<string, string>();
  const shared = (key: string, make: () => string) => sharedValues.get(key) ?? sharedValues.set(key, make()).get(key)!;
  const dims = new Map(graphs.trainable.map((t) => [t.name!, t.dims]));

  const parameters: SteppedParameter[] = gradients.map(({ parameter, gradient }) => {
    const state = rule.state.map((suffix) => `${parameter}.${suffix}`);
    const decay = !noDecay.has(parameter);
    const [updated, ...stateUpdated] = rule.update(b, shared, { learningRate, step }, { name: parameter, gradient, state, decay });
    const wanted = [`${parameter}.updated`, ...state.map((s) => `${s}.updated`)];
    [updated!, ...stateUpdated].forEach((got, i) => {
      if (got !== wanted[i]) throw new Error(`the step model's output '${wanted[i]}' is already a value of the model`);
    });
    return { name: parameter, dims: dims.get(parameter)!, state, updated: updated!, stateUpdated, decay };
  });

  const floats = (name: string, d: readonly number[]): ValueInfo => makeValueInfo(name, DataType.FLOAT, d);
  const parameterNames = new Set(parameters.map((p) => p.name));
  const batch = graph.inputs.filter((i) => !parameterNames.has(i.name));
  graph.inputs = [
    ...batch,
    makeValueInfo(STEP_INPUT, DataType.INT64, [1]),
    ...(usesTotalSteps ? [makeValueInfo(TOTAL_STEPS_INPUT, DataType.INT64, [1])] : []),
    ...graph.inputs.filter((i) => parameterNames.has(i.name)),
    ...rule.state.flatMap((_, k) => parameters.map((p) => floats(p.state[k]!, p.dims))),
  ];
  graph.outputs = [
    graph.outputs[0]!,
    floats(LEARNING_RATE_OUTPUT, [1]),
    ...parameters.map((p) => floats(p.updated, p.dims)),
    ...rule.state.flatMap((_, k) => parameters.map((p) => floats(p.stateUpdated[k]!, p.dims))),
  ];
  graph.name = `${graph.name ?? 'model'} (adapterc step)`;
  sortGraph(graph);

  // The eval graph's own nodes, unchanged: only inputs and initializers differ (freeze).
  const evalModel = cloneModel(graphs.eval, { nodes: 'shared' });
  freeze(evalModel, graphs.frozen);
  dropUnusedDomains(evalModel);

  return {
    step: model,
    eval: evalModel,
    interface: {
      files: STEP_ARTIFACTS,
      optimizer: plan.optimizer.kind,
      batch: graphs.inputs,
      step: STEP_INPUT,
      ...(usesTotalSteps ? { totalSteps: TOTAL_STEPS_INPUT } : {}),
      parameters,
      loss: graphs.loss,
      learningRate: LEARNING_RATE_OUTPUT,
      evalOutputs: graphs.outputs,
    },
  };
}
