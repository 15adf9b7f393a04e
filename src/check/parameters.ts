/**
 * Parameter counts of adapters, as numbers for a bound plan and as a formula in the hidden size d
 * for `adapterc check`. An adapter of width m on hidden size d has: down-projection d·m + m,
 * (hidden_layers - 1) inner layers of m·m + m, up-projection m·d + d, and 2·d for its LayerNorm.
 */
import type { BoundPlan } from './bind.js';
import type { AdapterDefinition, BottleneckSize } from './plan.js';

export function adapterParameterCount(adapter: Pick<AdapterDefinition, 'hiddenLayers' | 'layerNorm'>, units: number, hidden: number): number {
  const m = units;
  const d = hidden;
  return d * m + m + (adapter.hiddenLayers - 1) * (m * m + m) + m * d + d + (adapter.layerNorm ? 2 * d : 0);
}

/**
 * Any family: a bottleneck adapter's count (the site's width is the hidden size), LoRA's
 * rank · (in + out) for A and B, (IA)³'s one vector of the site's width (`units`).
 */
export function instanceParameterCount(adapter: Pick<AdapterDefinition, 'hiddenLayers' | 'layerNorm' | 'form'>, units: number, inFeatures: number, outFeatures: number): number {
  if (adapter.form.kind === 'lora') return units * (inFeatures + outFeatures);
  if (adapter.form.kind === 'ia3') return units;
  return adapterParameterCount(adapter, units, outFeatures);
}

export function totalAdapterParameters(bound: BoundPlan): number {
  return bound.instances.reduce((sum, i) => sum + i.parameters, 0);
}

/** The per-adapter formula in d, e.g. `2·d·64 + d + 64`, or with m = d/12 for a reduction. */
export function adapterParameterFormula(adapter: Pick<AdapterDefinition, 'hiddenLayers' | 'layerNorm' | 'form'>, size: BottleneckSize): string {
  if (adapter.form.kind === 'lora') return `${adapter.form.rank}·(in + out)`;
  if (adapter.form.kind === 'ia3') return "the site's width";
  const m = size.kind === 'absolute' ? `${size.units}` : `(d/${size.factor})`;
  const terms = [`2·d·${m}`, 'd', m];
  if (adapter.hiddenLayers > 1) terms.push(`${adapter.hiddenLayers - 1}·(${m}² + ${m})`);
  if (adapter.layerNorm) terms.push('2·d');
  return terms.join(' + ');
}
