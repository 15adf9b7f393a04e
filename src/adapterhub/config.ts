/**
 * AdapterHub configurations as adapterc spec text. AdapterHub (`adapters`) names an adapter by a
 * config string (`double_seq_bn[reduction_factor=16]`, Python literals in brackets) or a config dict
 * (adapter_config.json's `config`); adapterc's spec says the same with an adapter definition and
 * place statements. This translates the bottleneck family (`seq_bn`, `double_seq_bn` and the BnConfig
 * dicts they resolve to) and names, as a diagnostic, each option the spec cannot express.
 *
 * What maps (checked against `adapters` 1.0.1 in the interop tier):
 *   mh_adapter / output_adapter     place … after attention / after ffn
 *   reduction_factor (or a per-layer dict: "default" and layer numbers)   reduction N
 *   non_linearity                   activation (swish, silu, relu, tanh, gelu; linear is identity)
 *   init_weights "bert"             init normal(std 0.02): torch normal_ on both projections, biases zero
 *   init_weights "mam_adapter"      init mam: Kaiming-uniform down-projection, the rest zero
 *   is_parallel, scaling            parallel(scaling S): beside the sub-layer (par_bn, He et al. 2022)
 *   leave_out                       layers all except …
 * and the placement adapterc computes (before the residual Add + LayerNorm, h + up(f(down(h)))):
 * original_ln_before false, original_ln_after true, scaling 1, no gating, no adapter LayerNorm.
 * `seq_bn` (Pfeiffer) sets original_ln_before: AdapterHub applies the model's Add + LayerNorm before
 * the adapter and again after it, a placement adapterc has no rule for; it is named as such.
 */
import { diagnostic, type Diagnostic } from '../diagnostics/index.js';
import { LiteralError, parseKeywordArguments, type PythonValue } from './python-literal.js';

export type AdapterHubConfig = Readonly<Record<string, PythonValue>>;

/** BnConfig's fields as `adapters` 1.0.1's SeqBnConfig().to_dict() gives them. */
export const SEQ_BN: AdapterHubConfig = {
  mh_adapter: false, output_adapter: true, reduction_factor: 16, non_linearity: 'relu', original_ln_before: true, original_ln_after: true,
  ln_before: false, ln_after: false, init_weights: 'bert', is_parallel: false, scaling: 1.0, use_gating: false, residual_before_ln: true,
  adapter_residual_before_ln: false, inv_adapter: null, inv_adapter_reduction_factor: null, cross_adapter: false, leave_out: [], dropout: 0.0,
  phm_layer: false, phm_dim: 4, factorized_phm_W: true, shared_W_phm: false, shared_phm_rule: true, factorized_phm_rule: false,
  phm_c_init: 'normal', phm_init_range: 0.0001, learn_phm: true, hypercomplex_nonlinearity: 'glorot-uniform', phm_rank: 1, phm_bias: true,
};
const DOUBLE_SEQ_BN: AdapterHubConfig = { ...SEQ_BN, mh_adapter: true, non_linearity: 'swish', original_ln_before: false };
const PAR_BN: AdapterHubConfig = { ...SEQ_BN, reduction_factor: 2, original_ln_before: false, init_weights: 'mam_adapter', is_parallel: true, scaling: 4.0 };

/** AdapterHub's config names (ADAPTER_CONFIG_MAP) of the sequential bottleneck, with the deprecated aliases. */
export const NAMED_CONFIGS: Readonly<Record<string, { readonly config: AdapterHubConfig; readonly className: string }>> = {
  double_seq_bn: { config: DOUBLE_SEQ_BN, className: 'DoubleSeqBnConfig' },
  houlsby: { config: DOUBLE_SEQ_BN, className: 'DoubleSeqBnConfig' },
  seq_bn: { config: SEQ_BN, className: 'SeqBnConfig' },
  pfeiffer: { config: SEQ_BN, className: 'SeqBnConfig' },
  par_bn: { config: PAR_BN, className: 'ParBnConfig' },
  parallel: { config: PAR_BN, className: 'ParBnConfig' },
};

