/**
 * GatherElements, as DeBERTa's disentangled attention uses it: the content-to-position and
 * position-to-content scores [b·h, s, 2k] are gathered along the last axis at each token pair's
 * relative-position bucket, out[…, j] = x[…, index[…, j]]. The gradient adds dy[…, j] into
 * dx[…, index[…, j]], repeated buckets summing: dx[…, m] = Σ_j dy[…, j]·[index[…, j] = m], computed as
 * a product with the one-hot of the indices (Equal against 0 … M-1; ScatterElements' reduction
 * would need opset 16 and an export's opset is often 12). The one-hot holds K·M elements per row
 * (for DeBERTa-v3-base at 128 tokens: 128 × 512).
 */
import { attr, attrInt, DataType } from '../../ir/index.js';
import { FLOAT_TYPES, type GradientRule } from '../rule.js';

export const gatherElements: GradientRule = (g, [dy]) => {
  if (!g.needs(0) || dy === undefined) return [];
  const [data, indices] = g.node.inputs as [string, string];
  const x = g.shape(data);
  const index = g.shape(indices);
  const rank = x.dims.length;
  const raw = attrInt(g.node, 'axis', 0);
  const axis = raw < 0 ? raw + rank : raw;
  if (axis !== rank - 1) return g.fail('only a gather along the last axis is supported (DeBERTa\'s)');
  if (x.dynamic[axis]) return g.fail('the gathered axis must have a fixed length');
  const same = index.dims.length === rank && x.dims.every((d, i) => i === axis || (d === index.dims[i] && x.dynamic[i] === index.dynamic[i]));
  if (!same) return g.fail('the indices must have the data\'s shape on every axis but the gathered one');
  const width = x.dims[axis]!;
  // Indices as non-negative int64: a negative one counts from the end, as GatherElements reads it.
  const asInt64 = index.elemType === 'int64' ? indices : g.b.node('Cast', [indices], g.name(`${indices}.int64`), [attr.int('to', DataType.INT64)]);
  const negative = g.b.node('Less', [asInt64, g.b.int64s(g.name(`${data}.grad.zero`), [0])], g.name(`${data}.grad.negative`));
  const wrapped = g.b.node('Add', [asInt64, g.b.int64s(g.name(`${data}.grad.width`), [width])], g.name(`${data}.grad.wrapped`));
  const positions = g.b.node('Where', [negative, wrapped, asInt64], g.name(`${data}.grad.positions`));
  const ids = g.b.int64s(g.name(`${data}.grad.ids`), [...Array(width).keys()]);
  const matches = g.b.node('Equal', [g.b.unsqueeze(positions, [rank], g.name(`${data}.grad.positions.column`)), ids], g.name(`${data}.grad.matches`));
  const oneHot = g.b.node('Cast', [matches], g.name(`${data}.grad.one_hot`), [attr.int('to', FLOAT_TYPES[x.elemType] ?? DataType.FLOAT)]);
  // [..., 1, K] · [..., K, M] = [..., 1, M], reshaped to x's shape.
  const row = g.b.unsqueeze(dy, [rank - 1], g.name(`${data}.grad.dy.row`));
  const summed = g.b.node('MatMul', [row, oneHot], g.name(`${data}.grad.summed`));
  return [g.b.node('Reshape', [summed, g.b.shape(data)], g.name(`${data}.grad`))];
};
