/**
 * Rule: (IA)³ (Liu et al. 2022) at one site: a learned vector rescales the key or value projection's
 * output (after its bias, as PEFT's IA3 does) or the FFN's intermediate activation (the FFN out
 * projection's input, PEFT's "feedforward" case).
 *
 *   pattern   v = <key / value projection + bias, or the FFN activation>
 *   check     v is computed in the graph (not a slice of a fused Attention's packed weight)
 *   rewrite   v = base · l        l: `adapters.layer.L.SITE.ia3`, starting at ones (the model unchanged)
 */
import type { AdapterInstance } from '../../check/bind.js';
import { addInitializer, makeTensor, readFloat32, type GraphBuilder, type Tensor } from '../../ir/index.js';
import { constantTensor, normalTensor } from '../init.js';
import { adapterPrefix, type InsertedAdapter } from './insert-adapter.js';
import { takeOver } from './in-place.js';

/**
 * The vector as an initializer: the given value, else ones, or with `init normal(std S)` ones plus
 * N(0, S²) from the seed (a model that starts changed, for ablations and tests).
 */
export function ia3Parameter(emit: GraphBuilder, instance: AdapterInstance, seed: number, initial: ReadonlyMap<string, Tensor>): string {
  const name = `${adapterPrefix(instance.layer, instance.site)}.ia3`;
  addInitializer(emit.graph, initial.get(name) ?? drawVector(instance, seed, name));
  return name;
}

function drawVector(instance: AdapterInstance, seed: number, name: string): Tensor {
  const init = instance.adapter.init;
  if (init.kind !== 'normal') return constantTensor(name, [instance.units], 1);
  const noise = normalTensor(seed, name, [instance.units], init.std, init.truncate);
  const values = readFloat32(noise).map((v) => 1 + v);
  return makeTensor(name, [instance.units], values);
}

export function checkScaleIa3(value: string): string | undefined {
  return value === '' ? 'the site is a slice of a packed QKV weight (use the packed update)' : undefined;
}

/** `value`: the site's values, whose last axis has `instance.units` entries. */
export function scaleIa3(emit: GraphBuilder, value: string, instance: AdapterInstance, seed: number, initial: ReadonlyMap<string, Tensor> = new Map()): InsertedAdapter {
  const reason = checkScaleIa3(value);
  if (reason !== undefined) throw new Error(`scaleIa3 at layer ${instance.layer} ${instance.site}: ${reason}`);
  const prefix = adapterPrefix(instance.layer, instance.site);
  const vector = ia3Parameter(emit, instance, seed, initial);
  const base = takeOver(emit, value, `${prefix}.base`);
  emit.nodeWithOutput('Mul', [base, vector], value, [], `${prefix}.output`);
  return { layer: instance.layer, site: instance.site, adapter: instance.adapter.name, units: instance.units, parameters: [vector], parameterCount: instance.parameters, output: value };
}
