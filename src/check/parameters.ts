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

export function totalAdapterParameters(bound: BoundPlan): number {
  return bound.instances.reduce((sum, i) => sum + adapterParameterCount(i.adapter, i.units, bound.shape.hidden), 0);
}

/** The per-adapter formula in d, e.g. `2·d·64 + d + 64`, or with m = d/12 for a reduction. */
export function adapterParameterFormula(adapter: Pick<AdapterDefinition, 'hiddenLayers' | 'layerNorm'>, size: BottleneckSize): string {
  const m = size.kind === 'absolute' ? `${size.units}` : `(d/${size.factor})`;
  const terms = [`2·d·${m}`, 'd', m];
  if (adapter.hiddenLayers > 1) terms.push(`${adapter.hiddenLayers - 1}·(${m}² + ${m})`);
  if (adapter.layerNorm) terms.push('2·d');
  return terms.join(' + ');
}
