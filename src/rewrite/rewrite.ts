/**
 * rewrite: the stage after discover. Binds the plan to the model (layer indexes, reductions and
 * sites checked against it), inserts an adapter at every planned site, adds the head, marks what
 * else trains, and prunes what no output needs. The model is changed in place.
 */
import { bindPlan, type AdapterInstance, type BoundPlan } from '../check/bind.js';
import type { Plan } from '../check/plan.js';
import type { Discovery } from '../discover/index.js';
import { AdapterError, diagnostic, hasErrors } from '../diagnostics/index.js';
import { sortGraph, type Model, type Tensor } from '../ir/index.js';
import { GraphBuilder } from '../ir/index.js';
import { pruneUnused } from './prune.js';
import { addClassifier, checkAddClassifier, type AddedClassifier } from './rules/add-classifier.js';
import { addMaskedLm, checkAddMaskedLm } from './rules/add-masked-lm.js';
import { insertAdapter, type InsertedAdapter } from './rules/insert-adapter.js';
import { unfoldSkipBias } from './rules/unfold-skip-bias.js';
import type { Untied } from './rules/untie.js';
import { markTrainable, type TrainableExtra } from './trainable.js';

export interface Adaptation {
  readonly bound: BoundPlan;
  readonly adapters: readonly InsertedAdapter[];
  /** The head added by `head classifier(…)` or `head masked_lm` (then `kind` says so), if any. */
  readonly classifier: AddedClassifier | undefined;
  readonly extras: readonly TrainableExtra[];
  readonly untied: readonly Untied[];
  /** Every trainable parameter (initializer) name: adapters, classifier, extras. */
  readonly trainable: readonly string[];
  /** Parameters of the model as it was loaded (what the share is measured against). */
  readonly baseParameters: number;
}

/** Binds `plan` to the discovered model; throws an AdapterError pointing into the spec if it does not fit. */
export function bindToModel(plan: Plan, discovery: Discovery, sources: ReadonlyMap<string, string>, modelFile: string, model?: Model): BoundPlan {
  const result = bindPlan(plan, {
    layers: discovery.layers.length,
    hidden: discovery.hidden,
    hasSite: (layer, site) => discovery.layers[layer]?.[site] !== undefined,
  });
  const diagnostics = [...result.diagnostics];
  if (plan.head.kind === 'classifier') {
    const reason = checkAddClassifier(discovery, plan.head.from);
    if (reason !== undefined) diagnostics.push(diagnostic('ADP2206', { file: modelFile, reason }, { file: modelFile }, "use 'head classifier(labels N, from first_token)'"));
  }
  if (plan.head.kind === 'masked_lm' && model !== undefined) {
    const reason = checkAddMaskedLm(model.graph, discovery);
    if (reason !== undefined) diagnostics.push(diagnostic('ADP2207', { file: modelFile, reason }, { file: modelFile }, 'a masked_lm head needs the token ids and the word embedding table of a BERT encoder'));
  }
  if (hasErrors(diagnostics) || !result.bound) throw new AdapterError(diagnostics, sources);
  return result.bound;
}

/** `initial`: parameter values to start from instead of drawing them (see `adapterHubValues`). */
export function adaptModel(model: Model, discovery: Discovery, bound: BoundPlan, initial: ReadonlyMap<string, Tensor> = new Map()): Adaptation {
  const emit = new GraphBuilder(model);
  const { plan } = bound;
  const adapters = bound.instances.map((instance: AdapterInstance) => {
    const found = discovery.layers[instance.layer]![instance.site]!;
    const site = unfoldSkipBias(emit, found);
    return insertAdapter(emit, site, instance, discovery.hidden, plan.seed, initial);
  });
  const classifier =
    plan.head.kind === 'classifier' ? addClassifier(emit, discovery, plan.head.labels, plan.head.from, plan.seed, initial) : plan.head.kind === 'masked_lm' ? addMaskedLm(emit, discovery, plan.seed) : undefined;
  // The new head replaces the model's outputs: what only fed the old ones goes first, so that
  // `trainable all` does not pick up a head that is no longer there.
  if (classifier) pruneUnused(model.graph);
  const { extras, untied } = markTrainable(model.graph, discovery, bound, classifier !== undefined);
  // Untying reads the shared tensors directly, which leaves their Identity nodes unused.
  if (untied.length > 0) pruneUnused(model.graph);
  sortGraph(model.graph);
  const trainable = [...new Set([...adapters.flatMap((a) => a.parameters), ...(classifier?.parameters ?? []), ...extras.flatMap((e) => e.parameters)])];
  return { bound, adapters, classifier, extras, untied, trainable, baseParameters: discovery.parameterCount };
}
