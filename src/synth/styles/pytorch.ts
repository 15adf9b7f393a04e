/**
 * torch.onnx export of a Hugging Face BertModel / BertForSequenceClassification (torch 1.13 naming, as
 * in the corpus's pytorch-1.13 models):
 * - node names are module scopes (`/bert/encoder/layer.0/attention/self/query/MatMul`), tensors
 *   `<node>_output_0`, constants are `Constant` nodes;
 * - Linear is MatMul with a constant-folded, pre-transposed weight (`onnx::MatMul_<n>`, [in, out]) and
 *   an Add whose first operand is the bias; the pooler and classifier are Gemm(transB=1) on 2-D input;
 * - LayerNorm is decomposed: ReduceMean, Sub, Pow 2, ReduceMean, Add eps, Sqrt, Div, Mul gamma, Add beta;
 * - GELU is x * (1 + erf(x / sqrt 2)) * 0.5; the mask is (1 - mask) * -10000 broadcast over heads;
 * - with dynamic axes, head split/merge shapes are computed by Shape/Gather/Unsqueeze/Concat.
 *
 * Subclasses swap single pieces: the LayerNormalization op (opset 17) and Gemm dense layers.
 */
import { float, int, ints, named, type Scope } from '../builder.js';
import type { LayerNormForm } from '../manifest.js';
import { DataType } from '../tensors.js';
import {
  BertStyle,
  LAYER_NORM_EPSILON,
  layerPath,
  MASK_FILTER_VALUE,
  siteModules,
  type DenseParams,
  type LayerNormParams,
  type ModelInputs,
  type ModulePath,
  type SiteKind,
  type SiteResult,
} from './style.js';

/** A dense layer as emitted: its output (projection + bias) and stored parameter names. */
export interface LinearResult {
  readonly output: string;
  readonly weight: string;
  readonly bias: string;
  readonly weightLayout: 'in-out' | 'out-in';
}

export interface LayerNormResult {
  readonly output: string;
  readonly gamma: string;
  readonly beta: string;
  readonly form: LayerNormForm;
}

export class PytorchStyle extends BertStyle {
  /** torch numbers constant-folded tensors `onnx::<Op>_<n>`; any increasing number is as good. */
  private foldedCounter = 1000;

  // ---- naming ---------------------------------------------------------------------------------------

  /** BertForSequenceClassification nests the encoder under `bert`; a bare BertModel does not. */
  private root(path: ModulePath): string[] {
    return this.hasClassifier && path[0] !== 'classifier' ? ['bert'] : [];
  }

  protected scopeName(path: ModulePath): string {
    const parts = [...this.root(path), ...path];
    return parts.length === 0 ? '' : `/${parts.join('/')}`;
  }

  protected paramName(path: ModulePath, leaf: string): string {
    return [...this.root(path), ...path, leaf].join('.');
  }

  protected foldedName(opType: string): string {
    return `onnx::${opType}_${this.foldedCounter++}`;
  }

  // ---- pieces ---------------------------------------------------------------------------------------

  embeddings(inputs: ModelInputs): string {
    const o = this.o;
    const s = this.scope(['embeddings']);
    const positionIds = this.positionIds(s, inputs.inputIds);
    const word = this.gatherEmbedding('word_embeddings', o.vocab, inputs.inputIds);
    const tokenType = this.gatherEmbedding('token_type_embeddings', o.typeVocab, inputs.tokenTypeIds);
    // Hugging Face: embeddings = inputs_embeds + token_type_embeddings; embeddings += position_embeddings.
    const sum = s.op('Add', [word, tokenType]);
    const position = this.gatherEmbedding('position_embeddings', o.maxPositions, positionIds);
    const total = s.op('Add', [sum, position]);
    return this.layerNorm(this.layerNormParams(['embeddings', 'LayerNorm']), total).output;
  }

  /** position_ids [1, seq]: arange(seq) from the input's shape, or folded to a constant when seq is static. */
  protected positionIds(s: Scope, inputIds: string): string {
    if (this.o.seqLen !== null) {
      return s.int64(
        Array.from({ length: this.o.seqLen }, (_, i) => i),
        [1, this.o.seqLen],
      );
    }
    const seq = s.op('Gather', [s.op('Shape', [inputIds]), s.int64Scalar(1)], { attrs: { axis: int(0) } });
    const range = s.op('Range', [s.int64Scalar(0), seq, s.int64Scalar(1)]);
    return s.unsqueeze(range, [0]);
  }

  protected gatherEmbedding(table: 'word_embeddings' | 'position_embeddings' | 'token_type_embeddings', rows: number, ids: string): string {
    const path = ['embeddings', table];
    const weight = this.store(this.paramName(path, 'weight'), { kind: 'direct', param: this.embeddingTable(table, rows) });
    return this.scope(path).op('Gather', [weight, ids]);
  }

