/**
 * export: turning artifacts (and a training run's checkpoint) into things to deploy.
 *
 *   mergeFromFolder      model.adapted.onnx with the checkpoint's trained values merged in
 *   adaptersFromFolder   only the trained parameters, plus the spec and the base model's identity
 *   attachAdapters       an adapters file put back on its base model (the spec's rewrite, re-run)
 *   adapterHubFromFolder the adapters (and head) as an AdapterHub adapter folder (adapterhub.ts)
 *
 * Each takes an optional layer list whose adapters are removed (the paper's ablation).
 */
import * as path from 'node:path';
import { bindPlan } from '../check/bind.js';
import { checkSpecFile } from '../check/check.js';
import { discover } from '../discover/index.js';
import { AdapterError, diagnostic, throwIfErrors } from '../diagnostics/index.js';
import { DataLocation, type Model, type Tensor } from '../ir/index.js';
import { DEFERRED_FROM, readModel } from '../load/index.js';
import { ARTIFACTS, BASE_DATA } from '../emit/artifacts.js';
import { adaptModel, bindToModel } from '../rewrite/rewrite.js';
import { buildAdaptersModel, readAdaptersModel, type AdaptersFile, type AdaptersRecord } from './adapters-file.js';
import { dropAdapters, inDroppedLayer, type DropResult } from './drop.js';
import { foldProjectionAdapters, type FoldResult } from './fold-projections.js';
import type { ArtifactsFolder } from './folder.js';
import { removeMaskedLmHead, type HeadRemoval } from './without-head.js';
import { adapterHubFolder, type AdapterHubExport } from './adapterhub.js';
import { resolveLayerList, type LayerList } from './layers.js';
import { baseIdentity, copyTensors, listNames, setParameters, trainedParameters, type TrainedParameters } from './parameters.js';

export { openArtifactsFolder, locateSpec, CHECKPOINT_CANDIDATES, type ArtifactsFolder } from './folder.js';
export { parseLayerList, resolveLayerList, describeLayers, type LayerList } from './layers.js';
export { dropAdapters, adaptersIn, type DropResult } from './drop.js';
export { foldProjectionAdapters, type FoldResult } from './fold-projections.js';
export { ADAPTERS_FORMAT, readAdaptersModel, type AdaptersFile, type AdaptersRecord } from './adapters-file.js';
export { baseIdentity, type TrainedParameters } from './parameters.js';
export type { AdapterHubExport } from './adapterhub.js';

export interface MergedExport {
  readonly model: Model;
  /** With --without-head: what removing the masked-LM head did. */
  readonly head?: HeadRemoval;
  readonly parameters: TrainedParameters;
  readonly drop: DropResult | undefined;
  /** LoRA and (IA)³ folded into their projections' weights (none with `keepApart`). */
  readonly folded: FoldResult;
}

/**
 * The artifacts' adapted model. It reads most of its weights from the folder's
 * checkpoint or base.data (ONNX external data into those files): those become ordinary inline
 * tensors again, as they were in the source model, so what is exported stands on its own. Weights
 * the source model kept in its side file (in the shared-base layout, the part of base.data that is
 * a copy of that file) stay external data, and are written to the exported model's side file.
 */
async function readAdaptedModel(artifacts: ArtifactsFolder): Promise<Model> {
  // The weights stay in the folder's files until written: the exported model copies them from there.
  const model = await readModel(artifacts.adaptedModel, { deferTensorsFrom: DEFERRED_FROM });
  const base = artifacts.summary.baseData;
  const fromSideFile = (t: Tensor): boolean => {
    const entry = (key: string): number => Number(t.externalData?.find((e) => e.key === key)?.value ?? Number.NaN);
    return base !== undefined && base.copiedFromSideFile && entry('offset') + entry('length') <= base.copiedBytes;
  };
  for (const t of model.graph.initializers) {
    const location = t.externalData?.find((e) => e.key === 'location')?.value;
    if (t.dataLocation !== DataLocation.EXTERNAL) continue;
    if (location === ARTIFACTS.checkpoint || (location === BASE_DATA && !fromSideFile(t))) {
      delete t.dataLocation;
      delete t.externalData;
    }
  }
  return model;
}

