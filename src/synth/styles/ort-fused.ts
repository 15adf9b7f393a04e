/**
 * A BERT export after ONNX Runtime's graph optimizer (the corpus's ort-optimized and ort-fused models):
 * - residual Add + LayerNorm is one com.microsoft SkipLayerNormalization(projection, residual, gamma,
 *   beta[, bias]); with `biasInSkipLayerNorm` the projection bias is its 5th input and the tensor
 *   "projection + bias" does not exist; the embedding LayerNorm is a SkipLayerNormalization too;
 * - the FFN activation is BiasGelu(MatMul, bias), Gelu(MatMul + bias) or FastGelu(MatMul, bias);
 * - Q K^T / sqrt(d) is one FusedMatMul with alpha; head reshapes use constant [0, 0, heads, d] shapes;
 * - optionally Q/K/V and the attention core are one com.microsoft Attention op with a packed
 *   [hidden, 3 hidden] weight and the int32 mask as mask_index;
 * - the pooler is FusedGemm with a Tanh activation; constants are initializers; names stay torch's.
 */
import { float, int, named, str, type Scope } from '../builder.js';
import { DataType } from '../tensors.js';
import { PytorchStyle } from './pytorch.js';
import {
  LAYER_NORM_EPSILON,
  layerPath,
  siteModules,
  type LayerNormParams,
  type ModelInputs,
  type SiteKind,
  type SiteResult,
} from './style.js';

export class OrtFusedStyle extends PytorchStyle {
  private attentionCount = 0;

  /** ORT's optimizer removes the Identity nodes: consumers read the shared initializer directly. */
  protected override aliasShared(shared: string): string {
    return shared;
  }

  override embeddings(inputs: ModelInputs): string {
    const s = this.scope(['embeddings']);
    const positionIds = this.positionIds(s, inputs.inputIds);
    const word = this.gatherEmbedding('word_embeddings', this.o.vocab, inputs.inputIds);
    const tokenType = this.gatherEmbedding('token_type_embeddings', this.o.typeVocab, inputs.tokenTypeIds);
    const position = this.gatherEmbedding('position_embeddings', this.o.maxPositions, positionIds);
    // ORT folds the last embedding Add into the LayerNorm, using the token type embedding as the skip.
    return this.skipLayerNorm(this.layerNormParams(['embeddings', 'LayerNorm']), s.op('Add', [word, position]), tokenType).output;
  }

  override attentionMask(inputs: ModelInputs): string {
    if (!this.o.ortFused.fusedAttention) return super.attentionMask(inputs);
    // The Attention op takes the raw 0/1 mask as an int32 mask_index and applies -10000 itself.
    return this.scope([]).op('Cast', [inputs.attentionMask], { attrs: { to: int(DataType.INT32) } });
  }

  override selfAttention(layer: number, x: string, mask: string): string {
    if (!this.o.ortFused.fusedAttention) return super.selfAttention(layer, x, mask);
    const h = this.o.hidden;
    const self = layerPath(layer, 'attention', 'self');
    const qkv = (['query', 'key', 'value'] as const).map((name) => this.dense([...self, name], h, h));
    const n = this.attentionCount++;
    const weight = this.store(`Attention_${n}_qkv_weight`, { kind: 'concatColumns', params: qkv.map((d) => d.kernel) });
    const bias = this.store(`Attention_${n}_qkv_bias`, { kind: 'concatColumns', params: qkv.map((d) => d.bias) });
    return this.scope(self).msOp('Attention', [x, weight, bias, mask], { attrs: { num_heads: int(this.o.heads) }, label: 'Attention' });
  }

  protected override scaledScores(s: Scope, q: string, kT: string): string {
    return s.msOp('FusedMatMul', [q, kT], {
      attrs: { alpha: float(1 / Math.sqrt(this.headDim)), transA: int(0), transB: int(0), transBatchA: int(0), transBatchB: int(0) },
      label: 'MatMul',
    });
  }

