/**
 * Rule: LoRA and (IA)³ on a query, key and value packed into one weight side by side, W [in,
 * q + k + v] and bias [q + k + v]: ONNX Runtime's fused Attention, or the in_proj MatMul (+ Add)
 * of torch.nn.MultiheadAttention. The update applies to each adapted site's column slice, in
 * weight space:
 *
 *   pattern   Attention(x, W, bias, …)  or  MatMul(x, W) + bias      as discovery recorded them
 *   check     every update is a LoRA or (IA)³ instance at one of the node's slices
 *   rewrite   W' = (W + Concat(Δq | 0, Δk | 0, Δv | 0)) · Concat(lq | 1, lk | 1, lv | 1)
 *             bias' = bias · Concat(lq | 1, lk | 1, lv | 1)    Δ = (alpha / r) · A·B
 *             and W' and bias' are read where W and bias were
 *
 * The gaps are ConstantOfShape zeros and ones, so nothing of the weight's size is stored twice.
 */
import type { AdapterInstance } from '../../check/bind.js';
import type { Projection } from '../../discover/index.js';
import { attr, makeTensor, type GraphBuilder, type Node, type Tensor } from '../../ir/index.js';
import { adapterPrefix, type InsertedAdapter } from './insert-adapter.js';
import { ia3Parameter } from './scale-ia3.js';
import { loraParameters } from './insert-lora.js';

export interface PackedUpdate {
  readonly projection: Projection;
  readonly instance: AdapterInstance;
}

export function checkUpdatePacked(node: Node, updates: readonly PackedUpdate[]): string | undefined {
  for (const u of updates) {
    if (u.projection.node !== node || !u.projection.packed) return `layer ${u.instance.layer} ${u.instance.site} is not a slice of this Attention's weight`;
    const kind = u.instance.adapter.form.kind;
    if (kind !== 'lora' && kind !== 'ia3') return `a ${kind} adapter cannot update a packed weight`;
    if (kind === 'ia3' && !u.projection.packed.bias) return 'an (IA)³ update of a packed weight needs its bias (none was found)';
  }
  return undefined;
}

/** Updates one fused Attention; `updates` are its slices' LoRA and (IA)³ instances. */
export function updatePacked(emit: GraphBuilder, node: Node, updates: readonly PackedUpdate[], seed: number, initial: ReadonlyMap<string, Tensor> = new Map()): InsertedAdapter[] {
  const reason = checkUpdatePacked(node, updates);
  if (reason !== undefined) throw new Error(`updatePacked: ${reason}`);
  const first = updates[0]!.projection;
  const total = first.packed!.total;
  const inFeatures = first.inFeatures;
  const name = `adapters.layer.${first.layer}.qkv`;
  // Each adapted slice, by its first column, with what adapts it.
  interface Slice {
    width: number;
    lora?: string;
    ia3?: string;
  }
  const layout = new Map<number, Slice>();
  const inserted: InsertedAdapter[] = [];
  const sliceOf = (p: Projection) => {
    const existing = layout.get(p.packed!.offset);
    if (existing) return existing;
    const made: Slice = { width: p.outFeatures };
    layout.set(p.packed!.offset, made);
    return made;
  };
  for (const { projection, instance } of updates) {
    const slice = sliceOf(projection);
    const prefix = adapterPrefix(instance.layer, instance.site);
    if (instance.adapter.form.kind === 'lora') {
      const { a, b, scaling } = loraParameters(emit, instance, seed, initial);
      const product = emit.node('MatMul', [a, b], `${prefix}.lora.delta`);
      slice.lora = scaling === 1 ? product : emit.node('Mul', [product, emit.scalar(scaling)], `${prefix}.lora.scaled`);
      inserted.push({ layer: instance.layer, site: instance.site, adapter: instance.adapter.name, units: instance.units, parameters: [a, b], parameterCount: instance.parameters, output: slice.lora });
    } else {
      slice.ia3 = ia3Parameter(emit, instance, seed, initial);
      inserted.push({ layer: instance.layer, site: instance.site, adapter: instance.adapter.name, units: instance.units, parameters: [slice.ia3], parameterCount: instance.parameters, output: slice.ia3 });
    }
  }
  // Every slice from 0 to total, unadapted gaps included.
  const columns: { offset: number; width: number; lora?: string; ia3?: string }[] = [];
  let offset = 0;
  for (const [start, slice] of [...layout].sort((x, y) => x[0] - y[0])) {
    if (start > offset) columns.push({ offset, width: start - offset });
    columns.push({ offset: start, ...slice });
    offset = start + slice.width;
  }
  if (offset < total) columns.push({ offset, width: total - offset });

  const filled = (shape: number[], value: number, label: string) =>
    emit.node('ConstantOfShape', [emit.int64s(`${name}.${label}.shape`, shape)], `${name}.${label}`, [attr.tensor('value', makeTensor(`${name}.${label}.value`, [1], new Float32Array([value])))]);
  const { weight: weightAt, bias: biasAt } = first.packed!;
  let weight = weightAt.node.inputs[weightAt.index]!;
  if (columns.some((c) => c.lora)) {
    const parts = columns.map((c, i) => c.lora ?? filled([inFeatures, c.width], 0, `zeros_${i}`));
    const delta = parts.length === 1 ? parts[0]! : emit.node('Concat', parts, `${name}.lora.delta`, [attr.int('axis', 1)]);
    weight = emit.node('Add', [weight, delta], `${name}.lora.weight`);
  }
  if (columns.some((c) => c.ia3)) {
    const parts = columns.map((c, i) => c.ia3 ?? filled([c.width], 1, `ones_${i}`));
    const scale = parts.length === 1 ? parts[0]! : emit.node('Concat', parts, `${name}.ia3.scale`, [attr.int('axis', 0)]);
    weight = emit.node('Mul', [weight, scale], `${name}.ia3.weight`);
    biasAt!.node.inputs[biasAt!.index] = emit.node('Mul', [biasAt!.node.inputs[biasAt!.index]!, scale], `${name}.ia3.bias`);
  }
  weightAt.node.inputs[weightAt.index] = weight;
  return inserted;
}