/** `keepApart`: LoRA and (IA)³ stay nodes of their own instead of being folded into the weights. */
export async function mergeFromFolder(artifacts: ArtifactsFolder, drop?: LayerList, withoutHead = false, keepApart = false): Promise<MergedExport> {
  const model = await readAdaptedModel(artifacts);
  const parameters = await trainedParameters(artifacts, model);
  const layers = drop === undefined ? undefined : resolveLayerList(drop, artifacts.summary.layers);
  setParameters(model, parameters.tensors);
  const head = withoutHead ? removeMaskedLmHead(model, artifacts.folder) : undefined;
  const dropped = layers === undefined ? undefined : dropAdapters(model, layers);
  const folded = foldProjectionAdapters(model, !keepApart);
  return { model, parameters, drop: dropped, folded, ...(head === undefined ? {} : { head }) };
}

/** The trained adapters and head of the folder as an AdapterHub adapter folder's files, the adapter named `name`. */
export async function adapterHubFromFolder(artifacts: ArtifactsFolder, name: string): Promise<AdapterHubExport & { readonly parameters: TrainedParameters }> {
  const model = await readAdaptedModel(artifacts);
  const parameters = await trainedParameters(artifacts, model);
  return { ...adapterHubFolder(artifacts, parameters.tensors, name), parameters };
}

export interface AdaptersExport {
  /** The adapters file, as a model to write. */
  readonly model: Model;
  readonly record: Omit<AdaptersRecord, 'compiler'>;
  readonly tensors: readonly Tensor[];
  readonly parameters: TrainedParameters;
  /** Requested layers that had no adapters. */
  readonly emptyLayers: readonly number[];
}

/** The checked spec of the folder as a record of its texts; ADP5064 when it did not make these artifacts. */
function specRecord(specFile: string, artifacts: ArtifactsFolder): AdaptersRecord['spec'] {
  const checked = checkSpecFile(specFile, undefined, { importRoots: artifacts.summary.importRoots ?? [] });
  throwIfErrors(checked.diagnostics, checked.sources);
  const { summary, folder } = artifacts;
  const mismatch = (reason: string) => new AdapterError([diagnostic('ADP5064', { spec: specFile, folder, reason }, { file: specFile }, 'pass the spec the artifacts were compiled from with --spec')]);
  // An (IA)³ vector is as wide as its site, which only the model knows: summary.json recorded it.
  const recorded = (layer: number, site: string) => summary.adapters.find((a) => a.layer === layer && a.site === site);
  const projection = (layer: number, site: string) => {
    const a = recorded(layer, site);
    return a?.ia3 ? { inFeatures: a.size, outFeatures: a.size } : undefined;
  };
  const bound = bindPlan(checked.plan!, { layers: summary.layers, hidden: summary.hidden, projection });
  if (!bound.bound) throw mismatch(`it does not fit a model of ${summary.layers} layers and hidden size ${summary.hidden}`);
  const describe = (list: ReadonlyArray<{ layer: number; site: string; adapter: string; size: number }>) => list.map((a) => `${a.layer}/${a.site}/${a.adapter}/${a.size}`);
  const planned = describe(bound.bound.instances.map((i) => ({ layer: i.layer, site: i.site, adapter: i.adapter.name, size: i.units })));
  const made = describe(summary.adapters);
  if (planned.join(' ') !== made.join(' ')) {
    throw mismatch(`it places ${planned.length} adapter(s) (${planned.slice(0, 3).join(', ')}${planned.length > 3 ? ', …' : ''}), the artifacts have ${made.length} (${made.slice(0, 3).join(', ')}${made.length > 3 ? ', …' : ''})`);
  }
  const files: Record<string, string> = {};
  for (const [file, text] of checked.sources) files[path.resolve(file)] = text;
  return { main: path.resolve(specFile), files };
}

export async function adaptersFromFolder(artifacts: ArtifactsFolder, specFile: string, drop?: LayerList): Promise<AdaptersExport> {
  const spec = specRecord(specFile, artifacts);
  const model = await readAdaptedModel(artifacts);
  const parameters = await trainedParameters(artifacts, model);
  const trained = new Set(parameters.tensors.map((t) => t.name!));
  const { summary } = artifacts;
  const dropped = drop === undefined ? [] : resolveLayerList(drop, summary.layers);
  const droppedSet = new Set(dropped);
  const tensors = copyTensors(parameters.tensors.filter((t) => !inDroppedLayer(t.name!, droppedSet)));
  const record = {
    spec,
    base: { layers: summary.layers, hidden: summary.hidden, sha256: baseIdentity(model, trained), model: summary.model },
    adapters: summary.adapters.filter((a) => !droppedSet.has(a.layer)).map((a) => ({ layer: a.layer, site: a.site, adapter: a.adapter, size: a.size })),
    dropped,
  };
  const emptyLayers = dropped.filter((l) => !summary.adapters.some((a) => a.layer === l));
  return { model: buildAdaptersModel(record, tensors, model.opsetImports, model.irVersion), record, tensors, parameters, emptyLayers };
}

