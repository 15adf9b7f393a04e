/**
 * What a generated model contains, stated by the generator: the ground truth that tests compare the
 * compiler's model discovery against (layer count, adapter sites, the tensors at each site).
 */
import type { ModelDimensions, PresetName } from './presets.js';
import type { InputNames, SyntheticHead, SyntheticStyle } from './options.js';

/** How a site's LayerNorm appears in the graph. */
export type LayerNormForm = 'decomposed-pow-sqrt-div' | 'decomposed-sqrt-reciprocal-mul' | 'LayerNormalization' | 'SkipLayerNormalization';

/**
 * One Houlsby adapter site: a sublayer's output projection, whose result (projection + bias) is added
 * to the residual and normalized. An adapter goes between the projection and the residual Add.
 */
export interface SiteDescription {
  readonly layer: number;
  readonly kind: 'attention' | 'ffn';
  /** Initializer names of the output projection (the weight as stored: see `weightLayout`). */
  readonly weight: string;
  readonly bias: string;
  /** [in, out] for MatMul; [out, in] for Gemm with transB=1. */
  readonly weightLayout: 'in-out' | 'out-in';
  /**
   * The tensor holding projection + bias, shaped [batch, seq, hidden]; null where no such tensor exists
   * because the bias is folded into SkipLayerNormalization (ort-fused with biasInSkipLayerNorm).
   */
  readonly projectionOutput: string | null;
  /** The sublayer's input, added back by the residual connection. */
  readonly residual: string;
  readonly layerNorm: {
    readonly form: LayerNormForm;
    readonly gamma: string;
    readonly beta: string;
    /** The normalized output (the next sublayer's input). */
    readonly output: string;
  };
}

export interface TensorDescription {
  readonly name: string;
  readonly elemType: 'float32' | 'int32' | 'int64';
  /** Static sizes as numbers, symbolic axes as strings. */
  readonly shape: readonly (number | string)[];
}

export interface SyntheticBertManifest extends ModelDimensions {
  readonly generator: 'adapterc-synth';
  readonly preset: PresetName | null;
  readonly style: SyntheticStyle;
  readonly opset: number;
  readonly irVersion: number;
  readonly seed: number;
  readonly head: SyntheticHead;
  /** Classifier labels; null without a classifier head. */
  readonly labels: number | null;
  readonly sites: { readonly attention: number; readonly ffn: number };
  /** Every site, in graph order: layer 0 attention, layer 0 ffn, layer 1 attention, ... */
  readonly siteDetails: readonly SiteDescription[];
  /** Graph input names in graph order (styles order them differently). */
  readonly inputNames: readonly string[];
  /** Which input is which. */
  readonly inputRoles: InputNames;
  readonly outputNames: readonly string[];
  readonly inputs: readonly TensorDescription[];
  readonly outputs: readonly TensorDescription[];
  /** Trained float32 parameters (embeddings, weights, biases, LayerNorms, pooler, classifier). */
  readonly parameterCount: number;
  /** Bytes of all initializers (parameters and constants) as stored. */
  readonly initializerBytes: number;
  readonly initializerCount: number;
  readonly nodeCount: number;
  /** Node count by operator ('Add', 'com.microsoft.SkipLayerNormalization', ...). */
  readonly operators: Readonly<Record<string, number>>;
}
