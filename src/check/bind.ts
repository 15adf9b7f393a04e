/**
 * The checks that need the model: a spec is written once and compiled against models of any depth
 * and width, so layer indexes, reductions and sites are resolved here, once the model's shape is
 * known. Diagnostics still point at the spec line responsible.
 */
import { diagnostic, hasErrors, type Diagnostic } from '../diagnostics/index.js';
import { resolveLayers } from './layers.js';
import { describeBytes, encoderParameters, MAX_PARAMETER_FACTOR, MIN_PARAMETER_LIMIT, parameterLimit } from './limits.js';
import { instanceParameterCount } from './parameters.js';
import type { AdapterDefinition, Placement, Plan, Site } from './plan.js';

export interface ModelShape {
  readonly layers: number;
  readonly hidden: number;
  /** Whether the model has `site` in `layer`; every site exists when omitted. */
  readonly hasSite?: (layer: number, site: Site) => boolean;
  /**
   * A projection's [in, out] sizes (for the intermediate activation, [width, width]); when omitted,
   * BERT's: hidden × hidden in attention, and an FFN of `ffn` (default 4 × hidden) units.
   */
  readonly projection?: (layer: number, site: Site) => { readonly inFeatures: number; readonly outFeatures: number } | undefined;
  readonly ffn?: number;
}

/** One adapter to insert: this definition, at this site of this layer, with this bottleneck width. */
export interface AdapterInstance {
  readonly layer: number;
  readonly site: Site;
  readonly adapter: AdapterDefinition;
  /** Bottleneck width m (a reduction resolved against the hidden size); LoRA's rank; (IA)³'s vector length. */
  readonly units: number;
  /** The site's input and output widths: hidden and hidden at a block site, the projection's sizes otherwise. */
  readonly inFeatures: number;
  readonly outFeatures: number;
  /** Parameters this adapter adds. */
  readonly parameters: number;
  readonly placement: Placement;
}

export interface BoundPlan {
  readonly plan: Plan;
  readonly shape: ModelShape;
  /** In layer order, attention before ffn within a layer. */
  readonly instances: readonly AdapterInstance[];
  /** Layers whose LayerNorms train (empty when LayerNorms are frozen). */
  readonly layerNormLayers: readonly number[];
}

export interface BindResult {
  readonly bound: BoundPlan | undefined;
  readonly diagnostics: readonly Diagnostic[];
}

export function bindPlan(plan: Plan, shape: ModelShape): BindResult {
  const diagnostics: Diagnostic[] = [];
  const bySite = new Map<string, AdapterInstance>();
  for (const placement of plan.placements) {
    const resolved = resolveLayers(placement.layers, shape.layers);
    diagnostics.push(...resolved.diagnostics);
    const bottleneck = bottleneckUnits(placement.adapter, shape.hidden, placement, diagnostics);
    if (bottleneck === undefined) continue;
    for (const layer of resolved.layers) {
      if (shape.hasSite && !shape.hasSite(layer, placement.site)) {
        diagnostics.push(diagnostic('ADP2205', { site: placement.site, layer }, { span: placement.span }, 'leave this layer out of the placement'));
        continue;
      }
      const key = `${layer}/${placement.site}`;
      if (bySite.has(key)) {
        diagnostics.push(diagnostic('ADP2204', { site: placement.site, layer }, { span: placement.span }, `line ${bySite.get(key)!.placement.span.start.line} already places one there`));
        continue;
      }
      const { inFeatures, outFeatures } = siteWidths(shape, layer, placement.site);
      const units = placement.adapter.form.kind === 'ia3' ? outFeatures : bottleneck;
      const parameters = instanceParameterCount(placement.adapter, units, inFeatures, outFeatures);
      bySite.set(key, { layer, site: placement.site, adapter: placement.adapter, units, inFeatures, outFeatures, parameters, placement });
    }
  }
  const layerNorm = plan.trainable.layerNorm ? resolveLayers(plan.trainable.layerNorm, shape.layers) : undefined;
  if (layerNorm) diagnostics.push(...layerNorm.diagnostics);
  if (hasErrors(diagnostics)) return { bound: undefined, diagnostics: unique(diagnostics) };
  const siteOrder = (s: Site) => computeOrder.indexOf(s);
  const instances = [...bySite.values()].sort((a, b) => a.layer - b.layer || siteOrder(a.site) - siteOrder(b.site));
  diagnostics.push(...sizeDiagnostics(plan, shape, instances));
  if (hasErrors(diagnostics)) return { bound: undefined, diagnostics: unique(diagnostics) };
  return { bound: { plan, shape, instances, layerNormLayers: layerNorm?.layers ?? [] }, diagnostics };
}

