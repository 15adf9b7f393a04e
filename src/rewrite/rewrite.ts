/**
 * rewrite: the stage after discover. Binds the plan to the model (layer indexes, reductions and
 * sites checked against it), inserts an adapter at every planned site, adds the head, marks what
 * else trains, and prunes what no output needs. The model is changed in place.
 */
import { bindPlan, type AdapterInstance, type BoundPlan } from '../check/bind.js';
import { isBlockSite, type Plan, type Site } from '../check/plan.js';
import type { AdapterSite, Discovery, Projection } from '../discover/index.js';
import { AdapterError, diagnostic, hasErrors } from '../diagnostics/index.js';
import { sortGraph, type Model, type Node, type Tensor } from '../ir/index.js';
import { GraphBuilder } from '../ir/index.js';
import { pruneUnused } from './prune.js';
import { addClassifier, checkAddClassifier, type AddedClassifier } from './rules/add-classifier.js';
import { addMaskedLm, checkAddMaskedLm } from './rules/add-masked-lm.js';
import { insertAdapter, type InsertedAdapter } from './rules/insert-adapter.js';
import { unfoldSkipBias } from './rules/unfold-skip-bias.js';
import { insertLora } from './rules/insert-lora.js';
import { scaleIa3 } from './rules/scale-ia3.js';
import { updatePacked, type PackedUpdate } from './rules/update-packed.js';
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
    ...(discovery.ffn !== undefined ? { ffn: discovery.ffn } : {}),
    hasSite: (layer, site) => siteIn(discovery, layer, site) !== undefined,
    projection: (layer, site) => {
      const found = siteIn(discovery, layer, site);
      if (found === undefined || !('inFeatures' in found)) return undefined;
      return { inFeatures: found.inFeatures, outFeatures: found.outFeatures };
    },
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

/**
 * The discovered place of `site` in `layer`: a bottleneck site, a projection, or the FFN's
 * intermediate activation (then with its width as in and out features).
 */
function siteIn(discovery: Discovery, layer: number, site: Site): AdapterSite | Projection | { inFeatures: number; outFeatures: number; value: string } | undefined {
  if (isBlockSite(site)) return discovery.layers[layer]?.[site];
  const projections = discovery.projections[layer];
  if (site === 'intermediate') {
    const found = projections?.intermediate;
    return found && { inFeatures: found.width, outFeatures: found.width, value: found.value };
  }
  return projections?.[site];
}

/**
 * Every instance by its family's rule, in the order the layer computes the sites: bottleneck
 * adapters (insert-adapter), LoRA (insert-lora), (IA)³ (scale-ia3), and, for the slices of a fused
 * Attention's packed weight, one weight-space update per Attention (update-packed).
 */
function insertAll(emit: GraphBuilder, discovery: Discovery, instances: readonly AdapterInstance[], seed: number, initial: ReadonlyMap<string, Tensor>): InsertedAdapter[] {
  const inserted: InsertedAdapter[] = [];
  const packed = new Map<Node, PackedUpdate[]>();
  for (const instance of instances) {
    const { layer, site } = instance;
    if (isBlockSite(site)) {
      const found = unfoldSkipBias(emit, discovery.layers[layer]![site]!);
      inserted.push(insertAdapter(emit, found, instance, discovery.hidden, seed, initial));
      continue;
    }
    const projection = site === 'intermediate' ? undefined : discovery.projections[layer]![site]!;
    if (projection?.packed) {
      packed.set(projection.node, [...(packed.get(projection.node) ?? []), { projection, instance }]);
      continue;
    }
    if (instance.adapter.form.kind === 'lora') inserted.push(insertLora(emit, projection!, instance, seed, initial));
    else inserted.push(scaleIa3(emit, projection?.output ?? discovery.projections[layer]!.intermediate!.value, instance, seed, initial));
  }
  for (const [node, updates] of packed) inserted.push(...updatePacked(emit, node, updates, seed, initial));
  // In the plan's order (layer, then the order the layer computes its sites), packed ones included.
  const order = new Map(instances.map((i, k) => [`${i.layer}/${i.site}`, k]));
  return inserted.sort((a, b) => order.get(`${a.layer}/${a.site}`)! - order.get(`${b.layer}/${b.site}`)!);
}

/** `initial`: parameter values to start from instead of drawing them (see `adapterHubValues`). */
export function adaptModel(model: Model, discovery: Discovery, bound: BoundPlan, initial: ReadonlyMap<string, Tensor> = new Map()): Adaptation {
  const emit = new GraphBuilder(model);
  const { plan } = bound;
  const adapters = insertAll(emit, discovery, bound.instances, plan.seed, initial);
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
