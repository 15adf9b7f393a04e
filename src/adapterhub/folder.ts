/**
 * In from AdapterHub: the weights of an adapter folder that `adapters` saved
 * (`save_adapter(folder, name, use_safetensors=True)`) as the initial values of a spec's adapters
 * (`init adapterhub(folder "…")`) and classifier head (`head classifier(…, adapterhub "…")`).
 *
 * A folder holds one adapter: adapter_config.json (its name and config), adapter.safetensors (module
 * names such as `bert.encoder.layer.3.attention.output.adapters.NAME.adapter_down.0.weight`, weights
 * as torch.nn.Linear's [out, in]), and, with a head, head_config.json and model_head.safetensors
 * (`heads.NAME.1.weight` for a one-layer classification head). The values are taken under adapterc's
 * parameter names, transposed to MatMul's [in, out]; a size or a layer that does not fit the spec is
 * ADP6003, naming the tensor. The config must translate (from-adapterhub's rules): the folder's
 * adapters must compute what the spec's do for their weights to mean the same.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import type { BoundPlan } from '../check/bind.js';
import { AdapterError, diagnostic, hasErrors, type SourceSpan } from '../diagnostics/index.js';
import { makeTensor, type Tensor } from '../ir/index.js';
import { specActivation, translateConfig, type AdapterHubConfig } from './config.js';
import { decodeSafetensors, transposed, type NamedFloats } from './safetensors.js';
import { parseObject } from './source.js';

/** Initial values by adapterc parameter name, for `adaptModel` to use instead of drawing them. */
export type InitialValues = ReadonlyMap<string, Tensor>;

interface Folder {
  readonly name: string;
  readonly config: AdapterHubConfig;
  readonly adapters: ReadonlyMap<string, NamedFloats>;
  readonly head: ReadonlyMap<string, NamedFloats> | undefined;
  readonly headConfig: Readonly<Record<string, unknown>> | undefined;
}

function refuse(folder: string, reason: string, fix: string, span?: SourceSpan): AdapterError {
  return new AdapterError([diagnostic('ADP6003', { folder, reason }, span ? { span } : { file: folder }, fix)]);
}

function readJson(file: string, folder: string, span: SourceSpan): Record<string, unknown> {
  const json = parseObject(readFileSync(file, 'utf8'));
  if (typeof json === 'string') throw refuse(folder, `its ${path.basename(file)} ${json.replace(/^it /, '')}`, 'save the adapter again with save_adapter', span);
  return json;
}

function readWeights(file: string, folder: string, span: SourceSpan): ReadonlyMap<string, NamedFloats> {
  const read = decodeSafetensors(readFileSync(file));
  if ('problem' in read) throw refuse(folder, `its ${path.basename(file)} cannot be read: ${read.problem}`, 'save the adapter again with save_adapter(folder, name, use_safetensors=True)', span);
  return read.tensors;
}

/** Reads the folder `folder` (absolute) that `span` (the spec's init or head) names. */
export function readAdapterHubFolder(folder: string, span: SourceSpan): Folder {
  if (!existsSync(folder) || !statSync(folder).isDirectory()) throw refuse(folder, existsSync(folder) ? 'it is not a folder' : 'it does not exist', 'give the folder save_adapter wrote', span);
  const configFile = path.join(folder, 'adapter_config.json');
  if (!existsSync(configFile)) throw refuse(folder, 'it has no adapter_config.json', 'give the folder save_adapter wrote', span);
  const about = readJson(configFile, folder, span);
  const name = typeof about['name'] === 'string' ? about['name'] : undefined;
  const config = typeof about['config'] === 'object' && about['config'] !== null ? (about['config'] as AdapterHubConfig) : undefined;
  if (name === undefined || config === undefined) throw refuse(folder, 'its adapter_config.json has no name or config', 'save the adapter again with save_adapter', span);
  const safe = path.join(folder, 'adapter.safetensors');
  if (!existsSync(safe)) {
    const pickled = existsSync(path.join(folder, 'pytorch_adapter.bin'));
    throw refuse(
      folder,
      pickled ? 'its weights are only in pytorch_adapter.bin, a Python pickle, which adapterc does not read (unpickling runs code)' : 'it has no adapter.safetensors',
      `in PyTorch, save it again as safetensors: model.load_adapter('${folder}'); model.save_adapter('${folder}', '${name}', use_safetensors=True)`,
      span,
    );
  }
  const headFile = path.join(folder, 'model_head.safetensors');
  const headConfigFile = path.join(folder, 'head_config.json');
  const headConfig = existsSync(headConfigFile) ? readJson(headConfigFile, folder, span) : undefined;
  return { name, config, adapters: readWeights(safe, folder, span), head: existsSync(headFile) ? readWeights(headFile, folder, span) : undefined, headConfig };
}

/** [out, in] (torch.nn.Linear) to [in, out] (MatMul) under adapterc's name. */
function asMatMul(name: string, t: NamedFloats): Tensor {
  const [rows, cols] = t.dims as [number, number];
  return makeTensor(name, [cols, rows], transposed(t.values, rows, cols));
}

/**
 * The initial values the plan takes from AdapterHub folders (none when it names none): every
 * adapter whose init is `adapterhub(folder …)`, at each layer and site it is placed, and the
 * classifier head when it names a folder. `hidden` is the model's hidden size.
 */
