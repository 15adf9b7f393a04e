/**
 * Generator options, their defaults, and validation.
 *
 * `resolveOptions` turns the permissive public options into a complete, checked configuration, so
 * style code never sees an undefined field or an inconsistent combination.
 */
import { isPresetName, PRESETS, type ModelDimensions, type PresetName } from './presets.js';

/**
 * The exporter whose graph patterns a model reproduces:
 * - `pytorch`: torch.onnx (opset 11-14) of a Hugging Face BertModel: decomposed LayerNorm
 *   (ReduceMean/Sub/Pow/Sqrt/Div/Mul/Add), MatMul + bias-first Add, Erf GELU, mask arithmetic.
 * - `pytorch-layernorm-op`: the same export at opset 17, where LayerNorm is one LayerNormalization op.
 * - `tf`: keras2onnx/tf2onnx of a TF BERT: LayerNorm via Sqrt/Reciprocal/Mul, dense layers as
 *   2-D MatMul -> Reshape -> bias Add, constants as shared initializers, int32 inputs.
 * - `gemm`: dense layers as Reshape -> Gemm (transB=1, bias inside) -> Reshape.
 * - `ort-fused`: ONNX Runtime's optimizer output: com.microsoft SkipLayerNormalization with the
 *   residual folded in (optionally the projection bias too), BiasGelu/Gelu/FastGelu, FusedMatMul,
 *   optionally the com.microsoft Attention op.
 */
export type SyntheticStyle = 'pytorch' | 'pytorch-layernorm-op' | 'tf' | 'gemm' | 'ort-fused';
export const SYNTHETIC_STYLES: readonly SyntheticStyle[] = ['pytorch', 'pytorch-layernorm-op', 'tf', 'gemm', 'ort-fused'];

/** `pooled-classifier`: pooler + linear classifier producing `logits`; `none`: the encoder outputs. */
export type SyntheticHead = 'pooled-classifier' | 'none';

export interface InputNames {
  readonly inputIds: string;
  readonly attentionMask: string;
  readonly tokenTypeIds: string;
}

/** Common input naming conventions. */
export const INPUT_NAMINGS = {
  /** Hugging Face / torch.onnx. */
  hf: { inputIds: 'input_ids', attentionMask: 'attention_mask', tokenTypeIds: 'token_type_ids' },
  /** Google's original BERT (run_classifier.py feature names). */
  google: { inputIds: 'input_ids', attentionMask: 'input_mask', tokenTypeIds: 'segment_ids' },
  /** tf2onnx of a TF1 graph: tensor names carry the output index. */
  tf: { inputIds: 'input_ids:0', attentionMask: 'input_mask:0', tokenTypeIds: 'segment_ids:0' },
} as const satisfies Record<string, InputNames>;
export type InputNaming = keyof typeof INPUT_NAMINGS;

export interface OutputNames {
  /** The classifier output ('pooled-classifier' head). */
  readonly logits: string;
  /** The final hidden states [batch, seq, hidden] ('none' head). */
  readonly lastHiddenState: string;
  /** The pooler output [batch, hidden] ('none' head). */
  readonly poolerOutput: string;
}

export type OrtGelu = 'BiasGelu' | 'Gelu' | 'FastGelu';

export interface OrtFusedOptions {
  /** The GELU form: BiasGelu(MatMul, bias) (default), Gelu(MatMul + bias), or FastGelu(MatMul, bias) (tanh approximation). */
  readonly gelu?: OrtGelu;
  /** Pass the output projections' biases as SkipLayerNormalization's 5th input instead of an Add (default false). */
  readonly biasInSkipLayerNorm?: boolean;
  /** Replace Q/K/V projections and the attention core by one com.microsoft Attention op (default false). */
  readonly fusedAttention?: boolean;
}

export interface InitOptions {
  /** Standard deviation of weights and embeddings (BERT: 0.02). */
  readonly std?: number;
  /** Biases: random normal(0, std) (default, so a lost bias changes outputs) or zeros (BERT's init). */
  readonly biases?: 'normal' | 'zeros';
  /** LayerNorm gain/shift: identity (gamma 1, beta 0; BERT's init; default) or 1 + N(0, std) / N(0, std). */
  readonly layerNorm?: 'identity' | 'perturbed';
}

