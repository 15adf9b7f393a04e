/**
 * keras2onnx / tf2onnx export of Hugging Face's TFBertModel / TFBertForSequenceClassification, as in
 * the corpus's tf2.1_keras2onnx_bert_mrpc model:
 * - scopes `tf_bert_for_sequence_classification/bert/encoder/layer_._0/...`, tensors `<node>:0`;
 *   constants are initializers shared across the graph (one epsilon for every LayerNorm);
 * - Dense is TF's Tensordot: Reshape to 2-D, MatMul with the [in, out] kernel, Reshape back, then
 *   BiasAdd (bias second); the residual Add takes the residual first;
 * - LayerNorm is TF's batchnorm formulation: mean, (mean - x)^2 by Mul, variance, Sqrt + Reciprocal
 *   (rsqrt), scale = rsqrt * gamma, out = x * scale + (beta - mean * scale);
 * - GELU is x * 0.5 * (1 + erf(x * (1 / sqrt 2))); attention scores are scaled by a Mul;
 * - position embeddings are a Slice of the table; inputs are int32 and sorted by name.
 */
import { int, named, type Scope } from '../builder.js';
import type { ValueInfo } from '../builder.js';
import { DataType } from '../tensors.js';
import { PytorchStyle, type LayerNormResult, type LinearResult } from './pytorch.js';
import {
  layerPath,
  LAYER_NORM_EPSILON,
  MASK_FILTER_VALUE,
  type DenseParams,
  type LayerNormParams,
  type ModelInputs,
  type ModulePath,
} from './style.js';

export class TfStyle extends PytorchStyle {
  // ---- naming ---------------------------------------------------------------------------------------

  private get modelScope(): string {
    return this.hasClassifier ? 'tf_bert_for_sequence_classification' : 'tf_bert_model';
  }

  protected override scopeName(path: ModulePath): string {
    const tfPath = path.map((part) => part.replace(/^layer\.(\d+)$/, 'layer_._$1'));
    return path[0] === 'classifier' ? [this.modelScope, ...tfPath].join('/') : [this.modelScope, 'bert', ...tfPath].join('/');
  }