export function adapterHubValues(bound: BoundPlan, hidden: number): InitialValues {
  const values = new Map<string, Tensor>();
  const folders = new Map<string, Folder>();
  const open = (folder: string, span: SourceSpan) => {
    if (!folders.has(folder)) folders.set(folder, readAdapterHubFolder(folder, span));
    return folders.get(folder)!;
  };
  for (const instance of bound.instances) {
    const init = instance.adapter.init;
    if (init.kind !== 'adapterhub') continue;
    const f = open(init.folder, init.span);
    const translated = translateConfig(f.config, 'adapter', `'${path.join(init.folder, 'adapter_config.json')}'`);
    if (hasErrors(translated.diagnostics)) throw new AdapterError([...translated.diagnostics]);
    if (specActivation(f.config) !== instance.adapter.activation) throw refuse(init.folder, `its adapters use non_linearity '${String(f.config['non_linearity'])}', but adapter '${instance.adapter.name}' has activation ${instance.adapter.activation}`, `write 'activation ${specActivation(f.config)}' in adapter '${instance.adapter.name}'`, init.span);
    const parallel = f.config['is_parallel'] === true;
    const form = instance.adapter.form;
    if (parallel !== (form.kind === 'parallel') || (form.kind === 'parallel' && form.scaling !== f.config['scaling'])) {
      const theirs = parallel ? `parallel(scaling ${String(f.config['scaling'])})` : 'sequential';
      throw refuse(init.folder, `its adapters are ${theirs}, but adapter '${instance.adapter.name}' is ${form.kind === 'parallel' ? `parallel(scaling ${form.scaling})` : 'sequential'}`, parallel ? `write '${theirs}' in adapter '${instance.adapter.name}'` : `remove 'parallel' from adapter '${instance.adapter.name}'`, init.span);
    }
    if (instance.adapter.layerNorm || instance.adapter.hiddenLayers !== 1) throw refuse(init.folder, `adapter '${instance.adapter.name}' has ${instance.adapter.layerNorm ? 'a layernorm' : `${instance.adapter.hiddenLayers} hidden layers`}, which AdapterHub's bottleneck has not`, 'remove them from the adapter', init.span);
    const module = `encoder.layer.${instance.layer}.${instance.site === 'attention' ? 'attention.output' : 'output'}.adapters.${f.name}`;
    const prefix = `adapters.layer.${instance.layer}.${instance.site}`;
    const expected: Record<string, number[]> = { 'adapter_down.0.weight': [instance.units, hidden], 'adapter_down.0.bias': [instance.units], 'adapter_up.weight': [hidden, instance.units], 'adapter_up.bias': [hidden] };
    for (const [part, dims] of Object.entries(expected)) {
      const key = [`bert.${module}.${part}`, `${module}.${part}`].find((k) => f.adapters.has(k));
      if (key === undefined) throw refuse(init.folder, `it has no weights for layer ${instance.layer} ${instance.site} ('bert.${module}.${part}')`, `place adapter '${instance.adapter.name}' only where the AdapterHub adapter has one (its leave_out, mh_adapter and output_adapter)`, init.span);
      const t = f.adapters.get(key)!;
      if (t.dims.join(',') !== dims.join(',')) throw refuse(init.folder, `'${key}' is [${t.dims.join(', ')}], but adapter '${instance.adapter.name}' at layer ${instance.layer} needs [${dims.join(', ')}] (size ${instance.units}, hidden size ${hidden})`, `give the adapter the folder's size: reduction ${f.config['reduction_factor']}`, init.span);
      const name = `${prefix}.${part.startsWith('adapter_down') ? 'down' : 'up'}.${part.endsWith('weight') ? 'weight' : 'bias'}`;
      values.set(name, dims.length === 2 ? asMatMul(name, t) : makeTensor(name, dims, t.values.slice()));
    }
  }
  const head = bound.plan.head;
  if (head.kind === 'classifier' && head.adapterhub !== undefined) {
    const { folder, span } = head.adapterhub;
    const f = open(folder, span);
    if (f.head === undefined || f.headConfig === undefined) throw refuse(folder, 'it has no head (head_config.json and model_head.safetensors)', "save the adapter with its head, or leave out the classifier's adapterhub", span);
    const config = (f.headConfig['config'] ?? {}) as Record<string, unknown>;
    if (config['head_type'] !== 'classification' || config['layers'] !== 1) throw refuse(folder, `its head is ${String(config['head_type'])} with ${String(config['layers'])} layer(s); adapterc's classifier is a one-layer classification head`, 'use a one-layer classification head (add_classification_head(name, layers=1))', span);
    if ((config['use_pooler'] === true) !== (head.from === 'pooled')) throw refuse(folder, `its head reads ${config['use_pooler'] === true ? 'the pooler output' : 'the first token'}, but the spec's classifier reads ${head.from === 'pooled' ? 'the pooler output' : 'the first token'}`, `write 'from ${config['use_pooler'] === true ? 'pooled' : 'first_token'}'`, span);
    for (const [part, dims] of [['weight', [head.labels, hidden]], ['bias', [head.labels]]] as const) {
      const key = `heads.${f.name}.1.${part}`;
      const t = f.head.get(key);
      if (t === undefined || t.dims.join(',') !== dims.join(',')) throw refuse(folder, t === undefined ? `it has no '${key}'` : `'${key}' is [${t.dims.join(', ')}], but the classifier needs [${dims.join(', ')}] (labels ${head.labels}, hidden size ${hidden})`, 'give the classifier the number of labels the head was trained with', span);
      const name = `head.classifier.${part}`;
      values.set(name, part === 'weight' ? asMatMul(name, t) : makeTensor(name, [...dims], t.values.slice()));
    }
  }
  return values;
}
