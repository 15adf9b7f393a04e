/**
 * Shapes of the normalization ops and of ONNX Runtime's fused BERT ops (as its CPU kernels
 * write them), and of the training ops adapterc's training model holds.
 */
import { attrInt, attrInts, getAttribute } from '../../ir/index.js';
import { constant, divExact, toString, type Dim } from '../dim.js';
import type { ShapeContext, ShapeRule } from '../rule.js';
import { broadcastOrFail } from './elementwise.js';

/** Dims from `axis` on replaced by 1: the saved mean and inverse deviation of a normalization. */
function statistics(dims: readonly Dim[], axis: number): Dim[] {
  return dims.map((d, a) => (a < axis ? d : constant(1)));
}

const layerNormalization: ShapeRule = (c) => {
  const x = c.dims(0);
  const given = attrInt(c.node, 'axis', -1);
  const axis = given < 0 ? given + x.length : given;
  if (axis < 0 || axis >= x.length) c.fail(`axis ${given} is outside a rank-${x.length} input`);
  return [{ dims: x }, { dims: statistics(x, axis) }, { dims: statistics(x, axis) }];
};

// output; mean and inv_std_var (optional, the last dim 1); input + skip (+ bias) (optional).
const skipLayerNormalization: ShapeRule = (c) => {
  const x = broadcastOrFail(c, [c.dims(0), c.dims(1)]);
  return [{ dims: x }, { dims: statistics(x, x.length - 1) }, { dims: statistics(x, x.length - 1) }, { dims: x }];
};

// output [batch, sequence, hidden]; mask_index [batch]; embedding_sum [batch, sequence, hidden].
const embedLayerNormalization: ShapeRule = (c) => {
  const ids = c.dims(0);
  if (ids.length !== 2) c.fail(`its input_ids have rank ${ids.length}, not 2`);
  const words = c.dims(2);
  if (words.length !== 2) c.fail(`its word_embedding has rank ${words.length}, not 2`);
  const hidden = words[1]!;
  return [{ dims: [ids[0]!, ids[1]!, hidden] }, { dims: [ids[0]!] }, { dims: [ids[0]!, ids[1]!, hidden] }];
};

/** The value hidden size of com.microsoft Attention: qkv_hidden_sizes' third, else a third of the packed bias or weights. */
function valueHidden(c: ShapeContext): Dim {
  if (getAttribute(c.node, 'qkv_hidden_sizes')) return constant(attrInts(c.node, 'qkv_hidden_sizes')[2]!);
  const packed = c.has(2) ? c.dims(2)[0]! : c.dims(1)[1]!;
  const third = divExact(packed, constant(3));
  if (third === undefined) c.fail(`its packed QKV size ${toString(packed)} is not three equal parts`);
  return third!;
}

// output [batch, sequence, value hidden]; `present` (past key/values) is not described.
const attention: ShapeRule = (c) => {
  const input = c.dims(0);
  if (input.length !== 3) c.fail(`its input has rank ${input.length}, not 3`);
  return [{ dims: [input[0]!, input[1]!, valueHidden(c)] }, undefined];
};

// updated_flag [1] (bool); the accumulation buffer, as given.
const inPlaceAccumulator: ShapeRule = (c) => [{ dims: [constant(1)] }, { dims: c.dims(0) }];

export const normalizationRules: ReadonlyArray<readonly [string, ShapeRule]> = [
  ['LayerNormalization', layerNormalization],
  ['com.microsoft:SkipLayerNormalization', skipLayerNormalization],
  ['com.microsoft:SkipSimplifiedLayerNormalization', skipLayerNormalization],
  ['com.microsoft:EmbedLayerNormalization', embedLayerNormalization],
  ['com.microsoft:Attention', attention],
  ['com.microsoft:InPlaceAccumulatorV2', inPlaceAccumulator],
];
