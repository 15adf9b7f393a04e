/**
 * Export to AdapterHub (the `adapters` library, PyTorch): an adapter folder that
 * `model.load_adapter(folder)` loads onto the same pretrained model, as `save_adapter(folder, name,
 * use_safetensors=True)` writes it: adapter_config.json and adapter.safetensors, and, for a
 * classifier head, head_config.json and model_head.safetensors.
 *
 * The translation (checked against `adapters` 1.0.1 in the interop tier):
 *   - adapterc's bottleneck sits before the residual Add + LayerNorm, h + up(f(down(h))): AdapterHub's
 *     BnConfig with residual_before_ln, original_ln_after, and no original_ln_before (its
 *     DoubleSeqBnConfig when both sites hold adapters; its SeqBnConfig differs: original_ln_before);
 *   - `after attention` is mh_adapter, `after ffn` output_adapter; layers without adapters are
 *     leave_out; the size is hidden_size / reduction_factor;
 *   - weights are torch.nn.Linear's [out, in], the transpose of adapterc's MatMul [in, out];
 *   - `head classifier(labels N, from first_token | pooled)` is a one-layer classification head
 *     reading the first token (use_pooler false) or the model's pooler output (use_pooler true).
 * One AdapterHub config describes every layer alike, so adapters of different sizes, activations
 * or layer sets per site cannot be written; neither can trained LayerNorms of the model (an
 * AdapterHub adapter folder holds adapters and a head only). Each is ADP5070, naming the reason.
 * Module names are BERT's (`bert.encoder.layer.N.attention.output`, ...).
 */
import { AdapterError, diagnostic, type Diagnostic } from '../diagnostics/index.js';
import { readFloat32, type Tensor } from '../ir/index.js';
import { VERSION } from '../version.js';
import type { ArtifactsFolder } from './folder.js';
import { NON_LINEARITY, SEQ_BN } from '../adapterhub/config.js';
import { encodeSafetensors, transposed, type NamedFloats } from '../adapterhub/safetensors.js';


/** The files of an adapter folder: name → contents. */
export interface AdapterHubExport {
  readonly files: ReadonlyMap<string, Buffer>;
  readonly name: string;
  /** The AdapterHub configuration, as adapter_config.json's `config`. */
  readonly config: Readonly<Record<string, unknown>>;
  readonly adapters: number;
  readonly head: boolean;
  readonly warnings: readonly Diagnostic[];
}

interface SummaryAdapterFields {
  readonly layer: number;
  readonly site: string;
  readonly size: number;
  readonly activation?: string;
  readonly layerNorm?: boolean;
  readonly hiddenLayers?: number;
  readonly parallel?: number;
  readonly lora?: unknown;
  readonly ia3?: unknown;
}

/**
 * The AdapterHub folder for `tensors` (the trained parameters of `artifacts`), its adapter named
 * `name`. ADP5070 names what AdapterHub's format cannot hold.
 */
