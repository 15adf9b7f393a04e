/**
 * What export reads from an artifacts folder (`adapterc compile`'s output): the adapted inference
 * model, summary.json, and the checkpoint to take trained values from (`trained/checkpoint`, which
 * `adapterc train` writes, before the compiled `checkpoint`), and, for an adapters file, the spec.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { AdapterError, diagnostic } from '../diagnostics/index.js';
import { ADAPTED_MODEL } from '../emit/inference.js';

export const SUMMARY = 'summary.json';
/** Checkpoints looked for in the folder, in this order, when `--checkpoint` is not given. */
export const CHECKPOINT_CANDIDATES = [path.join('trained', 'checkpoint'), 'checkpoint'] as const;

/** The parts of summary.json export reads. */
export interface FolderSummary {
  readonly spec: string | undefined;
  readonly model: string | undefined;
  readonly layers: number;
  readonly hidden: number;
  readonly adapters: ReadonlyArray<{ layer: number; site: string; adapter: string; size: number; activation?: string; layerNorm?: boolean; hiddenLayers?: number; parallel?: number; lora?: { rank: number; alpha: number }; ia3?: true }>;
  /** The head the spec adds (recorded since AdapterHub export; absent: the model's own output, or an older adapterc). */
  readonly head?: { readonly kind: 'classifier'; readonly labels: number; readonly from: 'pooled' | 'first_token' } | { readonly kind: 'masked_lm' };
  readonly trainable: readonly string[];
  /** `--import-root` folders the spec was compiled with (checked again with them). */
  readonly importRoots?: readonly string[];
  /** AdapterHub folders the compiled initial values came from: they are trained values already. */
  readonly startsFrom?: readonly string[];
  /** Shared-base layout: what base.data starts as a copy of (see `BaseDataSummary`). */
  readonly baseData?: { readonly copiedBytes: number; readonly copiedFromSideFile: boolean };
}

export interface ArtifactsFolder {
  /** As the user gave it (for messages). */
  readonly folder: string;
  readonly adaptedModel: string;
  readonly summary: FolderSummary;
  /** The checkpoint to merge, or undefined when the folder has none (`compile --inference`). */
  readonly checkpoint: string | undefined;
}

function notArtifacts(folder: string, problem: string, hint: string): AdapterError {
  return new AdapterError([diagnostic('ADP5050', { path: folder, problem }, { file: folder }, hint)]);
}

function readSummary(folder: string, file: string): FolderSummary {
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch {
    throw notArtifacts(folder, `its ${SUMMARY} is missing or not valid JSON`, "compile the artifacts again with 'adapterc compile'");
  }
  const layers = json['layers'];
  const hidden = json['hidden'];
  const trainable = json['trainable'];
  const adapters = json['adapters'];
  if (typeof layers !== 'number' || typeof hidden !== 'number' || !Array.isArray(trainable) || !Array.isArray(adapters)) {
    throw notArtifacts(folder, `its ${SUMMARY} lacks the layers, hidden size, adapters or trainable parameters`, "compile the artifacts again with 'adapterc compile'");
  }
  return {
    spec: typeof json['spec'] === 'string' ? json['spec'] : undefined,
    model: typeof json['model'] === 'string' ? json['model'] : undefined,
    layers,
    hidden,
    adapters: adapters as FolderSummary['adapters'],
    trainable: trainable as string[],
    ...headOf(json['head']),
    ...(Array.isArray(json['importRoots']) ? { importRoots: (json['importRoots'] as unknown[]).filter((f): f is string => typeof f === 'string') } : {}),
    ...(Array.isArray(json['startsFrom']) ? { startsFrom: (json['startsFrom'] as unknown[]).filter((f): f is string => typeof f === 'string') } : {}),
    ...baseDataOf(json['baseData']),
  };
}

function headOf(value: unknown): Pick<FolderSummary, 'head'> {
  if (typeof value !== 'object' || value === null) return {};
  const { kind, labels, from } = value as Record<string, unknown>;
  if (kind === 'masked_lm') return { head: { kind } };
  return kind === 'classifier' && typeof labels === 'number' && (from === 'pooled' || from === 'first_token') ? { head: { kind, labels, from } } : {};
}

function baseDataOf(value: unknown): Pick<FolderSummary, 'baseData'> {
  if (typeof value !== 'object' || value === null) return {};
  const { copiedBytes, copiedFromSideFile } = value as Record<string, unknown>;
  return typeof copiedBytes === 'number' && typeof copiedFromSideFile === 'boolean' ? { baseData: { copiedBytes, copiedFromSideFile } } : {};
}

/** Checks the folder and picks the checkpoint; `checkpoint` is the `--checkpoint` path, if given. */
export function openArtifactsFolder(folder: string, checkpoint?: string): ArtifactsFolder {
  if (!existsSync(folder)) throw notArtifacts(folder, 'it does not exist', "pass the folder 'adapterc compile' wrote (its -o)");
  if (!statSync(folder).isDirectory()) throw notArtifacts(folder, 'it is a file', "pass the folder 'adapterc compile' wrote (its -o), not a file in it");
  const adaptedModel = path.join(folder, ADAPTED_MODEL);
  if (!existsSync(adaptedModel)) throw notArtifacts(folder, `it has no ${ADAPTED_MODEL}`, "compile the artifacts again with 'adapterc compile'");
  const summary = readSummary(folder, path.join(folder, SUMMARY));
  if (checkpoint !== undefined) {
    if (!existsSync(checkpoint) || !statSync(checkpoint).isFile()) {
      throw new AdapterError([diagnostic('ADP5052', { file: checkpoint, problem: existsSync(checkpoint) ? 'it is not a file' : 'it does not exist' }, { file: checkpoint }, 'check the path given to --checkpoint')]);
    }
    return { folder, adaptedModel, summary, checkpoint };
  }
  const found = CHECKPOINT_CANDIDATES.map((c) => path.join(folder, c)).find((c) => existsSync(c) && statSync(c).isFile());
  return { folder, adaptedModel, summary, checkpoint: found };
}

/**
 * The spec that made the folder, for an adapters file: `--spec`, else the path summary.json
 * records (as typed at compile time), looked up from the current folder, then beside the artifacts folder.
 */
export function locateSpec(artifacts: ArtifactsFolder, cwd: string, given: string | undefined): string {
  const { folder, summary } = artifacts;
  if (given !== undefined) {
    const file = path.resolve(cwd, given);
    if (!existsSync(file)) throw new AdapterError([diagnostic('ADP5063', { folder, reason: `'${given}' does not exist` }, { file: given }, 'check the path given to --spec')]);
    return file;
  }
  if (summary.spec === undefined) {
    throw new AdapterError([diagnostic('ADP5063', { folder, reason: `its ${SUMMARY} does not name it` }, { file: folder }, 'pass the spec with --spec')]);
  }
  const candidates = path.isAbsolute(summary.spec) ? [summary.spec] : [path.resolve(cwd, summary.spec), path.resolve(path.dirname(path.resolve(cwd, folder)), summary.spec), path.resolve(cwd, folder, summary.spec)];
  const found = candidates.find((c) => existsSync(c) && statSync(c).isFile());
  if (found === undefined) {
    throw new AdapterError([
      diagnostic('ADP5063', { folder, reason: `'${summary.spec}' (the path ${SUMMARY} records) is found neither from the current folder nor beside the artifacts` }, { file: folder }, 'pass the spec with --spec'),
    ]);
  }
  return found;
}
