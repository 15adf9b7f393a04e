/**
 * The adapters file (`--adapters-only`): one task's trained parameters and what is needed to put
 * them back on the base model, as an ONNX model with no nodes.
 *
 *   graph.initializers   the trained parameters (float32, by their names in the adapted model)
 *   metadata_props       adapterc.format       'adapterc-adapters/1'
 *                        adapterc.spec         the spec file's path when it was exported
 *                        adapterc.spec_files   JSON: the text of the spec and of every file it imports, by path
 *                        adapterc.base         JSON: layers, hidden size, sha256 of the base weights (see baseIdentity)
 *                        adapterc.adapters     JSON: [{layer, site, adapter, size}] of the adapters it holds
 *                        adapterc.dropped      JSON: layers whose adapters were left out (--drop-layers)
 *                        adapterc.compiler     'adapterc 0.1.0'
 *
 * Any ONNX reader opens it (`onnx.load`, Netron); attaching re-runs the spec's rewrite on the base
 * model (what `adapterc compile --inference` does) and sets the stored values by name.
 */
import * as path from 'node:path';
import { AdapterError, diagnostic } from '../diagnostics/index.js';
import type { Model, OpsetImport, Tensor } from '../ir/index.js';
import { VERSION } from '../version.js';

export const ADAPTERS_FORMAT = 'adapterc-adapters/1';

export interface SpecRecord {
  /** The spec's absolute path when it was exported (imports resolve against it). */
  readonly main: string;
  /** Absolute path → text, the spec and everything it imports. */
  readonly files: Readonly<Record<string, string>>;
}

export interface BaseRecord {
  readonly layers: number;
  readonly hidden: number;
  /** See `baseIdentity`. */
  readonly sha256: string;
  /** The base model's file as summary.json named it (for messages only). */
  readonly model: string | undefined;
}

export interface AdaptersRecord {
  readonly spec: SpecRecord;
  readonly base: BaseRecord;
  readonly adapters: ReadonlyArray<{ layer: number; site: string; adapter: string; size: number }>;
  readonly dropped: readonly number[];
  readonly compiler: string;
}

export interface AdaptersFile {
  readonly record: AdaptersRecord;
  readonly tensors: readonly Tensor[];
}

const KEY = {
  format: 'adapterc.format',
  spec: 'adapterc.spec',
  specFiles: 'adapterc.spec_files',
  base: 'adapterc.base',
  adapters: 'adapterc.adapters',
  dropped: 'adapterc.dropped',
  compiler: 'adapterc.compiler',
} as const;

export function buildAdaptersModel(record: Omit<AdaptersRecord, 'compiler'>, tensors: readonly Tensor[], opsets: readonly OpsetImport[], irVersion: number | undefined): Model {
  const metadata = [
    [KEY.format, ADAPTERS_FORMAT],
    [KEY.spec, record.spec.main],
    [KEY.specFiles, JSON.stringify(record.spec.files)],
    [KEY.base, JSON.stringify(record.base)],
    [KEY.adapters, JSON.stringify(record.adapters)],
    [KEY.dropped, JSON.stringify(record.dropped)],
    [KEY.compiler, `adapterc ${VERSION}`],
  ].map(([key, value]) => ({ key, value }));
  return {
    ...(irVersion === undefined ? {} : { irVersion }),
    opsetImports: opsets.map((o) => ({ ...(o.domain === undefined ? {} : { domain: o.domain }), ...(o.version === undefined ? {} : { version: o.version }) })),
    producerName: 'adapterc',
    producerVersion: VERSION,
    docString: `Trained parameters of ${path.basename(record.spec.main)} for a ${record.base.layers}-layer encoder of hidden size ${record.base.hidden}; attach with 'adapterc export --base MODEL --adapters FILE -o OUT'.`,
    graph: { name: 'adapters', nodes: [], initializers: [...tensors], inputs: [], outputs: [], valueInfo: [] },
    metadata,
  };
}

/** Reads the record of a decoded adapters file; ADP5057 when it is not one. */
export function readAdaptersModel(model: Model, file: string): AdaptersFile {
  const meta = new Map(model.metadata.map((e) => [e.key ?? '', e.value ?? '']));
  const fail = (reason: string) => new AdapterError([diagnostic('ADP5057', { file, reason }, { file }, "make one with 'adapterc export ARTIFACTS --adapters-only -o FILE'")]);
  const format = meta.get(KEY.format);
  if (format === undefined) throw fail(`it has no '${KEY.format}' entry (an ONNX model, but not one written by 'adapterc export --adapters-only')`);
  if (format !== ADAPTERS_FORMAT) throw fail(`its format is '${format}', and this adapterc reads '${ADAPTERS_FORMAT}'`);
  const json = (key: string): unknown => {
    const text = meta.get(key);
    if (text === undefined) throw fail(`its '${key}' entry is missing`);
    try {
      return JSON.parse(text);
    } catch {
      throw fail(`its '${key}' entry is not valid JSON`);
    }
  };
  const main = meta.get(KEY.spec);
  const files = json(KEY.specFiles) as Record<string, unknown>;
  const base = json(KEY.base) as Record<string, unknown>;
  const adapters = json(KEY.adapters);
  const dropped = json(KEY.dropped);
  if (main === undefined || typeof files !== 'object' || files === null || typeof files[main] !== 'string' || Object.values(files).some((t) => typeof t !== 'string')) throw fail('its spec record is damaged');
  if (typeof base !== 'object' || base === null || typeof base['layers'] !== 'number' || typeof base['hidden'] !== 'number' || typeof base['sha256'] !== 'string') throw fail('its base model record is damaged');
  if (!Array.isArray(adapters) || !Array.isArray(dropped) || dropped.some((l) => !Number.isInteger(l))) throw fail('its adapter list is damaged');
  if (model.graph.initializers.length === 0) throw fail('it holds no parameters');
  return {
    record: {
      spec: { main, files: files as Record<string, string> },
      base: { layers: base['layers'], hidden: base['hidden'], sha256: base['sha256'], model: typeof base['model'] === 'string' ? base['model'] : undefined },
      adapters: adapters as AdaptersRecord['adapters'],
      dropped: dropped as number[],
      compiler: meta.get(KEY.compiler) ?? 'unknown',
    },
    tensors: model.graph.initializers,
  };
}