  /** Reshape's 0 copies the input's dimension, so one constant shape serves every batch and length. */
  protected override leadingDimsPlus(s: Scope, _x: string, tail: readonly number[]): string {
    return s.int64(this.fullyStatic ? [this.o.batch!, this.o.seqLen!, ...tail] : [0, 0, ...tail]);
  }

  override intermediate(layer: number, x: string): string {
    const d = this.dense(layerPath(layer, 'intermediate', 'dense'), this.o.hidden, this.o.ffn);
    const s = this.scope(d.path);
    const weight = this.store(this.foldedName('MatMul'), { kind: 'direct', param: d.kernel });
    const bias = this.store(this.paramName(d.path, 'bias'), { kind: 'direct', param: d.bias });
    const product = s.op('MatMul', [x, weight]);
    const act = this.scope(layerPath(layer, 'intermediate'));
    switch (this.o.ortFused.gelu) {
      case 'BiasGelu':
        return act.msOp('BiasGelu', [product, bias]);
      case 'FastGelu':
        return act.msOp('FastGelu', [product, bias]);
      case 'Gelu':
        return act.msOp('Gelu', [s.op('Add', [bias, product])]);
    }
  }

  override outputSublayer(layer: number, kind: SiteKind, x: string, residual: string, outputName?: string): SiteResult {
    const modules = siteModules(layer, kind);
    const d = this.dense(modules.dense, kind === 'attention' ? this.o.hidden : this.o.ffn, this.o.hidden);
    const s = this.scope(d.path);
    const weight = this.store(this.foldedName('MatMul'), { kind: 'direct', param: d.kernel });
    const bias = this.store(this.paramName(d.path, 'bias'), { kind: 'direct', param: d.bias });
    const product = s.op('MatMul', [x, weight]);
    const ln = this.layerNormParams(modules.layerNorm);
    const folded = this.o.ortFused.biasInSkipLayerNorm;
    const projectionOutput = folded ? null : s.op('Add', [bias, product]);
    const norm = folded
      ? this.skipLayerNorm(ln, product, residual, bias, outputName)
      : this.skipLayerNorm(ln, projectionOutput!, residual, undefined, outputName);
    return {
      output: norm.output,
      site: {
        weight,
        bias,
        weightLayout: 'in-out',
        projectionOutput,
        residual,
        layerNorm: { form: 'SkipLayerNormalization', gamma: norm.gamma, beta: norm.beta, output: norm.output },
      },
    };
  }

  override pooler(hidden: string, outputName?: string): string {
    const s = this.scope(['pooler']);
    const first = s.op('Gather', [hidden, s.int64Scalar(0)], { attrs: { axis: int(1) } });
    const d = this.dense(['pooler', 'dense'], this.o.hidden, this.o.hidden);
    const weight = this.store(this.paramName(d.path, 'weight'), { kind: 'transposed', param: d.kernel });
    const bias = this.store(this.paramName(d.path, 'bias'), { kind: 'direct', param: d.bias });
    return this.scope(d.path).msOp('FusedGemm', [first, weight, bias], {
      attrs: { activation: str('Tanh'), alpha: float(1), beta: float(1), transA: int(0), transB: int(1) },
      ...named(outputName),
    });
  }

  /** SkipLayerNormalization(input, skip, gamma, beta[, bias]) = LayerNorm(input + skip + bias). */
  private skipLayerNorm(ln: LayerNormParams, input: string, skip: string, bias?: string, outputName?: string): { output: string; gamma: string; beta: string } {
    const gamma = this.store(this.paramName(ln.path, 'weight'), { kind: 'direct', param: ln.gamma });
    const beta = this.store(this.paramName(ln.path, 'bias'), { kind: 'direct', param: ln.beta });
    const inputs = bias === undefined ? [input, skip, gamma, beta] : [input, skip, gamma, beta, bias];
    const output = this.scope(ln.path).msOp('SkipLayerNormalization', inputs, { attrs: { epsilon: float(LAYER_NORM_EPSILON) }, ...named(outputName) });
    return { output, gamma, beta };
  }
}