/** AdapterHub's other methods: named so that the message says what they are (issue-sized work, not a typo). */
const OTHER_METHODS: Readonly<Record<string, string>> = {
  scaled_par_bn: 'a parallel bottleneck with a learned scaling', scaled_parallel: 'a parallel bottleneck with a learned scaling',
  seq_bn_inv: 'a bottleneck with invertible adapters', double_seq_bn_inv: 'a bottleneck with invertible adapters', 'pfeiffer+inv': 'a bottleneck with invertible adapters', 'houlsby+inv': 'a bottleneck with invertible adapters',
  compacter: 'Compacter (PHM layers)', 'compacter++': 'Compacter (PHM layers)', lora: 'LoRA', ia3: '(IA)³', prefix_tuning: 'prefix tuning', prefix_tuning_flat: 'prefix tuning',
  prompt_tuning: 'prompt tuning', loreft: 'ReFT', noreft: 'ReFT', direft: 'ReFT', mam: 'a Mix-and-Match union', unipelt: 'a UniPELT union',
};

/** AdapterHub's non_linearity names (transformers' ACT2FN) → the spec's activations, and back. */
const ACTIVATIONS: Readonly<Record<string, string>> = { swish: 'swish', silu: 'silu', relu: 'relu', tanh: 'tanh', gelu: 'gelu', linear: 'identity' };
export const NON_LINEARITY: Readonly<Record<string, string>> = Object.fromEntries(Object.entries(ACTIVATIONS).map(([hub, spec]) => [spec, hub]));

/** The spec's activation name for a config's non_linearity, or undefined when the spec has none. */
export function specActivation(config: AdapterHubConfig): string | undefined {
  return ACTIVATIONS[String(config['non_linearity'])];
}

export interface Translation {
  /** The spec text (adapter definition and place statements), or undefined when a diagnostic is an error. */
  readonly text: string | undefined;
  readonly diagnostics: readonly Diagnostic[];
  /** The resolved AdapterHub config dict the text was made from. */
  readonly config: AdapterHubConfig | undefined;
}

/**
 * Resolves a config string (`name` or `name[key=value, ...]`) as `adapters` does: the named config's
 * fields, then the given ones. `source` names where it came from in messages.
 */
export function resolveConfigString(text: string, source: string): { config?: AdapterHubConfig; name?: string; diagnostics: Diagnostic[] } {
  const where = { file: source };
  const fail = (reason: string, fix: string) => ({ diagnostics: [diagnostic('ADP6001', { source, reason }, where, fix)] });
  if (text.includes('|')) return fail(`'${text}' joins several configs with '|' (a ConfigUnion)`, 'translate each config on its own');
  const m = /^\s*([^[\]\s]+)\s*(?:\[(.*)\])?\s*$/s.exec(text);
  if (!m) return fail(`'${text}' is not of the form name or name[key=value, ...]`, "write it as AdapterHub does, e.g. double_seq_bn[reduction_factor=16, non_linearity='relu']");
  const name = m[1]!;
  const named = NAMED_CONFIGS[name];
  if (named === undefined) {
    const other = OTHER_METHODS[name];
    return fail(other ? `'${name}' is ${other}, which adapterc does not build yet` : `AdapterHub has no config named '${name}'`, `use one of ${Object.keys(NAMED_CONFIGS).join(', ')}`);
  }
  let options: Record<string, PythonValue>;
  try {
    options = m[2] === undefined ? {} : parseKeywordArguments(m[2]);
  } catch (error) {
    if (!(error instanceof LiteralError)) throw error;
    return fail(`its options cannot be read: ${error.message}`, "write Python literals, as AdapterHub reads them (quote strings: non_linearity='relu')");
  }
  const unknown = Object.keys(options).find((k) => !(k in named.config));
  if (unknown !== undefined) return fail(`${named.className} has no option '${unknown}'`, `use its options: ${Object.keys(named.config).slice(0, 6).join(', ')}, …`);
  return { config: { ...named.config, ...options }, name, diagnostics: [] };
}

/**
 * The spec text for a resolved bottleneck config (from a string, or adapter_config.json's `config`);
 * `adapter` names the definition, `origin` is quoted in the header comment and in messages.
 */
/** A classifier head to start from an adapter folder's (`head classifier(…, adapterhub "folder")`). */
export interface TranslatedHead {
  readonly labels: number;
  readonly from: 'pooled' | 'first_token';
  readonly folder: string;
}

export interface TranslateOptions {
  /** Start the adapters from this adapter folder's weights (`init adapterhub(folder …)`) instead of AdapterHub's initialization. */
  readonly weightsFrom?: string;
  /** Also set the head, started from the folder's. */
  readonly head?: TranslatedHead;
}

