/**
 * `exportModel`: what training produced, made deployable. Three kinds, as `adapterc export`:
 *   'merged'   the artifacts' adapted model with the checkpoint's trained values set by name
 *   'adapters' only the trained parameters, the spec's text and the base's identity (a few MB)
 *   'attach'   an adapters file joined to a base model again
 *   'adapterhub' an AdapterHub adapter folder (adapter_config.json, adapter.safetensors, and the head's), written atomically
 * Writes `out` atomically and never an input; returns what it wrote and the warnings, prints nothing.
 */
import { readFileSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { AdapterError, diagnostic, type Diagnostic } from '../diagnostics/index.js';
import { ADAPTED_MODEL } from '../emit/inference.js';
import { writeOutputFolder } from '../emit/output-folder.js';
import {
  adapterHubFromFolder,
  adaptersFromFolder,
  attachAdapters,
  describeLayers,
  locateSpec,
  mergeFromFolder,
  openArtifactsFolder,
  parseLayerList,
  type AdapterHubExport,
  type AdaptersExport,
  type AttachedExport,
  type DropResult,
  type LayerList,
  type MergedExport,
  type TrainedParameters,
} from '../export/index.js';
import { writeModel } from '../load/index.js';
import { inputPath } from './paths.js';

interface Common {
  /** The file to write. */
  readonly out: string;
  /** Remove the adapters of these layers: '0..4', '0, 2, 4', '-1', 'all except 10..11'. */
  readonly dropLayers?: string;
  /** What relative paths are resolved against (default: the process's working directory). */
  readonly cwd?: string;
  /** Keep LoRA and (IA)³ as nodes of their own (default: folded into the weights they adapt). */
  readonly keepApart?: boolean;
}

export type ExportOptions =
  | (Common & { readonly kind?: 'merged'; readonly artifacts: string; readonly checkpoint?: string; readonly withoutHead?: boolean })
  | (Common & { readonly kind: 'adapters'; readonly artifacts: string; readonly checkpoint?: string; readonly spec?: string })
  | (Common & { readonly kind: 'attach'; readonly base: string; readonly adapters: string })
  /** `out` is a folder; `name` the adapter's name in AdapterHub (default: the folder's name). */
  | { readonly kind: 'adapterhub'; readonly artifacts: string; readonly out: string; readonly checkpoint?: string; readonly name?: string; readonly cwd?: string };

export type ExportResult = { readonly out: string; readonly warnings: readonly Diagnostic[] } & (
  | { readonly kind: 'merged'; readonly source: string; readonly merged: MergedExport }
  | { readonly kind: 'adapters'; readonly source: string; readonly spec: string; readonly exported: AdaptersExport; readonly bytes: number }
  | { readonly kind: 'attach'; readonly attached: AttachedExport }
  | { readonly kind: 'adapterhub'; readonly source: string; readonly exported: AdapterHubExport }
);

function statSafe(file: string) {
  try {
    return statSync(file);
  } catch {
    return undefined;
  }
}

/** An AdapterHub name: what `load_adapter` registers the adapter under (Python attribute-safe). */
function adapterName(given: string | undefined, out: string): string {
  const name = given ?? path.basename(path.resolve(out)).replace(/[^A-Za-z0-9_]/g, '_');
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new AdapterError([diagnostic('ADP4001', { text: `The adapter name '${name}' is not a Python identifier, which AdapterHub's module names need.` }, undefined, 'pass --name with letters, digits and underscores')]);
  return name;
}

/** An AdapterHub folder an earlier export wrote (its adapter_config.json's version names adapterc), which a new export may replace; never one saved by `adapters`. */
function writtenByAdapterc(folder: string): boolean {
  try {
    const config = JSON.parse(readFileSync(path.join(folder, 'adapter_config.json'), 'utf8')) as { version?: unknown };
    return typeof config.version === 'string' && config.version.startsWith('adapterc ');
  } catch {
    return false;
  }
}

async function exportAdapterHub(options: Extract<ExportOptions, { kind: 'adapterhub' }>, out: string): Promise<ExportResult> {
  const name = adapterName(options.name, out);
  const folder = inputPath(options.cwd, options.artifacts);
  const artifacts = openArtifactsFolder(folder, options.checkpoint === undefined ? undefined : inputPath(options.cwd, options.checkpoint));
  if (sameFile(out, folder) || !path.relative(path.resolve(folder), out).startsWith('..')) {
    throw new AdapterError([diagnostic('ADP5065', { path: out }, { file: out }, 'choose a folder outside the artifacts folder with -o')]);
  }
  const exported = await adapterHubFromFolder(artifacts, name);
  await writeOutputFolder(
    out,
    async (temporary) => {
      for (const [file, bytes] of exported.files) await writeFile(path.join(temporary, file), bytes);
    },
    writtenByAdapterc,
  );
  const warnings: Diagnostic[] = artifacts.checkpoint === undefined ? [diagnostic('ADP5051', { folder }, { file: folder }, 'train the artifacts first, or pass a checkpoint with --checkpoint')] : [];
  warnings.push(...untrained(exported.parameters, artifacts), ...exported.warnings);
  const source = artifacts.checkpoint === undefined ? `initial values of ${ADAPTED_MODEL}` : `checkpoint ${artifacts.checkpoint}`;
  return { kind: 'adapterhub', out, warnings, source, exported };
}

function sameFile(a: string, b: string): boolean {
  if (path.resolve(a) === path.resolve(b)) return true;
  const [sa, sb] = [statSafe(a), statSafe(b)];
  return sa !== undefined && sb !== undefined && sa.ino === sb.ino && sa.dev === sb.dev;
}

/** Refuses an output that is one of `inputs`, or an existing file inside the artifacts `folder`. */
function refuseOverwrite(out: string, inputs: ReadonlyArray<string | undefined>, folder?: string): void {
  const inFolder = folder !== undefined && statSafe(out) !== undefined && !path.relative(path.resolve(folder), path.resolve(out)).startsWith('..');
  if (inFolder || inputs.some((i) => i !== undefined && sameFile(out, i))) {
    throw new AdapterError([diagnostic('ADP5065', { path: out }, { file: out }, 'choose another file name with -o')]);
  }
}

function untrained(parameters: TrainedParameters, artifacts: { readonly summary: { readonly startsFrom?: readonly string[] } }): Diagnostic[] {
  // Values that came from an AdapterHub folder were trained there: exporting them unchanged is the point.
  if (parameters.checkpoint === undefined || !parameters.untrained || (artifacts.summary.startsFrom?.length ?? 0) > 0) return [];
  return [diagnostic('ADP5067', { file: parameters.checkpoint }, { file: parameters.checkpoint }, "train the artifacts first ('adapterc train'), or pass the trained checkpoint with --checkpoint")];
}

function emptyLayers(layers: readonly number[]): Diagnostic[] {
  return layers.length === 0 ? [] : [diagnostic('ADP5062', { layers: describeLayers(layers) }, undefined, 'list only layers the spec places adapters in')];
}

const dropWarnings = (drop: DropResult | undefined) => emptyLayers(drop?.empty ?? []);

export async function exportModel(options: ExportOptions): Promise<ExportResult> {
  const out = inputPath(options.cwd, options.out);
  if (options.kind === 'adapterhub') return exportAdapterHub(options, out);
  if (statSafe(out)?.isDirectory()) throw new AdapterError([diagnostic('ADP4002', { path: out, reason: 'it is a folder' }, { file: out }, 'give a file name with -o')]);
  // The layer list is checked before anything is read, so a typo costs nothing.
  const drop: LayerList | undefined = options.dropLayers === undefined ? undefined : parseLayerList(options.dropLayers);

  if (options.kind === 'attach') {
    const base = inputPath(options.cwd, options.base);
    const adapters = inputPath(options.cwd, options.adapters);
    refuseOverwrite(out, [base, adapters]);
    const attached = await attachAdapters(base, adapters, drop, options.keepApart === true);
    await writeModel(attached.model, out);
    return { kind: 'attach', out, warnings: dropWarnings(attached.drop), attached };
  }

  const folder = inputPath(options.cwd, options.artifacts);
  const artifacts = openArtifactsFolder(folder, options.checkpoint === undefined ? undefined : inputPath(options.cwd, options.checkpoint));
  refuseOverwrite(out, [artifacts.adaptedModel, artifacts.checkpoint], folder);
  const warnings: Diagnostic[] = artifacts.checkpoint === undefined ? [diagnostic('ADP5051', { folder }, { file: folder }, 'train the artifacts first, or pass a checkpoint with --checkpoint')] : [];
  const source = artifacts.checkpoint === undefined ? `initial values of ${ADAPTED_MODEL}` : `checkpoint ${artifacts.checkpoint}`;
  if (options.kind === 'adapters') {
    const spec = locateSpec(artifacts, options.cwd ?? process.cwd(), options.spec);
    refuseOverwrite(out, [spec]);
    const exported = await adaptersFromFolder(artifacts, spec, drop);
    warnings.push(...untrained(exported.parameters, artifacts), ...emptyLayers(exported.emptyLayers));
    await writeModel(exported.model, out);
    return { kind: 'adapters', out, warnings, source, spec, exported, bytes: statSafe(out)?.size ?? 0 };
  }
  const merged = await mergeFromFolder(artifacts, drop, options.withoutHead === true, options.keepApart === true);
  warnings.push(...untrained(merged.parameters, artifacts), ...dropWarnings(merged.drop));
  await writeModel(merged.model, out);
  return { kind: 'merged', out, warnings, source, merged };
}