  /** keras2onnx orders graph inputs by name. */
  override orderInputs(inputs: readonly ValueInfo[]): ValueInfo[] {
    return [...inputs].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  // ---- pieces ---------------------------------------------------------------------------------------

  override embeddings(inputs: ModelInputs): string {
    const s = this.scope(['embeddings']);
    const word = this.gatherEmbedding('word_embeddings', this.o.vocab, inputs.inputIds);
    const positionPath = ['embeddings', 'position_embeddings'];
    const table = this.store(`${this.scopeName(positionPath)}/embeddings:0`, {
      kind: 'direct',
      param: this.embeddingTable('position_embeddings', this.o.maxPositions),
    });
    const p = this.scope(positionPath);
    const seq = this.o.seqLen !== null ? p.int64([this.o.seqLen]) : p.slice(p.op('Shape', [inputs.inputIds]), p.int64([1]), p.int64([2]), [0]);
    const positions = p.slice(table, p.int64([0]), seq, [0]);
    const sum = s.op('Add', [word, positions]);
    const tokenType = this.gatherEmbedding('token_type_embeddings', this.o.typeVocab, inputs.tokenTypeIds);
    return this.layerNorm(this.layerNormParams(['embeddings', 'LayerNorm']), s.op('Add', [sum, tokenType])).output;
  }

  protected override gatherEmbedding(table: 'word_embeddings' | 'position_embeddings' | 'token_type_embeddings', rows: number, ids: string): string {
    const path = ['embeddings', table];
    const leaf = table === 'word_embeddings' ? 'weight:0' : 'embeddings:0';
    const weight = this.store(`${this.scopeName(path)}/${leaf}`, { kind: 'direct', param: this.embeddingTable(table, rows) });
    return this.scope(path).op('Gather', [weight, ids], { attrs: { axis: int(0) } });
  }

  override attentionMask(inputs: ModelInputs): string {
    const s = this.scope([]);
    const expanded = s.unsqueeze(inputs.attentionMask, [1, 2]);
    const asFloat = s.op('Cast', [expanded], { attrs: { to: int(DataType.FLOAT) } });
    const inverted = s.op('Sub', [s.floatScalar(1), asFloat], { label: 'sub' });
    return s.op('Mul', [s.floatScalar(MASK_FILTER_VALUE), inverted], { label: 'mul' });
  }

  protected override scaledScores(s: Scope, q: string, kT: string): string {
    return s.op('Mul', [s.floatScalar(1 / Math.sqrt(this.headDim)), s.op('MatMul', [q, kT])], { label: 'truediv' });
  }

  /** TF computes `tf.shape(x)[:2]` with a Slice of the Shape. */
  protected override leadingDimsPlus(s: Scope, x: string, tail: readonly number[]): string {
    if (this.fullyStatic) return s.int64([this.o.batch!, this.o.seqLen!, ...tail]);
    const lead = s.slice(s.op('Shape', [x]), s.int64([0]), s.int64([2]), [0]);
    return s.op('Concat', [lead, s.int64([...tail])], { attrs: { axis: int(0) } });
  }

  override intermediate(layer: number, x: string): string {
    const dense = this.linear(this.dense(layerPath(layer, 'intermediate', 'dense'), this.o.hidden, this.o.ffn), x).output;
    return this.gelu(this.scope(layerPath(layer, 'intermediate', 'activation')), dense);
  }

  protected override gelu(s: Scope, x: string): string {
    const scaled = s.op('Mul', [s.floatScalar(Math.SQRT1_2), x], { label: 'truediv' });
    const onePlusErf = s.op('Add', [s.op('Erf', [scaled]), s.floatScalar(1)], { label: 'add' });
    return s.op('Mul', [s.op('Mul', [onePlusErf, s.floatScalar(0.5)], { label: 'mul' }), x], { label: 'mul_1' });
  }

  protected override residualAdd(s: Scope, projection: string, residual: string): string {
    return s.op('Add', [residual, projection], { label: 'add' });
  }

  override pooler(hidden: string, outputName?: string): string {
    const s = this.scope(['pooler']);
    const first = s.squeeze(s.slice(hidden, s.int64([0]), s.int64([1]), [1]), [1]);
    const dense = this.linear2d(this.dense(['pooler', 'dense'], this.o.hidden, this.o.hidden), first);
    return this.scope(['pooler', 'dense']).op('Tanh', [dense], named(outputName));
  }

  override classifier(pooled: string, outputName: string): string {
    const logits = this.linear2d(this.dense(['classifier'], this.o.hidden, this.o.labels), pooled);
    return this.scope([]).op('Identity', [logits], { outputs: [outputName] });
  }

  // ---- primitives -----------------------------------------------------------------------------------

  /** Keras Dense on a 2-D input: MatMul then BiasAdd. */
  private linear2d(d: DenseParams, x: string): string {
    const s = this.scope(d.path);
    const kernel = this.store(`${this.scopeName(d.path)}/MatMul/ReadVariableOp:0`, { kind: 'direct', param: d.kernel });
    const bias = this.store(`${this.scopeName(d.path)}/BiasAdd/ReadVariableOp:0`, { kind: 'direct', param: d.bias });
    return s.op('Add', [s.op('MatMul', [x, kernel]), bias], { label: 'BiasAdd' });
  }

  /** Keras Dense on [batch, seq, in]: Tensordot (Reshape, MatMul, Reshape) then BiasAdd. */
  protected override linear(d: DenseParams, x: string): LinearResult {
    const s = this.scope(d.path);
    const [inDim, outDim] = d.kernel.shape as [number, number];
    const weight = this.store(`${this.scopeName(d.path)}/Tensordot/ReadVariableOp:0`, { kind: 'direct', param: d.kernel });
    const bias = this.store(`${this.scopeName(d.path)}/BiasAdd/ReadVariableOp:0`, { kind: 'direct', param: d.bias });
    const flat = s.op('Reshape', [x, s.int64([-1, inDim])], { label: 'Tensordot/Reshape' });
    const product = s.op('MatMul', [flat, weight], { label: 'Tensordot/MatMul' });
    const unflat = s.op('Reshape', [product, this.leadingDimsPlus(s, x, [outDim])], { label: 'Tensordot' });
    return { output: s.op('Add', [unflat, bias], { label: 'BiasAdd' }), weight, bias, weightLayout: 'in-out' };
  }

  protected override layerNorm(ln: LayerNormParams, x: string, outputName?: string): LayerNormResult {
    const s = this.scope(ln.path);
    const scope = this.scopeName(ln.path);
    const gamma = this.store(`${scope}/batchnorm/mul/ReadVariableOp:0`, { kind: 'direct', param: ln.gamma });
    const beta = this.store(`${scope}/batchnorm/ReadVariableOp:0`, { kind: 'direct', param: ln.beta });
    const mean = s.reduceMean(x, [2], { label: 'moments/mean' });
    const diff = s.op('Sub', [mean, x], { label: 'moments/SquaredDifference_sub' });
    const variance = s.reduceMean(s.op('Mul', [diff, diff], { label: 'moments/SquaredDifference' }), [2], { label: 'moments/variance' });
    const stddev = s.op('Sqrt', [s.op('Add', [s.floatScalar(LAYER_NORM_EPSILON), variance], { label: 'batchnorm/add' })], { label: 'batchnorm/add_sqrt' });
    const scale = s.op('Mul', [s.op('Reciprocal', [stddev], { label: 'batchnorm/Rsqrt' }), gamma], { label: 'batchnorm/mul' });
    const shift = s.op('Sub', [beta, s.op('Mul', [scale, mean], { label: 'batchnorm/mul_2' })], { label: 'batchnorm/sub' });
    const output = s.op('Add', [s.op('Mul', [scale, x], { label: 'batchnorm/mul_1' }), shift], { label: 'batchnorm/add_1', ...named(outputName) });
    return { output, gamma, beta, form: 'decomposed-sqrt-reciprocal-mul' };
  }
}
