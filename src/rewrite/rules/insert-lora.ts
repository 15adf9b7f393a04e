/**
 * Rule: LoRA (Hu et al. 2021) on one projection.
 *
 *   pattern   y = x·W (+ b)                     a projection discovery found (projections.ts)
 *   check     y is computed in the graph (not a slice of a fused Attention's packed weight)
 *   rewrite   y = base + (alpha / r) · ((x·A)·B)   where base is the old y (in-place.ts)
 *
 * A [in, r] and B [r, out] are new parameters named `adapters.layer.L.SITE.lora_A` / `.lora_B`. With
 * the default init (`mam`: A Kaiming-uniform as PEFT draws it, B zero) the model starts unchanged.
 * Slices of a packed QKV weight are updated in weight space instead (update-packed.ts).
 */
import type { AdapterInstance } from '../../check/bind.js';
import type { Projection } from '../../discover/index.js';
import { addInitializer, type GraphBuilder, type Tensor } from '../../ir/index.js';
import { drawWeight } from '../init.js';
import { adapterPrefix, type InsertedAdapter } from './insert-adapter.js';
import { takeOver } from './in-place.js';

export function checkInsertLora(projection: Projection): string | undefined {
  if (projection.packed) return 'the projection is a slice of a packed QKV weight (use the packed update)';
  if (projection.output === '') return 'the projection has no output value';
  return undefined;
}

/** A and B as initializers: the given values, else drawn by the adapter's init. */
export function loraParameters(emit: GraphBuilder, instance: AdapterInstance, seed: number, initial: ReadonlyMap<string, Tensor>): { a: string; b: string; scaling: number } {
  const { adapter, layer, site, inFeatures, outFeatures, units } = instance;
  if (adapter.form.kind !== 'lora') throw new Error(`${adapter.name} is not a LoRA adapter`);
  const prefix = adapterPrefix(layer, site);
  const a = `${prefix}.lora_A`;
  const b = `${prefix}.lora_B`;
  addInitializer(emit.graph, initial.get(a) ?? drawWeight(adapter.init, seed, a, [inFeatures, units], 'down'));
  addInitializer(emit.graph, initial.get(b) ?? drawWeight(adapter.init, seed, b, [units, outFeatures], 'up'));
  return { a, b, scaling: adapter.form.alpha / adapter.form.rank };
}

export function insertLora(emit: GraphBuilder, projection: Projection, instance: AdapterInstance, seed: number, initial: ReadonlyMap<string, Tensor> = new Map()): InsertedAdapter {
  const reason = checkInsertLora(projection);
  if (reason !== undefined) throw new Error(`insertLora at layer ${projection.layer} ${projection.site}: ${reason}`);
  const prefix = adapterPrefix(instance.layer, instance.site);
  const { a, b, scaling } = loraParameters(emit, instance, seed, initial);
  const down = emit.node('MatMul', [projection.input, a], `${prefix}.lora.down`);
  const up = emit.node('MatMul', [down, b], `${prefix}.lora.up`);
  const delta = scaling === 1 ? up : emit.node('Mul', [up, emit.scalar(scaling)], `${prefix}.lora.scaled`);
  const base = takeOver(emit, projection.output, `${prefix}.base`);
  emit.nodeWithOutput('Add', [base, delta], projection.output, [], `${prefix}.output`);
  return { layer: instance.layer, site: instance.site, adapter: instance.adapter.name, units: instance.units, parameters: [a, b], parameterCount: instance.parameters, output: projection.output };
}