  attentionMask(inputs: ModelInputs): string {
    const s = this.scope([]);
    const expanded = s.unsqueeze(s.unsqueeze(inputs.attentionMask, [1]), [2]);
    const asFloat = s.op('Cast', [expanded], { attrs: { to: int(DataType.FLOAT) } });
    const inverted = s.op('Sub', [s.floatScalar(1), asFloat]);
    return s.op('Mul', [inverted, s.floatScalar(MASK_FILTER_VALUE)]);
  }

  selfAttention(layer: number, x: string, mask: string): string {
    const h = this.o.hidden;
    const self = layerPath(layer, 'attention', 'self');
    const s = this.scope(self);
    const query = this.linear(this.dense([...self, 'query'], h, h), x).output;
    const key = this.linear(this.dense([...self, 'key'], h, h), x).output;
    const value = this.linear(this.dense([...self, 'value'], h, h), x).output;
    const q = s.op('Transpose', [s.op('Reshape', [query, this.headShape(s, query)])], { attrs: { perm: ints([0, 2, 1, 3]) } });
    // key.transpose(-1, -2) after the head transpose, folded by torch into one permutation.
    const kT = s.op('Transpose', [s.op('Reshape', [key, this.headShape(s, key)])], { attrs: { perm: ints([0, 2, 3, 1]) } });
    const v = s.op('Transpose', [s.op('Reshape', [value, this.headShape(s, value)])], { attrs: { perm: ints([0, 2, 1, 3]) } });
    const scores = s.op('Add', [this.scaledScores(s, q, kT), mask]);
    const probs = s.op('Softmax', [scores], { attrs: { axis: int(this.b.opset >= 13 ? -1 : 3) } });
    const context = s.op('Transpose', [s.op('MatMul', [probs, v])], { attrs: { perm: ints([0, 2, 1, 3]) } });
    return s.op('Reshape', [context, this.mergedShape(s, context)]);
  }

  /** Q K^T / sqrt(head_dim). */
  protected scaledScores(s: Scope, q: string, kT: string): string {
    return s.op('Div', [s.op('MatMul', [q, kT]), s.floatScalar(Math.sqrt(this.headDim))]);
  }

  /** [batch, seq, heads, head_dim] for a [batch, seq, hidden] tensor. */
  protected headShape(s: Scope, x: string): string {
    return this.leadingDimsPlus(s, x, [this.o.heads, this.headDim]);
  }

  /** [batch, seq, hidden] for the [batch, seq, heads, head_dim] context. */
  protected mergedShape(s: Scope, x: string): string {
    return this.leadingDimsPlus(s, x, [this.o.hidden]);
  }

  /** A shape [x.dim0, x.dim1, ...tail]: constant when static, else as torch traces `x.size()[:2] + tail`. */
  protected leadingDimsPlus(s: Scope, x: string, tail: readonly number[]): string {
    if (this.fullyStatic) return s.int64([this.o.batch!, this.o.seqLen!, ...tail]);
    const dims = [0, 1].map((axis) => s.unsqueeze(s.op('Gather', [s.op('Shape', [x]), s.int64Scalar(axis)], { attrs: { axis: int(0) } }), [0]));
    return s.op('Concat', [...dims, ...tail.map((d) => s.int64([d]))], { attrs: { axis: int(0) } });
  }

  intermediate(layer: number, x: string): string {
    const dense = this.linear(this.dense(layerPath(layer, 'intermediate', 'dense'), this.o.hidden, this.o.ffn), x).output;
    return this.gelu(this.scope(layerPath(layer, 'intermediate', 'intermediate_act_fn')), dense);
  }

  /** Exact (erf) GELU: x * (1 + erf(x / sqrt 2)) * 0.5, in torch's operand order. */
  protected gelu(s: Scope, x: string): string {
    const erf = s.op('Erf', [s.op('Div', [x, s.floatScalar(Math.SQRT2)])]);
    return s.op('Mul', [s.op('Mul', [x, s.op('Add', [erf, s.floatScalar(1)])]), s.floatScalar(0.5)]);
  }

  outputSublayer(layer: number, kind: SiteKind, x: string, residual: string, outputName?: string): SiteResult {
    const modules = siteModules(layer, kind);
    const inDim = kind === 'attention' ? this.o.hidden : this.o.ffn;
    const projection = this.linear(this.dense(modules.dense, inDim, this.o.hidden), x);
    const sum = this.residualAdd(this.scope(modules.dense.slice(0, -1)), projection.output, residual);
    const norm = this.layerNorm(this.layerNormParams(modules.layerNorm), sum, outputName);
    return {
      output: norm.output,
      site: {
        weight: projection.weight,
        bias: projection.bias,
        weightLayout: projection.weightLayout,
        projectionOutput: projection.output,
        residual,
        layerNorm: { form: norm.form, gamma: norm.gamma, beta: norm.beta, output: norm.output },
      },
    };
  }

