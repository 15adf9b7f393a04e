/**
 * Rule: insert one bottleneck adapter at a discovered site.
 *
 *   pattern   h = <output projection + bias>;  s = Add(h, residual) / SkipLayerNormalization(h, residual, …)
 *   check     h is a float tensor that the residual node reads at the recorded input
 *   rewrite   h' = h + up(f(down(LN?(h))))   and the residual node reads h' instead of h
 *
 * down is MatMul + bias to m units, f the activation, optional extra m×m layers, up is MatMul +
 * bias back to the hidden size; biases start at zero, weights from the seeded initializer, and an
 * `identity` init makes the up-projection zero so the adapted model is exactly the original.
 */
import type { AdapterInstance } from '../../check/bind.js';
import type { Site } from '../../check/plan.js';
import type { AdapterSite } from '../../discover/index.js';
import { addInitializer } from '../../ir/index.js';
import type { GraphBuilder, Tensor } from '../../ir/index.js';
import { constantTensor, drawWeight } from '../init.js';

/** Names of the parameters one adapter adds, for the summary and the trainable set. */
export interface InsertedAdapter {
  readonly layer: number;
  readonly site: Site;
  readonly adapter: string;
  readonly units: number;
  readonly parameters: readonly string[];
  readonly parameterCount: number;
  /** The adapter's output, which now feeds the residual node. */
  readonly output: string;
}

export function adapterPrefix(layer: number, site: string): string {
  return `adapters.layer.${layer}.${site}`;
}

/** Why the rule does not apply to this site, or undefined when it does. */
export function checkInsertAdapter(site: AdapterSite): string | undefined {
  if (site.residualNode.inputs[site.inputIndex] !== site.value) return `the residual node no longer reads '${site.value}' at input ${site.inputIndex}`;
  if (site.foldedBias !== undefined) return 'the projection bias is still folded into SkipLayerNormalization (unfold it first)';
  return undefined;
}

/** `initial`: values to start from instead of drawing them (an AdapterHub folder's, for `init adapterhub`). */
export function insertAdapter(emit: GraphBuilder, site: AdapterSite, instance: AdapterInstance, hidden: number, seed: number, initial: ReadonlyMap<string, Tensor> = new Map()): InsertedAdapter {
  const reason = checkInsertAdapter(site);
  if (reason !== undefined) throw new Error(`insertAdapter at layer ${site.layer} ${site.site}: ${reason}`);
  const prefix = adapterPrefix(site.layer, site.site);
  const { adapter, units } = instance;
  const parameters: string[] = [];
  let count = 0;
  const drawn = (name: string, dims: number[]): Tensor => drawWeight(adapter.init, seed, name, dims, name.endsWith('.up.weight') ? 'up' : 'down');
  const weight = (name: string, dims: number[], zero = false) => {
    const tensor = initial.get(name) ?? (zero ? constantTensor(name, dims, 0) : drawn(name, dims));
    addInitializer(emit.graph, tensor);
    parameters.push(name);
    count += dims.reduce((a, b) => a * b, 1);
    return name;
  };
  const bias = (name: string, size: number) => {
    addInitializer(emit.graph, initial.get(name) ?? constantTensor(name, [size], 0));
    parameters.push(name);
    count += size;
    return name;
  };

  // A parallel adapter reads the sub-layer's input (the residual stream beside it); a sequential one, its output.
  const form = adapter.form;
  let x = form.kind === 'parallel' ? site.residual : site.value;
  if (adapter.layerNorm) {
    const scale = `${prefix}.layernorm.weight`;
    const shift = `${prefix}.layernorm.bias`;
    addInitializer(emit.graph, constantTensor(scale, [hidden], 1));
    addInitializer(emit.graph, constantTensor(shift, [hidden], 0));
    parameters.push(scale, shift);
    count += 2 * hidden;
    x = emit.layerNorm(x, scale, shift, 1e-12, `${prefix}.layernorm`);
  }
  const dense = (input: string, name: string, rows: number, cols: number) => {
    const product = emit.node('MatMul', [input, weight(`${name}.weight`, [rows, cols])], `${name}.matmul`);
    return emit.node('Add', [product, bias(`${name}.bias`, cols)], `${name}.output`);
  };
  let h = emit.activation(adapter.activation, dense(x, `${prefix}.down`, hidden, units), `${prefix}.down`);
  for (let i = 1; i < adapter.hiddenLayers; i++) {
    h = emit.activation(adapter.activation, dense(h, `${prefix}.hidden.${i}`, units, units), `${prefix}.hidden.${i}`);
  }
  const up = dense(h, `${prefix}.up`, units, hidden);
  // Sequential: the adapter's internal skip connection, h + up(f(down(h))). Parallel: the sub-layer's
  // output plus s · up(f(down(x))).
  const added = form.kind === 'parallel' && form.scaling !== 1 ? emit.node('Mul', [up, emit.scalar(form.scaling)], `${prefix}.scaled`) : up;
  const output = emit.node('Add', [site.value, added], `${prefix}.output`);
  site.residualNode.inputs[site.inputIndex] = output;
  return { layer: site.layer, site: site.site, adapter: adapter.name, units, parameters, parameterCount: count, output };
}