/**
 * Drops repeats: `place b after attention, ffn in layers 6..11` is two placements sharing one
 * layer list and one span, and each would report the same problem at the same place.
 */
function unique(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return diagnostics.filter((d) => {
    const key = `${d.code}\u0000${d.span?.file}:${d.span?.start.offset}\u0000${d.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * The model-relative bounds (limits.ts), before any weight is allocated: ADP2209 when the adapters
 * and a classifier head would add more parameters than the limit for this model, and ADP2210, a
 * warning, for each adapter whose bottleneck is not narrower than the hidden size.
 */
function sizeDiagnostics(plan: Plan, shape: ModelShape, instances: readonly AdapterInstance[]): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  const warned = new Set<string>();
  let count = 0;
  for (const i of instances) {
    count += i.parameters;
    const key = `${i.adapter.name}/${i.units}`;
    if (i.units >= shape.hidden && i.adapter.form.kind !== 'ia3' && !warned.has(key)) {
      warned.add(key);
      const factor = Number((shape.hidden / i.units).toPrecision(3)).toString();
      diagnostics.push(diagnostic('ADP2210', { name: i.adapter.name, units: i.units, hidden: shape.hidden, factor }, { span: i.placement.span }, `a bottleneck narrower than ${shape.hidden} (e.g. size ${Math.max(1, Math.floor(shape.hidden / 16))}, a reduction of 16) is what keeps adapters small`));
    }
  }
  if (plan.head.kind === 'classifier') count += shape.hidden * plan.head.labels + plan.head.labels;
  const limit = parameterLimit(shape.layers, shape.hidden);
  if (count > limit) {
    // Weights, their gradients and AdamW's two moments: four float32 values per parameter.
    const memory = `${describeBytes(count * 4)} of float32 weights, about ${describeBytes(count * 16)} with gradients and AdamW state`;
    const at = instances[0]?.placement.span;
    diagnostics.push(
      diagnostic('ADP2209', { count, memory, limit, layers: shape.layers, hidden: shape.hidden }, at ? { span: at } : { file: plan.file }, `the limit is ${MAX_PARAMETER_FACTOR} times the ${encoderParameters(shape.layers, shape.hidden)} parameters of the encoder's layers (at least ${MIN_PARAMETER_LIMIT}); use a smaller 'size', fewer layers, or fewer labels`),
    );
  }
  return diagnostics;
}

/** Sites in the order a layer computes them: instances are inserted in this order. */
const computeOrder: readonly Site[] = ['query', 'key', 'value', 'attention_output', 'attention', 'ffn_in', 'intermediate', 'ffn_out', 'ffn'];

function siteWidths(shape: ModelShape, layer: number, site: Site): { inFeatures: number; outFeatures: number } {
  const found = shape.projection?.(layer, site);
  if (found) return found;
  const d = shape.hidden;
  const ffn = shape.ffn ?? 4 * d;
  if (site === 'ffn_in') return { inFeatures: d, outFeatures: ffn };
  if (site === 'ffn_out') return { inFeatures: ffn, outFeatures: d };
  if (site === 'intermediate') return { inFeatures: ffn, outFeatures: ffn };
  return { inFeatures: d, outFeatures: d };
}

function bottleneckUnits(adapter: AdapterDefinition, hidden: number, placement: Placement, diagnostics: Diagnostic[]): number | undefined {
  if (adapter.size.kind === 'absolute') return adapter.size.units;
  const { factor } = adapter.size;
  if (hidden % factor !== 0) {
    diagnostics.push(diagnostic('ADP2202', { reduction: factor, hidden }, { span: placement.span }, `choose a factor that divides ${hidden}, or an absolute 'size'`));
    return undefined;
  }
  return hidden / factor;
}