export function translateConfig(config: AdapterHubConfig, adapter: string, origin: string, options: TranslateOptions = {}): Translation {
  const diagnostics: Diagnostic[] = [];
  const where = { file: origin };
  const cannot = (option: string, value: PythonValue | undefined, reason: string, fix: string) =>
    diagnostics.push(diagnostic('ADP6002', { option, value: pythonText(value ?? null), source: origin, reason }, where, fix));
  const architecture = config['architecture'];
  if (architecture !== undefined && architecture !== null && architecture !== 'bottleneck') {
    return { text: undefined, config, diagnostics: [diagnostic('ADP6001', { source: origin, reason: `its architecture is '${String(architecture)}', not a bottleneck adapter`, }, where, 'translate a seq_bn or double_seq_bn config')] };
  }
  const is = (key: string, expected: PythonValue) => JSON.stringify(config[key] ?? null) === JSON.stringify(expected);
  if (!is('original_ln_before', false)) cannot('original_ln_before', config['original_ln_before'], "AdapterHub then applies the model's Add + LayerNorm before the adapter as well as after it (seq_bn, Pfeiffer's placement in AdapterHub); adapterc places adapters before the residual Add + LayerNorm only", 'use double_seq_bn, or original_ln_before=False');
  if (!is('original_ln_after', true)) cannot('original_ln_after', config['original_ln_after'], "without it the model's residual Add + LayerNorm is skipped after the adapter", 'keep original_ln_after=True');
  if (!is('ln_before', false)) cannot('ln_before', config['ln_before'], "AdapterHub's adapter LayerNorm (epsilon 1e-5, its own residual rule) differs from the spec's 'layernorm'", 'use ln_before=False');
  if (!is('ln_after', false)) cannot('ln_after', config['ln_after'], 'the spec has no LayerNorm after the up-projection', 'use ln_after=False');
  const parallel = config['is_parallel'] === true;
  if (config['is_parallel'] !== true && config['is_parallel'] !== false) cannot('is_parallel', config['is_parallel'], 'it must be True or False', 'use is_parallel=False or True');
  const scaling = config['scaling'];
  if (parallel && (typeof scaling !== 'number' || !(scaling > 0))) cannot('scaling', scaling, "a parallel adapter's scaling is a positive number in a spec ('learned' trains it, which the spec cannot)", 'use a number, e.g. scaling=4.0');
  if (!parallel && scaling !== 1) cannot('scaling', scaling, "adapterc's sequential adapters add up(f(down(h))) unscaled", 'use scaling=1.0, or is_parallel=True');
  if (!is('use_gating', false)) cannot('use_gating', config['use_gating'], 'the spec has no gate', 'use use_gating=False');
  if (!is('phm_layer', false)) cannot('phm_layer', config['phm_layer'], 'PHM (Compacter) layers are not built', 'use phm_layer=False');
  if (config['inv_adapter'] !== null && config['inv_adapter'] !== undefined) cannot('inv_adapter', config['inv_adapter'], 'invertible adapters on the embeddings are not built', 'use inv_adapter=None');
  if (!is('cross_adapter', false)) cannot('cross_adapter', config['cross_adapter'], 'encoder-decoder cross-attention adapters have no site in a BERT encoder', 'use cross_adapter=False');
  if (typeof config['dropout'] !== 'number' || config['dropout'] !== 0) cannot('dropout', config['dropout'], "adapterc's graphs have no dropout", 'use dropout=0.0');
  // residual_before_ln says where the adapter's residual is read; without original_ln_before both places are h.
  if (config['residual_before_ln'] !== true && config['residual_before_ln'] !== false) cannot('residual_before_ln', config['residual_before_ln'], "'post_add' reads the residual after the model's Add", 'use residual_before_ln=True');
  const activation = ACTIVATIONS[String(config['non_linearity'])];
  if (activation === undefined) cannot('non_linearity', config['non_linearity'], `the spec's activations are ${Object.keys(ACTIVATIONS).join(', ')} (AdapterHub's names)`, "use one of them (gelu is the exact, erf form)");
  const init = config['init_weights'];
  if (init !== 'bert' && init !== 'mam_adapter' && options.weightsFrom === undefined) cannot('init_weights', init, "AdapterHub's initializers are 'bert' and 'mam_adapter'", "use init_weights='bert' or 'mam_adapter'");
  const sites = [config['mh_adapter'] === true ? 'attention' : undefined, config['output_adapter'] === true ? 'ffn' : undefined].filter((s): s is string => s !== undefined);
  if (sites.length === 0) cannot('mh_adapter', config['mh_adapter'], 'with output_adapter also off, the config places no adapter', 'set mh_adapter or output_adapter');

  const leaveOut = config['leave_out'];
  if (!Array.isArray(leaveOut) || !leaveOut.every((l) => Number.isInteger(l) && (l as number) >= 0)) cannot('leave_out', leaveOut, 'it must list layer numbers', 'write a list of layer numbers, e.g. leave_out=[0, 1]');
  const factors = reductionFactors(config['reduction_factor']);
  if (typeof factors === 'string') cannot('reduction_factor', config['reduction_factor'], factors, 'use an integer factor, or a dict of them ("default" and layer numbers)');
  if (diagnostics.length > 0) return { text: undefined, config, diagnostics };

  const left = (leaveOut as number[]).map(Number);
  const { byLayer, fallback } = factors as { byLayer: Map<number, number>; fallback: number | undefined };
  // One adapter definition per distinct factor; the default's takes the plain name.
  const definitions = new Map<number, string>();
  const nameFor = (factor: number) => {
    if (!definitions.has(factor)) definitions.set(factor, factor === fallback || definitions.size === 0 && fallback === undefined ? adapter : `${adapter}_r${factor}`);
    return definitions.get(factor)!;
  };
  if (fallback !== undefined) nameFor(fallback);
  const places: string[] = [];
  const explicit = [...byLayer.keys()].filter((l) => !left.includes(l)).sort((a, b) => a - b);
  for (const site of sites) {
    if (fallback !== undefined) {
      const except = [...left, ...byLayer.keys()].filter((l, i, all) => all.indexOf(l) === i).sort((a, b) => a - b);
      places.push(`place ${nameFor(fallback)} after ${site} in layers all${except.length > 0 ? ` except ${except.join(', ')}` : ''}`);
    }
    for (const layer of explicit) places.push(`place ${nameFor(byLayer.get(layer)!)} after ${site} in layer ${layer}`);
  }
  const initLine = options.weightsFrom !== undefined ? `  init adapterhub(folder "${options.weightsFrom}")` : init === 'mam_adapter' ? '  init mam' : '  init normal(std 0.02)';
  const form = parallel ? [`  parallel(scaling ${Number(scaling)})`] : [];
  const body = (factor: number) => [`  reduction ${factor}`, `  activation ${activation}`, initLine, ...form].join('\n');
  const head = options.head;
  // As AdapterHub's train_adapter: the adapters and the head train.
  const train = head === undefined ? [] : ['', `train {\n  trainable adapters, head\n  head classifier(labels ${head.labels}, from ${head.from}, adapterhub "${head.folder}")\n}`];
  const text = [
    `# AdapterHub config: ${origin}`,
    '# Translated by adapterc from-adapterhub: the adapters and where they go. Import this from a',
    '# spec that sets what trains, the head and the optimizer.',
    ...[...definitions].map(([factor, name]) => `adapter ${name} {\n${body(factor)}\n}\n`),
    ...places,
    ...train,
    '',
  ].join('\n');
  return { text, config, diagnostics };
}