export interface SyntheticBertOptions extends Partial<ModelDimensions> {
  /** Start from these sizes (default 'tiny'); explicit dimension options override them. */
  readonly preset?: PresetName;
  readonly style?: SyntheticStyle;
  /** Default opset: pytorch 14, pytorch-layernorm-op 17, tf 13, gemm 14, ort-fused 14. Range 11-21. */
  readonly opset?: number;
  /** A static sequence length, or 'dynamic' (default) for a symbolic axis. */
  readonly seqLen?: number | 'dynamic';
  /** A static batch size, or 'dynamic' (default). */
  readonly batch?: number | 'dynamic';
  /** A naming convention or explicit names; default 'hf'. */
  readonly inputNames?: InputNaming | InputNames;
  /** Element type of the three inputs; default int32 for 'tf', int64 otherwise. */
  readonly inputType?: 'int64' | 'int32';
  readonly head?: SyntheticHead;
  /** Number of classifier labels for the 'pooled-classifier' head (default 2). */
  readonly labels?: number;
  readonly outputNames?: Partial<OutputNames>;
  /** Any non-negative safe integer; default 0. */
  readonly seed?: number;
  readonly init?: InitOptions;
  /**
   * Store equal constant-valued parameters once, as torch.onnx does (untrained LayerNorms, zero
   * biases): one initializer plus Identity nodes naming it per module; ort-fused references the shared
   * initializer directly. Not for 'tf'. Default false.
   */
  readonly sharedInitializers?: boolean;
  /** Only for style 'ort-fused'. */
  readonly ortFused?: OrtFusedOptions;
}

export interface ResolvedOptions extends ModelDimensions {
  readonly preset: PresetName | null;
  readonly style: SyntheticStyle;
  readonly opset: number;
  readonly seqLen: number | null;
  readonly batch: number | null;
  readonly inputNames: InputNames;
  readonly inputType: 'int64' | 'int32';
  readonly head: SyntheticHead;
  readonly labels: number;
  readonly outputNames: OutputNames;
  readonly seed: number;
  readonly init: Required<InitOptions>;
  readonly sharedInitializers: boolean;
  readonly ortFused: Required<OrtFusedOptions>;
}

export class SyntheticOptionsError extends Error {
  override readonly name = 'SyntheticOptionsError';
}

export const MIN_OPSET = 11;
export const MAX_OPSET = 21;

const DEFAULT_OPSET: Record<SyntheticStyle, number> = {
  pytorch: 14,
  'pytorch-layernorm-op': 17,
  tf: 13,
  gemm: 14,
  'ort-fused': 14,
};

