/**
 * The contract between the BERT composition (../bert.ts) and an exporter style, plus what all styles
 * share: logical parameters (one random stream per Hugging Face parameter name, so every style holds
 * the same weights for a seed and computes the same function) and module paths.
 */
import type { GraphBuilder, Scope, ValueInfo } from '../builder.js';
import type { SiteDescription } from '../manifest.js';
import type { ResolvedOptions } from '../options.js';
import { paramTensor, type LogicalParam, type ParamInit, type ParamLayout } from '../tensors.js';

/** A module path in Hugging Face's BertModel, e.g. ['encoder', 'layer.0', 'attention', 'self', 'query']. */
export type ModulePath = readonly string[];

export interface ModelInputs {
  readonly inputIds: string;
  readonly attentionMask: string;
  readonly tokenTypeIds: string;
}

export type SiteKind = 'attention' | 'ffn';

/** What a sublayer's output projection + residual + LayerNorm produced. */
export interface SiteResult {
  /** The LayerNorm output. */
  readonly output: string;
  readonly site: Omit<SiteDescription, 'layer' | 'kind'>;
}

/** A dense layer's logical parameters: kernel [in, out] and bias [out]. */
export interface DenseParams {
  readonly path: ModulePath;
  readonly kernel: LogicalParam;
  readonly bias: LogicalParam;
}

export interface LayerNormParams {
  readonly path: ModulePath;
  readonly gamma: LogicalParam;
  readonly beta: LogicalParam;
}

/** Parameters that torch.onnx would deduplicate: constant-initialized ones (untrained LayerNorms, zero biases). */
function shareKey(layout: ParamLayout): string | null {
  if (layout.kind !== 'direct' || layout.param.init.kind !== 'constant') return null;
  return `${layout.param.init.value}|${layout.param.shape.join('x')}`;
}

/** BERT's LayerNorm epsilon (Hugging Face layer_norm_eps); float32 1e-12 as exporters store it. */
export const LAYER_NORM_EPSILON = 1e-12;
/** The additive mask value for padded positions used by BERT exports (and ORT's Attention op default). */
export const MASK_FILTER_VALUE = -10000;

export function layerPath(layer: number, ...rest: string[]): ModulePath {
  return ['encoder', `layer.${layer}`, ...rest];
}

/** The module whose projection feeds each site, and its LayerNorm. */
export function siteModules(layer: number, kind: SiteKind): { dense: ModulePath; layerNorm: ModulePath } {
  return kind === 'attention'
    ? { dense: layerPath(layer, 'attention', 'output', 'dense'), layerNorm: layerPath(layer, 'attention', 'output', 'LayerNorm') }
    : { dense: layerPath(layer, 'output', 'dense'), layerNorm: layerPath(layer, 'output', 'LayerNorm') };
}

/**
 * A style builds each piece of BERT with its exporter's operators and names. The composition calls
 * the hooks in graph order; each returns the name of the tensor it produced.
 */
export abstract class BertStyle {
  protected readonly hasClassifier: boolean;

  constructor(
    protected readonly b: GraphBuilder,
    protected readonly o: ResolvedOptions,
  ) {
    this.hasClassifier = o.head === 'pooled-classifier';
  }

  /** Word + position + token type embeddings, normalized: [batch, seq, hidden]. */
  abstract embeddings(inputs: ModelInputs): string;
  /** Whatever the style's attention consumes as the mask (an additive bias, or a mask index). */
  abstract attentionMask(inputs: ModelInputs): string;
  /** Multi-head self-attention up to (not including) the output projection: [batch, seq, hidden]. */
  abstract selfAttention(layer: number, x: string, mask: string): string;
  /** Dense to the intermediate size and GELU: [batch, seq, ffn]. */
  abstract intermediate(layer: number, x: string): string;
  /** Output projection + bias, residual Add, LayerNorm. `outputName` names the result (graph output). */
  abstract outputSublayer(layer: number, kind: SiteKind, x: string, residual: string, outputName?: string): SiteResult;
  /** tanh(dense(hidden[:, 0])): [batch, hidden]. */
  abstract pooler(hidden: string, outputName?: string): string;
  /** dense(pooled): [batch, labels], named `outputName`. */
  abstract classifier(pooled: string, outputName: string): string;

  /** The order of the graph inputs (exporters differ; consumers must not depend on it). */
  orderInputs(inputs: readonly ValueInfo[]): ValueInfo[] {
    return [...inputs];
  }

  /** The graph name of a module's scope (for node names). */
  protected abstract scopeName(path: ModulePath): string;

  protected scope(path: ModulePath): Scope {
    return this.b.at(this.scopeName(path));
  }

  // ---- logical parameters -------------------------------------------------------------------------

  /** The random stream id of a parameter: its Hugging Face BertModel name. */
  protected paramId(path: ModulePath, leaf: string): string {
    return [...path, leaf].join('.');
  }

  protected logical(path: ModulePath, leaf: string, shape: readonly number[], init: ParamInit): LogicalParam {
    return { id: this.paramId(path, leaf), shape, init };
  }

  protected dense(path: ModulePath, inDim: number, outDim: number): DenseParams {
    const std = this.o.init.std;
    return {
      path,
      kernel: this.logical(path, 'weight', [inDim, outDim], { kind: 'normal', std }),
      bias: this.logical(path, 'bias', [outDim], this.o.init.biases === 'zeros' ? { kind: 'constant', value: 0 } : { kind: 'normal', std }),
    };
  }

  protected layerNormParams(path: ModulePath): LayerNormParams {
    const n = this.o.hidden;
    const std = this.o.init.std;
    const perturbed = this.o.init.layerNorm === 'perturbed';
    return {
      path,
      gamma: this.logical(path, 'weight', [n], perturbed ? { kind: 'perturbed', value: 1, std } : { kind: 'constant', value: 1 }),
      beta: this.logical(path, 'bias', [n], perturbed ? { kind: 'normal', std } : { kind: 'constant', value: 0 }),
    };
  }

  protected embeddingTable(name: 'word_embeddings' | 'position_embeddings' | 'token_type_embeddings', rows: number): LogicalParam {
    return this.logical(['embeddings', name], 'weight', [rows, this.o.hidden], { kind: 'normal', std: this.o.init.std });
  }

  /** Constant-valued parameters already stored, by value and shape (for `sharedInitializers`). */
  private readonly sharedParams = new Map<string, string>();

  /** Stores a parameter initializer and returns the name its consumers use. */
  protected store(name: string, layout: ParamLayout): string {
    const key = this.o.sharedInitializers ? shareKey(layout) : null;
    if (key !== null) {
      const shared = this.sharedParams.get(key);
      if (shared !== undefined) return this.aliasShared(shared, name);
      this.sharedParams.set(key, name);
    }
    return this.b.initializer(paramTensor(name, layout, this.o.seed));
  }

  /**
   * How a parameter equal to an already stored one is referenced. torch.onnx stores the tensor once
   * and gives every other module an Identity of it, at the top of the graph (the corpus's
   * minibert_shared_layernorm model).
   */
  protected aliasShared(shared: string, name: string): string {
    return this.b.node('', 'Identity', [shared], 1, { outputs: [name], atStart: true })[0]!;
  }

  // ---- shapes ---------------------------------------------------------------------------------------

  /** True when batch and sequence are both static, so exporters fold shape computations to constants. */
  protected get fullyStatic(): boolean {
    return this.o.batch !== null && this.o.seqLen !== null;
  }

  protected get headDim(): number {
    return this.o.hidden / this.o.heads;
  }
}