/** A value as Python writes it (True, None, 'text'), as the user wrote it in the config. */
function pythonText(value: PythonValue): string {
  if (value === null) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'string') return `'${value}'`;
  if (typeof value === 'number') return String(value);
  if (Array.isArray(value)) return `[${value.map(pythonText).join(', ')}]`;
  return `{${Object.entries(value).map(([k, v]) => `'${k}': ${pythonText(v)}`).join(', ')}}`;
}

/** reduction_factor as a default and per-layer factors, or why it cannot be one. */
function reductionFactors(value: PythonValue | undefined): { byLayer: Map<number, number>; fallback: number | undefined } | string {
  const factor = (v: PythonValue | undefined) => (typeof v === 'number' && Number.isInteger(v) && v >= 1 ? v : undefined);
  if (typeof value === 'number') return factor(value) !== undefined ? { byLayer: new Map(), fallback: value } : `the spec's reduction is a whole number; ${value} is not`;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'it is neither a number nor a dict';
  const byLayer = new Map<number, number>();
  let fallback: number | undefined;
  for (const [key, v] of Object.entries(value)) {
    const f = factor(v);
    if (f === undefined) return `the spec's reduction is a whole number; ${JSON.stringify(v)} (for '${key}') is not`;
    if (key === 'default') fallback = f;
    else if (/^\d+$/.test(key)) byLayer.set(Number(key), f);
    else return `'${key}' is neither "default" nor a layer number`;
  }
  if (fallback === undefined && byLayer.size === 0) return 'the dict is empty';
  return { byLayer, fallback };
}