  pooler(hidden: string, outputName?: string): string {
    const s = this.scope(['pooler']);
    const first = s.op('Gather', [hidden, s.int64Scalar(0)], { attrs: { axis: int(1) } });
    const dense = this.gemm2d(this.dense(['pooler', 'dense'], this.o.hidden, this.o.hidden), first);
    return this.scope(['pooler', 'activation']).op('Tanh', [dense], named(outputName));
  }

  classifier(pooled: string, outputName: string): string {
    return this.gemm2d(this.dense(['classifier'], this.o.hidden, this.o.labels), pooled, outputName);
  }

  /** nn.Linear on a 2-D input: Gemm(x, W [out, in], b, transB=1). */
  protected gemm2d(d: DenseParams, x: string, outputName?: string): string {
    const weight = this.store(this.paramName(d.path, 'weight'), { kind: 'transposed', param: d.kernel });
    const bias = this.store(this.paramName(d.path, 'bias'), { kind: 'direct', param: d.bias });
    return this.scope(d.path).op('Gemm', [x, weight, bias], {
      attrs: { alpha: float(1), beta: float(1), transB: int(1) },
      ...named(outputName),
    });
  }

  // ---- overridable primitives -----------------------------------------------------------------------

  /** Hugging Face: LayerNorm(hidden_states + input_tensor), the projection first. */
  protected residualAdd(s: Scope, projection: string, residual: string): string {
    return s.op('Add', [projection, residual]);
  }

  /** nn.Linear on [batch, seq, in]: MatMul with the folded [in, out] weight, then Add(bias, product). */
  protected linear(d: DenseParams, x: string): LinearResult {
    const s = this.scope(d.path);
    const weight = this.store(this.foldedName('MatMul'), { kind: 'direct', param: d.kernel });
    const bias = this.store(this.paramName(d.path, 'bias'), { kind: 'direct', param: d.bias });
    const product = s.op('MatMul', [x, weight]);
    return { output: s.op('Add', [bias, product]), weight, bias, weightLayout: 'in-out' };
  }

  protected layerNorm(ln: LayerNormParams, x: string, outputName?: string): LayerNormResult {
    return this.decomposedLayerNorm(ln, x, outputName);
  }

  protected decomposedLayerNorm(ln: LayerNormParams, x: string, outputName?: string): LayerNormResult {
    const s = this.scope(ln.path);
    const gamma = this.store(this.paramName(ln.path, 'weight'), { kind: 'direct', param: ln.gamma });
    const beta = this.store(this.paramName(ln.path, 'bias'), { kind: 'direct', param: ln.beta });
    const centered = s.op('Sub', [x, s.reduceMean(x, [-1])]);
    const variance = s.reduceMean(s.op('Pow', [centered, s.floatScalar(2)]), [-1]);
    const std = s.op('Sqrt', [s.op('Add', [variance, s.floatScalar(LAYER_NORM_EPSILON)])]);
    const scaled = s.op('Mul', [s.op('Div', [centered, std]), gamma]);
    const output = s.op('Add', [scaled, beta], named(outputName));
    return { output, gamma, beta, form: 'decomposed-pow-sqrt-div' };
  }

  /** LayerNorm as one ONNX LayerNormalization op over the last axis. */
  protected layerNormOp(ln: LayerNormParams, x: string, outputName?: string): LayerNormResult {
    const gamma = this.store(this.paramName(ln.path, 'weight'), { kind: 'direct', param: ln.gamma });
    const beta = this.store(this.paramName(ln.path, 'bias'), { kind: 'direct', param: ln.beta });
    const output = this.scope(ln.path).op('LayerNormalization', [x, gamma, beta], {
      attrs: { axis: int(-1), epsilon: float(LAYER_NORM_EPSILON) },
      ...named(outputName),
    });
    return { output, gamma, beta, form: 'LayerNormalization' };
  }
}

/**
 * torch.onnx at opset 17: LayerNorm becomes one LayerNormalization op (at opset 14-16 this is the
 * form ONNX Runtime's optimizer emits: onnx.checker rejects it there but ONNX Runtime runs it).
 */
export class PytorchLayerNormOpStyle extends PytorchStyle {
  protected override layerNorm(ln: LayerNormParams, x: string, outputName?: string): LayerNormResult {
    return this.layerNormOp(ln, x, outputName);
  }
}