export function adapterHubFolder(artifacts: ArtifactsFolder, tensors: readonly Tensor[], name: string): AdapterHubExport {
  const { folder, summary } = artifacts;
  const refuse = (reason: string, fix: string) => new AdapterError([diagnostic('ADP5070', { folder, reason }, { file: folder }, fix)]);
  const adapters = summary.adapters as readonly SummaryAdapterFields[];
  if (adapters.length === 0) throw refuse('they have no adapters', 'place adapters in the spec');
  const projection = adapters.find((a) => a.lora !== undefined || a.ia3 !== undefined);
  if (projection) throw refuse(`layer ${projection.layer} ${projection.site} is ${projection.lora !== undefined ? 'a LoRA' : 'an (IA)³'} adapter, and adapterc writes AdapterHub folders of bottleneck adapters only`, "export the model itself ('adapterc export ARTIFACTS -o model.onnx', LoRA and (IA)³ folded into its weights) or an adapters file (--adapters-only)");
  if (adapters.some((a) => a.activation === undefined)) throw refuse('their summary.json does not say what the adapters compute (an older adapterc compiled them)', 'compile them again');
  const first = adapters[0]!;
  const differing = adapters.find((a) => a.size !== first.size || a.activation !== first.activation || a.layerNorm !== first.layerNorm || a.hiddenLayers !== first.hiddenLayers || a.parallel !== first.parallel);
  if (differing) throw refuse(`one AdapterHub configuration describes every adapter alike, but layer ${differing.layer} ${differing.site} differs from layer ${first.layer} ${first.site} (size, activation or layout)`, 'use one adapter definition in every placement');
  if (first.layerNorm) throw refuse("the adapters normalize their input ('layernorm'), which AdapterHub computes differently (ln_before, with its own epsilon)", "remove 'layernorm' from the adapter");
  if ((first.hiddenLayers ?? 1) !== 1) throw refuse(`the adapters have ${first.hiddenLayers} hidden layers; AdapterHub's have one`, 'use one hidden layer');
  const nonLinearity = NON_LINEARITY[first.activation!];
  if (nonLinearity === undefined) throw refuse(`AdapterHub has no activation '${first.activation}'`, `use one of ${Object.keys(NON_LINEARITY).join(', ')}`);
  const reduction = summary.hidden / first.size;
  // AdapterHub sizes the bottleneck as int(hidden_size // reduction_factor), Python's float floor division.
  if (pythonFloorDivide(summary.hidden, reduction) !== first.size) throw refuse(`size ${first.size} is not hidden size ${summary.hidden} divided by a reduction factor AdapterHub reproduces`, `use a size that divides ${summary.hidden}`);

  const layersAt = (site: string) => adapters.filter((a) => a.site === site).map((a) => a.layer);
  const [attention, ffn] = [layersAt('attention'), layersAt('ffn')];
  if (attention.length > 0 && ffn.length > 0 && attention.join(',') !== ffn.join(',')) {
    throw refuse('the attention and FFN adapters sit in different layers, but AdapterHub leaves out whole layers', 'place both in the same layers, or export one site');
  }
  const placed = attention.length > 0 ? attention : ffn;
  const leaveOut = Array.from({ length: summary.layers }, (_, i) => i).filter((l) => !placed.includes(l));

  const head = summary.head;
  const adapterNames = new Set(adapters.flatMap((a) => ['down', 'up'].flatMap((w) => ['weight', 'bias'].map((k) => `adapters.layer.${a.layer}.${a.site}.${w}.${k}`))));
  const headNames = head?.kind === 'classifier' ? new Set(['head.classifier.weight', 'head.classifier.bias']) : new Set<string>();
  const others = tensors.map((t) => t.name!).filter((n) => !adapterNames.has(n) && !headNames.has(n));
  if (others.length > 0) throw refuse(`AdapterHub's folders hold adapters and a head, but the artifacts also train ${others.length} other parameter(s) ('${others[0]}', …)`, "train only adapters and the head ('trainable adapters, head')");
  if (head?.kind === 'masked_lm') throw refuse('their masked_lm head has no AdapterHub counterpart', "export the encoder with 'adapterc export --without-head'");
  const warnings = head === undefined ? [diagnostic('ADP5071', { folder }, { file: folder })] : [];

  const byName = new Map(tensors.map((t) => [t.name!, t]));
  const linear = (from: string, to: string): NamedFloats[] => {
    const weight = byName.get(`${from}.weight`)!;
    const [rows, cols] = weight.dims as [number, number];
    return [
      { name: `${to}.weight`, dims: [cols, rows], values: transposed(readFloat32(weight), rows, cols) },
      { name: `${to}.bias`, dims: [cols], values: readFloat32(byName.get(`${from}.bias`)!) },
    ];
  };
  const weights = adapters.flatMap((a) => {
    const module = `bert.encoder.layer.${a.layer}.${a.site === 'attention' ? 'attention.output' : 'output'}.adapters.${name}`;
    const prefix = `adapters.layer.${a.layer}.${a.site}`;
    return [...linear(`${prefix}.down`, `${module}.adapter_down.0`), ...linear(`${prefix}.up`, `${module}.adapter_up`)];
  });

  // BnConfig's fields (AdapterHub's defaults, from the translation's table), with adapterc's placement
  // and this model's values; keys sorted, as save_adapter writes them.
  const fields: Record<string, unknown> = {
    ...SEQ_BN,
    is_parallel: first.parallel !== undefined,
    leave_out: leaveOut,
    mh_adapter: attention.length > 0,
    non_linearity: nonLinearity,
    original_ln_before: false,
    output_adapter: ffn.length > 0,
    reduction_factor: reduction,
    scaling: first.parallel ?? 1.0,
  };
  const config = Object.fromEntries(Object.keys(fields).sort().map((k) => [k, fields[k]]));
  // What save_adapter writes beside the config; model_class must be the flex-head model's for the head to load.
  const about = { hidden_size: summary.hidden, model_class: 'BertAdapterModel', model_name: summary.model ?? '', model_type: 'bert', name, version: `adapterc ${VERSION}` };
  // Python reads `1` as an int, and AdapterHub takes only a float scaling (and writes its floats as such).
  const json = (value: object) => Buffer.from(`${JSON.stringify(value, null, 2).replace(/^(\s*"(?:scaling|dropout)": )(-?\d+)(,?)$/gm, '$1$2.0$3')}\n`, 'utf8');
  const files = new Map<string, Buffer>([
    ['adapter_config.json', json({ config, ...about })],
    ['adapter.safetensors', encodeSafetensors(weights, { format: 'pt' })],
  ]);
  if (head?.kind === 'classifier') {
    const labels = Object.fromEntries(Array.from({ length: head.labels }, (_, i) => [`LABEL_${i}`, i]));
    const headConfig = { activation_function: 'tanh', bias: true, dropout_prob: null, head_type: 'classification', label2id: labels, layers: 1, num_labels: head.labels, use_pooler: head.from === 'pooled' };
    files.set('head_config.json', json({ config: headConfig, ...about }));
    // A one-layer head is Sequential(Dropout, Linear): the Linear is module 1.
    files.set('model_head.safetensors', encodeSafetensors(linear('head.classifier', `heads.${name}.1`), { format: 'pt' }));
  }
  return { files, name, config, adapters: adapters.length, head: head?.kind === 'classifier', warnings };
}

/** Python's float `a // b` (CPython's float_floor_div): the floor of the exact quotient, which a rounded `a / b` can miss (32 // 6.4 is 4.0). */
function pythonFloorDivide(a: number, b: number): number {
  const mod = a % b; // fmod, exact
  let div = (a - mod) / b;
  if (mod !== 0 && b < 0 !== mod < 0) div -= 1;
  const floor = Math.floor(div);
  return div - floor > 0.5 ? floor + 1 : floor;
}