export function resolveOptions(options: SyntheticBertOptions = {}): ResolvedOptions {
  const preset = options.preset ?? null;
  if (preset !== null && !isPresetName(preset)) fail(`unknown preset ${JSON.stringify(preset)} (expected tiny, base or large)`);
  const dims: ModelDimensions = { ...PRESETS[preset ?? 'tiny'] };
  const sized = {
    layers: positiveInt('layers', options.layers ?? dims.layers),
    hidden: positiveInt('hidden', options.hidden ?? dims.hidden),
    heads: positiveInt('heads', options.heads ?? dims.heads),
    ffn: positiveInt('ffn', options.ffn ?? dims.ffn),
    vocab: positiveInt('vocab', options.vocab ?? dims.vocab),
    maxPositions: positiveInt('maxPositions', options.maxPositions ?? dims.maxPositions),
    typeVocab: positiveInt('typeVocab', options.typeVocab ?? dims.typeVocab),
  };
  if (sized.hidden % sized.heads !== 0) fail(`hidden (${sized.hidden}) must be a multiple of heads (${sized.heads})`);

  const style = options.style ?? 'pytorch';
  if (!SYNTHETIC_STYLES.includes(style)) fail(`unknown style ${JSON.stringify(style)} (expected one of ${SYNTHETIC_STYLES.join(', ')})`);
  const opset = options.opset ?? DEFAULT_OPSET[style];
  if (!Number.isInteger(opset) || opset < MIN_OPSET || opset > MAX_OPSET) fail(`opset must be an integer in ${MIN_OPSET}..${MAX_OPSET}, got ${opset}`);

  const seqLen = staticOrDynamic('seqLen', options.seqLen);
  if (seqLen !== null && seqLen > sized.maxPositions) fail(`seqLen (${seqLen}) exceeds maxPositions (${sized.maxPositions})`);
  const batch = staticOrDynamic('batch', options.batch);

  const naming = options.inputNames ?? 'hf';
  let inputNames: InputNames;
  if (typeof naming === 'string') {
    if (!Object.hasOwn(INPUT_NAMINGS, naming)) fail(`unknown inputNames convention ${JSON.stringify(naming)} (expected hf, google or tf)`);
    inputNames = INPUT_NAMINGS[naming];
  } else {
    inputNames = { inputIds: naming.inputIds, attentionMask: naming.attentionMask, tokenTypeIds: naming.tokenTypeIds };
  }
  distinctNonEmpty('inputNames', Object.values(inputNames));

  const head = options.head ?? 'pooled-classifier';
  if (head !== 'pooled-classifier' && head !== 'none') fail(`unknown head ${JSON.stringify(head)} (expected pooled-classifier or none)`);
  const labels = positiveInt('labels', options.labels ?? 2);
  const outputNames: OutputNames = {
    logits: options.outputNames?.logits ?? 'logits',
    lastHiddenState: options.outputNames?.lastHiddenState ?? 'last_hidden_state',
    poolerOutput: options.outputNames?.poolerOutput ?? 'pooler_output',
  };
  distinctNonEmpty('outputNames', [outputNames.lastHiddenState, outputNames.poolerOutput]);
  if (outputNames.logits === '') fail('outputNames.logits must not be empty');
  for (const name of [outputNames.logits, outputNames.lastHiddenState, outputNames.poolerOutput]) {
    if (Object.values(inputNames).includes(name)) fail(`output name ${JSON.stringify(name)} is also an input name`);
  }

  const seed = options.seed ?? 0;
  if (!Number.isSafeInteger(seed) || seed < 0) fail(`seed must be a non-negative safe integer, got ${seed}`);

  const std = options.init?.std ?? 0.02;
  if (!(Number.isFinite(std) && std > 0)) fail(`init.std must be a positive number, got ${std}`);
  const init: Required<InitOptions> = {
    std,
    biases: options.init?.biases ?? 'normal',
    layerNorm: options.init?.layerNorm ?? 'identity',
  };

  const sharedInitializers = options.sharedInitializers ?? false;
  if (sharedInitializers && style === 'tf') fail(`sharedInitializers does not apply to style 'tf' (keras2onnx keeps one tensor per variable)`);

  if (options.ortFused !== undefined && style !== 'ort-fused') fail(`ortFused options apply only to style 'ort-fused', not '${style}'`);
  const ortFused: Required<OrtFusedOptions> = {
    gelu: options.ortFused?.gelu ?? 'BiasGelu',
    biasInSkipLayerNorm: options.ortFused?.biasInSkipLayerNorm ?? false,
    fusedAttention: options.ortFused?.fusedAttention ?? false,
  };
  if (!['BiasGelu', 'Gelu', 'FastGelu'].includes(ortFused.gelu)) fail(`unknown ortFused.gelu ${JSON.stringify(ortFused.gelu)}`);

  const inputType = options.inputType ?? (style === 'tf' ? 'int32' : 'int64');
  if (inputType !== 'int32' && inputType !== 'int64') fail(`inputType must be int32 or int64, got ${JSON.stringify(inputType)}`);

  return { ...sized, preset, style, opset, seqLen, batch, inputNames, inputType, head, labels, outputNames, seed, init, sharedInitializers, ortFused };
}

function fail(message: string): never {
  throw new SyntheticOptionsError(`synthetic BERT: ${message}`);
}

function positiveInt(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0) fail(`${name} must be a positive integer, got ${value}`);
  return value;
}

function staticOrDynamic(name: string, value: number | 'dynamic' | undefined): number | null {
  if (value === undefined || value === 'dynamic') return null;
  return positiveInt(name, value);
}

function distinctNonEmpty(what: string, names: readonly string[]): void {
  if (names.some((n) => typeof n !== 'string' || n === '')) fail(`${what} must be non-empty strings`);
  if (new Set(names).size !== names.length) fail(`${what} must be distinct, got ${names.join(', ')}`);
}