export interface AttachedExport {
  readonly model: Model;
  readonly file: AdaptersFile;
  /** Layers whose adapters are not in the result: the file's, then the ones asked for now. */
  readonly droppedLayers: readonly number[];
  readonly drop: DropResult | undefined;
  readonly folded: FoldResult;
}

/** Adapts `baseFile` with the spec recorded in `adaptersFile` and sets the stored values. */
export async function attachAdapters(baseFile: string, adaptersFile: string, drop?: LayerList, keepApart = false): Promise<AttachedExport> {
  const file = readAdaptersModel(await readModel(adaptersFile), adaptersFile);
  const { record } = file;
  const stored = new Map(Object.entries(record.spec.files).map(([k, v]) => [path.resolve(k), v]));
  // The texts were read at export, inside the roots then: every folder they came from may be read from the record.
  const checked = checkSpecFile(record.spec.main, { read: (f) => stored.get(path.resolve(f)) }, { importRoots: [...new Set([...stored.keys()].map((f) => path.dirname(f)))] });
  throwIfErrors(checked.diagnostics, checked.sources);

  // The base's weights stay in its file: they are hashed from there and copied into the output.
  const model = await readModel(baseFile, { deferTensorsFrom: DEFERRED_FROM });
  const found = discover(model, baseFile);
  if (found.layers.length !== record.base.layers || found.hidden !== record.base.hidden) {
    const shape = (layers: number, hidden: number) => `${layers} layers and hidden size ${hidden}`;
    throw new AdapterError([
      diagnostic('ADP5058', { file: adaptersFile, expected: shape(record.base.layers, record.base.hidden), base: baseFile, found: shape(found.layers.length, found.hidden) }, { file: baseFile }, `attach them to the model they were trained on${record.base.model ? ` ('${record.base.model}' when compiled)` : ''}`),
    ]);
  }
  const bound = bindToModel(checked.plan!, found, checked.sources, baseFile, model);
  // The file's values replace the initial ones below; starting from them needs no AdapterHub folder the spec may name.
  const adaptation = adaptModel(model, found, bound, new Map(file.tensors.map((t) => [t.name ?? '', t])));

  const names = new Set(file.tensors.map((t) => t.name ?? ''));
  if (baseIdentity(model, names) !== record.base.sha256) {
    throw new AdapterError([diagnostic('ADP5059', { file: adaptersFile, base: baseFile }, { file: baseFile }, `attach them to the model they were trained on${record.base.model ? ` ('${record.base.model}' when compiled)` : ''}; the same architecture with other weights does not fit`)]);
  }
  const fileDropped = new Set(record.dropped);
  const initializers = new Map(model.graph.initializers.map((t) => [t.name ?? '', t]));
  const fit = (reason: string) => new AdapterError([diagnostic('ADP5066', { file: adaptersFile, base: baseFile, reason }, { file: adaptersFile })]);
  const unknown = [...names].filter((n) => !initializers.has(n));
  if (unknown.length > 0) throw fit(`the spec does not make the parameter(s) ${listNames(unknown)}`);
  for (const t of file.tensors) {
    const own = initializers.get(t.name!)!;
    if (own.dataType !== t.dataType || own.dims.join(',') !== t.dims.join(',')) throw fit(`'${t.name}' is [${t.dims.join(', ')}] in the file but [${own.dims.join(', ')}] in the model`);
  }
  const lacking = adaptation.trainable.filter((n) => !names.has(n) && !inDroppedLayer(n, fileDropped));
  if (lacking.length > 0) throw fit(`the file has no values for ${listNames(lacking)}`);
  setParameters(model, file.tensors);

  const asked = drop === undefined ? [] : resolveLayerList(drop, found.layers.length);
  const droppedLayers = [...new Set([...record.dropped, ...asked])].sort((a, b) => a - b);
  const result = droppedLayers.length > 0 ? dropAdapters(model, droppedLayers) : undefined;
  // Layers the file already left out are not "empty" requests.
  const droppedResult = result === undefined ? undefined : { ...result, empty: result.empty.filter((l) => asked.includes(l) && !fileDropped.has(l)) };
  return { model, file, droppedLayers, drop: droppedResult, folded: foldProjectionAdapters(model, !keepApart) };
}
