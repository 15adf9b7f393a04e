/**
 * The plan: what a checked spec means, with every default filled in and every value typed. Later
 * stages read only this, never the syntax tree. Spans are kept so that checks which need the model
 * (done in bind.ts) can still point at the spec line that caused them.
 */
import type { SourceSpan } from '../diagnostics/index.js';

export const activations = ['gelu', 'relu', 'tanh', 'swish', 'silu', 'identity'] as const;
export type Activation = (typeof activations)[number];

/** `attention`: the attention output projection's result; `ffn`: the feed-forward output's. Both before the residual Add + LayerNorm. */
export const blockSites = ['attention', 'ffn'] as const;
/**
 * The projections inside a layer that LoRA adapts in place (`place NAME on …`): attention's query,
 * key and value, its output projection, and the feed-forward block's in and out projections.
 */
export const projectionSites = ['query', 'key', 'value', 'attention_output', 'ffn_in', 'ffn_out'] as const;
/** Where (IA)³ rescales: the key and value projections' outputs and the FFN's intermediate activation. */
export const ia3Sites = ['key', 'value', 'intermediate'] as const;
export const sites = [...blockSites, ...projectionSites, 'intermediate'] as const;
export type Site = (typeof sites)[number];
export type BlockSite = (typeof blockSites)[number];
export type ProjectionSite = (typeof projectionSites)[number];

export function isBlockSite(site: Site): site is BlockSite {
  return site === 'attention' || site === 'ffn';
}

/** Bottleneck width: absolute, or the hidden size divided by a factor (checked against the model). */
export type BottleneckSize = { readonly kind: 'absolute'; readonly units: number } | { readonly kind: 'reduction'; readonly factor: number };

export type Initializer =
  /** Weights ~ N(0, std²), redrawn outside ±truncate·std when truncate is set; biases zero. */
  | { readonly kind: 'normal'; readonly std: number; readonly truncate: number | undefined }
  /** The up-projection is zero, so the adapter starts as an exact identity; down ~ N(0, std²). */
  | { readonly kind: 'identity'; readonly std: number }
  /**
   * AdapterHub's `mam_adapter` initialization (its par_bn default, from He et al. 2022's code): the
   * down-projection Kaiming-uniform with a = √5, U(±1/√fan_in); up-projection and biases zero.
   */
  | { readonly kind: 'mam' }
  /** The values an AdapterHub adapter folder holds for each layer and site (`init adapterhub(folder "…")`); `folder` is absolute. */
  | { readonly kind: 'adapterhub'; readonly folder: string; readonly span: SourceSpan };

/**
 * `sequential`: the paper's adapter, h + up(f(down(h))) on the sub-layer's output h.
 * `parallel` (He et al. 2022; AdapterHub's par_bn): the sub-layer's output plus s · up(f(down(x)))
 * of the sub-layer's input x, beside it rather than after it.
 */
export type AdapterForm =
  | { readonly kind: 'sequential' }
  | { readonly kind: 'parallel'; readonly scaling: number }
  /**
   * LoRA (Hu et al. 2021) on a projection W: W + (alpha / rank) · A·B with A [in, rank] and B
   * [rank, out], computed beside it as (alpha / rank) · (x·A)·B. `size` holds the rank. B starts at
   * zero (the `mam` init: A Kaiming-uniform, as PEFT draws it), so the model starts unchanged.
   */
  | { readonly kind: 'lora'; readonly rank: number; readonly alpha: number }
  /** (IA)³ (Liu et al. 2022): a learned vector, starting at ones, multiplying the site's values elementwise. */
  | { readonly kind: 'ia3' };

export interface AdapterDefinition {
  readonly name: string;
  readonly size: BottleneckSize;
  readonly activation: Activation;
  readonly init: Initializer;
  /** A LayerNorm on the adapter's input, before the down-projection (an ablation of the paper). */
  readonly layerNorm: boolean;
  /** Number of hidden (bottleneck) layers; 1 is the paper's adapter. */
  readonly hiddenLayers: number;
  /** Where it computes: in sequence (h + up(f(down(h))) on the sub-layer's output), or beside the sub-layer (`parallel`). */
  readonly form: AdapterForm;
  readonly span: SourceSpan;
}

/** One item of a layer list: an index or an inclusive range; negative numbers count from the top (-1 = last). */
export interface LayerRange {
  readonly start: number;
  readonly end: number;
  readonly span: SourceSpan;
}
export type LayerSelector =
  | { readonly kind: 'all'; readonly except: readonly LayerRange[]; readonly span: SourceSpan }
  | { readonly kind: 'list'; readonly items: readonly LayerRange[]; readonly span: SourceSpan };

export interface Placement {
  readonly adapter: AdapterDefinition;
  readonly site: Site;
  readonly layers: LayerSelector;
  readonly span: SourceSpan;
}

export interface TrainableSet {
  /** Always true: adapters always train. */
  readonly adapters: true;
  /** Which layers' LayerNorms train (and the embedding LayerNorm when the selector is `all`); undefined when none. */
  readonly layerNorm: LayerSelector | undefined;
  readonly head: boolean;
  readonly embeddings: boolean;
  /** Full fine-tuning: every parameter of the model trains (the baseline adapters are compared with). */
  readonly all: boolean;
}

export type Head =
  /** Keep the model's own output, e.g. `logits`; `output` names it when the model has several. */
  | { readonly kind: 'output'; readonly output: string | undefined }
  /** Add a linear classifier on the pooled output or the first token's final hidden state. */
  | {
      readonly kind: 'classifier';
      readonly labels: number;
      readonly from: 'pooled' | 'first_token';
      /** Start from the head an AdapterHub adapter folder holds (`adapterhub "folder"`); absolute. */
      readonly adapterhub?: { readonly folder: string; readonly span: SourceSpan };
    }
  /**
   * Masked-language-model pretraining (BERT's efficient form): the training graph takes the masked
   * positions (flat indices into batch × sequence) and their token ids; a new dense layer
   * hidden → vocabulary scores those rows of the last hidden state, under cross-entropy.
   */
  | { readonly kind: 'masked_lm' };

export type Loss = 'cross_entropy' | 'mse';

export type ParameterKind = 'bias' | 'layernorm';
export type Optimizer =
  | {
      readonly kind: 'adamw';
      readonly lr: number;
      readonly betas: readonly [number, number];
      readonly eps: number;
      readonly weightDecay: number;
      /** Parameter kinds that get no weight decay. */
      readonly noDecay: readonly ParameterKind[];
    }
  | { readonly kind: 'sgd'; readonly lr: number };

export type Schedule =
  | { readonly kind: 'constant' }
  /** Linear warmup to the optimizer's lr, then linear decay to zero (Houlsby et al.). */
  | { readonly kind: 'linear'; readonly warmup: { readonly steps: number } | { readonly fraction: number } };

export type Target = 'cuda' | 'cpu';

export interface Plan {
  /** The spec file the plan was checked from, and every file it imports, in load order. */
  readonly file: string;
  readonly sources: readonly string[];
  readonly adapters: readonly AdapterDefinition[];
  readonly placements: readonly Placement[];
  readonly trainable: TrainableSet;
  readonly head: Head;
  readonly loss: Loss;
  readonly optimizer: Optimizer;
  readonly schedule: Schedule;
  readonly target: Target;
  readonly seed: number;
}
