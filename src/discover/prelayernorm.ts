/**
 * Pre-LayerNorm encoders (Megatron-BERT, XLM-RoBERTa-XL, ModernBERT, most decoder stacks): every
 * sub-layer reads LayerNorm(x) and its output is added to x itself, x + f(LayerNorm(x)), with no
 * LayerNorm after the sum. Discovery finds no post-LayerNorm site in them; this says why, so the
 * refusal can name the architecture instead of "not an encoder".
 */
import { isDefaultDomain } from '../ir/index.js';
import { attentionOps } from './encoder.js';
import type { LayerNorm } from './types.js';
import type { GraphView } from './view.js';

export interface PreLayerNormBlocks {
  /** Sub-layers x + f(LayerNorm(x)) whose f holds attention (Softmax or a fused attention op). */
  readonly attention: number;
  /** The others (feed-forward). */
  readonly ffn: number;
}

/** Counts the pre-LayerNorm residual sub-layers: an Add of x and a value computed from LayerNorm(x). */
export function findPreLayerNormBlocks(view: GraphView, layerNorms: readonly LayerNorm[]): PreLayerNormBlocks {
  let attention = 0;
  let ffn = 0;
  for (const ln of layerNorms) {
    if (ln.input === '') continue;
    const stop = new Set([ln.input]);
    for (const add of view.consumers(ln.input)) {
      if (add.opType !== 'Add' || !isDefaultDomain(add.domain) || add.inputs.length !== 2 || ln.nodes.includes(add)) continue;
      const other = add.inputs[0] === ln.input ? add.inputs[1]! : add.inputs[0]!;
      const upstream = view.upstreamOps(other, stop);
      if (!upstream.some((n) => ln.nodes.includes(n))) continue;
      if (upstream.some((n) => attentionOps.has(n.opType))) attention++;
      else ffn++;
    }
  }
  return { attention, ffn };
}
