/**
 * What discovery finds in a BERT-style encoder: the two adapter sites of every layer, the
 * LayerNorms, the model's inputs and outputs. Everything is named by graph value names, so the
 * rewrite stage can act on it directly.
 */
import type { Node } from '../ir/index.js';
import type { BlockSite, ProjectionSite } from '../check/plan.js';

/** How a LayerNorm is written in the graph. */
export type LayerNormForm =
  | 'LayerNormalization' // the ONNX op (or ORT's own at opsets below 17)
  | 'SkipLayerNormalization' // com.microsoft: residual Add folded in
  | 'EmbedLayerNormalization' // com.microsoft: the embedding lookups and sum folded in
  | 'decomposed'; // ReduceMean/Sub/Pow/Sqrt/Div/Mul/Add (PyTorch) or ReduceMean/Sqrt/Reciprocal/Mul (TensorFlow)

export interface LayerNorm {
  readonly form: LayerNormForm;
  /** The normalized value that leaves the LayerNorm. */
  readonly output: string;
  /** The value normalized; for Skip- and EmbedLayerNormalization the sum is internal and this is ''. */
  readonly input: string;
  /** The nodes that make it up (one for the ops). */
  readonly nodes: readonly Node[];
  /** Scale (gamma) and shift (beta): graph value names, usually initializers (maybe via Identity). */
  readonly scale: string | undefined;
  readonly bias: string | undefined;
  /** Length of gamma/beta: the hidden size. */
  readonly width: number | undefined;
}

/** The place an adapter goes: the output projection's result just before the residual Add + LayerNorm. */
export interface AdapterSite {
  readonly layer: number;
  readonly site: BlockSite;
  /**
   * The site tensor: the projection's output after its bias. When the bias is folded into a
   * SkipLayerNormalization (`foldedBias`), the projection's output without it.
   */
  readonly value: string;
  /** The node that adds the residual: an Add, or the SkipLayerNormalization. */
  readonly residualNode: Node;
  /** Which input of `residualNode` is `value`. */
  readonly inputIndex: number;
  /** The other operand: the residual stream. */
  readonly residual: string;
  /** The projection bias folded into SkipLayerNormalization's 5th input, if any. */
  readonly foldedBias: string | undefined;
  /** The LayerNorm the residual sum feeds. */
  readonly layerNorm: LayerNorm;
  /** The output projection's weight, when it is a constant (2-D). */
  readonly projectionWeight: string | undefined;
  /**
   * A bottleneck adapter adapterc already inserted here (a model it compiled or exported): `value`
   * is its output; it adds up(f(down(input))) to `input`, the projection's result.
   */
  readonly adapter?: ExistingAdapter;
}

export interface ExistingAdapter {
  /** Its parameters' common prefix, e.g. `adapters.layer.3.ffn`. */
  readonly prefix: string;
  /** Bottleneck width: the down-projection's output size. */
  readonly size: number;
  /** The value the adapter reads and adds to (the projection's result). */
  readonly input: string;
}

/**
 * A projection inside a layer (see projections.ts): `output` = node(input) · W (+ bias), with W
 * [inFeatures, outFeatures]. Where the query, key and value weights are column slices of one packed
 * weight (ONNX Runtime's fused Attention; torch.nn.MultiheadAttention's in_proj MatMul), `packed`
 * says which slice, where the weight and bias are read, and `output` is ''.
 */
export interface Projection {
  readonly site: ProjectionSite;
  readonly layer: number;
  readonly node: Node;
  /** The value multiplied by the weight. */
  readonly input: string;
  /** The result, after the projection's bias when an Add of a constant follows the MatMul. */
  readonly output: string;
  /** The weight's graph value (an initializer, or its Transpose). */
  readonly weight: string;
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly packed: PackedSlice | undefined;
}

export interface PackedSlice {
  readonly offset: number;
  /** Columns of the whole packed weight. */
  readonly total: number;
  /** Where the packed weight [in, total] and its bias [total] are read: a node and an input index. */
  readonly weight: { readonly node: Node; readonly index: number };
  readonly bias: { readonly node: Node; readonly index: number } | undefined;
}

/** The FFN's intermediate activation: the FFN out projection's input. */
export interface IntermediateActivation {
  readonly value: string;
  readonly width: number;
  readonly consumer: Node;
}

export type LayerProjections = { readonly [K in ProjectionSite]?: Projection } & { readonly intermediate?: IntermediateActivation };

export interface TransformerLayer {
  readonly index: number;
  readonly attention: AdapterSite | undefined;
  readonly ffn: AdapterSite | undefined;
}

export type InputRole = 'input_ids' | 'attention_mask' | 'token_type_ids' | 'position_ids' | 'hidden_states' | 'other';
export type OutputRole = 'logits' | 'pooled_output' | 'last_hidden_state' | 'other';

export interface ModelInput {
  readonly name: string;
  readonly role: InputRole;
}
export interface ModelOutput {
  readonly name: string;
  readonly role: OutputRole;
}

export interface Discovery {
  readonly hidden: number;
  readonly layers: readonly TransformerLayer[];
  /** Each layer's projections (by layer index), for LoRA and (IA)³. */
  readonly projections: readonly LayerProjections[];
  /** Attention heads and FFN (intermediate) size, where the graph makes them plain. */
  readonly heads: number | undefined;
  readonly ffn: number | undefined;
  readonly embeddingLayerNorm: LayerNorm | undefined;
  /** Every LayerNorm, in the order found: layer ones, the embedding one, and others (e.g. an MLM head's). */
  readonly layerNorms: readonly LayerNorm[];
  /** The last layer's output (the encoder's last hidden state). */
  readonly lastHiddenState: string;
  /** The pooler's output (tanh of a dense layer on the first token), when the model has one. */
  readonly pooledOutput: string | undefined;
  readonly inputs: readonly ModelInput[];
  readonly outputs: readonly ModelOutput[];
  /** Float parameters (initializers), each shared tensor counted once. */
  readonly parameterCount: number;
  /** Things seen but not classified, in words, for `adapterc inspect`. */
  readonly notes: readonly string[];
}
