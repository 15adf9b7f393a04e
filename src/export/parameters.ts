/**
 * Trained parameters: read from a checkpoint and checked against the adapted model they are to be
 * merged into (by name: every trainable parameter, including LayerNorm, embedding and head
 * parameters the rewrite untied under new names, is an initializer of model.adapted.onnx under the
 * same name), then written into a model in place of the initial values.
 */
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { AdapterError, diagnostic } from '../diagnostics/index.js';
import { readCheckpoint, type Checkpoint } from '../emit/checkpoint/index.js';
import { DEFERRED_FROM, forEachChunk, sameContents, tensorSource } from '../load/index.js';
import { dataTypeName, tensorBytes, type Model, type Tensor } from '../ir/index.js';
import type { ArtifactsFolder } from './folder.js';

/** Names in messages: the first few, then how many more. */
export function listNames(names: readonly string[], first = 4): string {
  const shown = names.slice(0, first).map((n) => `'${n}'`).join(', ');
  return names.length > first ? `${shown} and ${names.length - first} more` : shown;
}

const shapeText = (t: Tensor) => `${dataTypeName(t.dataType)}[${t.dims.join(', ')}]`;
const sameShape = (a: Tensor, b: Tensor) => a.dataType === b.dataType && a.dims.length === b.dims.length && a.dims.every((d, i) => d === b.dims[i]);
/** Compared a chunk at a time where either is still in its file (see `sameContents`). */
const sameBytes = (a: Tensor, b: Tensor): boolean => sameContents(tensorSource(a), tensorSource(b));

export interface TrainedParameters {
  /** The trained tensors, in the checkpoint's order (or summary.json's without a checkpoint). */
  readonly tensors: readonly Tensor[];
  /** The checkpoint they came from; undefined: the folder's initial values (no checkpoint). */
  readonly checkpoint: string | undefined;
  /** Whether every value equals the adapted model's initial one (nothing was trained). */
  readonly untrained: boolean;
}

/**
 * The trainable parameters of the folder's checkpoint, checked against `model` (the folder's
 * adapted model): every name present with the same type and shape, every parameter the artifacts
 * train present, and the frozen parameters both hold equal (else it was trained on another base).
 */
export async function trainedParameters(artifacts: ArtifactsFolder, model: Model): Promise<TrainedParameters> {
  const modelName = path.join(artifacts.folder, path.basename(artifacts.adaptedModel));
  const initializers = new Map(model.graph.initializers.map((t) => [t.name ?? '', t]));
  const file = artifacts.checkpoint;
  if (file === undefined) {
    const missing = artifacts.summary.trainable.filter((n) => !initializers.has(n));
    if (missing.length > 0) {
      throw new AdapterError([diagnostic('ADP5050', { path: artifacts.folder, problem: `summary.json names trainable parameters that ${path.basename(modelName)} lacks (${listNames(missing)})` }, { file: artifacts.folder }, "compile the artifacts again with 'adapterc compile'")]);
    }
    return { tensors: artifacts.summary.trainable.map((n) => initializers.get(n)!), checkpoint: undefined, untrained: true };
  }
  const where = { file };
  let checkpoint: Checkpoint;
  try {
    // Large tensors stay in the file: the frozen ones are compared from there, chunk by chunk.
    checkpoint = readCheckpoint(file, DEFERRED_FROM);
  } catch (error) {
    if (error instanceof AdapterError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new AdapterError([diagnostic('ADP5052', { file, problem: `it cannot be read (${code ?? String(error)})` }, where, 'check the path and its permissions')]);
  }
  if (checkpoint.nominal) throw new AdapterError([diagnostic('ADP5052', { file, problem: 'it is a nominal checkpoint (names and shapes, no values)' }, where, 'save the trained state with its values')]);
  if (checkpoint.externalData) throw new AdapterError([diagnostic('ADP5052', { file, problem: 'its values live in an external data file, which adapterc does not read' }, where, 'save the checkpoint without external data')]);
  if (checkpoint.trainable.length === 0) throw new AdapterError([diagnostic('ADP5052', { file, problem: 'it holds no trainable parameters' }, where, 'pass the checkpoint of a training run of these artifacts')]);

  const unknown = checkpoint.trainable.map((t) => t.name ?? '').filter((n) => !initializers.has(n));
  if (unknown.length > 0) {
    throw new AdapterError([diagnostic('ADP5053', { file, count: unknown.length, model: modelName, names: listNames(unknown) }, where, 'the checkpoint belongs to other artifacts; pass their folder, or the right checkpoint with --checkpoint')]);
  }
  for (const t of checkpoint.trainable) {
    const own = initializers.get(t.name!)!;
    if (!sameShape(t, own)) {
      throw new AdapterError([diagnostic('ADP5054', { name: t.name!, found: shapeText(t), where: `the checkpoint '${file}'`, expected: shapeText(own), model: modelName }, where, 'the checkpoint belongs to other artifacts (another model size or adapter size)')]);
    }
  }
  for (const t of checkpoint.frozen) {
    const own = initializers.get(t.name ?? '');
    // Frozen tensors the training graph made (when fused ops were unfolded) are not in the inference model.
    if (own === undefined) continue;
    if (!sameShape(t, own) || !sameBytes(own, t)) {
      throw new AdapterError([diagnostic('ADP5055', { file, name: t.name!, model: modelName }, where, 'export the checkpoint with the artifacts folder of the model it was trained on')]);
    }
  }
  const trained = new Set(checkpoint.trainable.map((t) => t.name!));
  const missing = artifacts.summary.trainable.filter((n) => !trained.has(n));
  if (missing.length > 0) {
    throw new AdapterError([diagnostic('ADP5056', { file, count: missing.length, names: listNames(missing) }, where, 'the checkpoint belongs to artifacts of another spec; pass the right one with --checkpoint')]);
  }
  const untrained = checkpoint.trainable.every((t) => sameBytes(t, initializers.get(t.name!)!));
  return { tensors: checkpoint.trainable, checkpoint: file, untrained };
}

/** A standalone copy of `t` (data in raw layout), named `name`. */
function plainTensor(t: Tensor, name = t.name): Tensor {
  return { name, dims: [...t.dims], dataType: t.dataType, rawData: tensorBytes(t) };
}

/** Replaces the initializers of `model` named like `tensors` by them (each must exist). */
export function setParameters(model: Model, tensors: readonly Tensor[]): void {
  const byName = new Map(tensors.map((t) => [t.name!, t]));
  model.graph.initializers = model.graph.initializers.map((t) => {
    const trained = byName.get(t.name ?? '');
    return trained === undefined ? t : { ...plainTensor(trained), ...(t.docString === undefined ? {} : { docString: t.docString }) };
  });
}

/** Standalone copies of tensors, for a file of their own. */
export function copyTensors(tensors: readonly Tensor[]): Tensor[] {
  return tensors.map((t) => plainTensor(t));
}

/**
 * The identity of the base model an adapted model was made from, without the base model: a sha256
 * over every initializer of the adapted model except the trained ones and the adapters' own
 * (names, types, shapes and bytes, sorted by name). Attaching recomputes it on the base model
 * adapted again, so the same base gives the same hash and any other weights a different one.
 */
export function baseIdentity(model: Model, trained: ReadonlySet<string>): string {
  const hash = createHash('sha256');
  const tensors = model.graph.initializers.filter((t) => t.name !== undefined && !trained.has(t.name) && !t.name.startsWith('adapters.'));
  tensors.sort((a, b) => (a.name! < b.name! ? -1 : a.name! > b.name! ? 1 : 0));
  for (const t of tensors) {
    hash.update(`${t.name}\u0000${t.dataType ?? 0}\u0000${t.dims.join(',')}\u0000`);
    if (t.stringData) for (const s of t.stringData) hash.update(`${s.length}:`).update(s);
    else forEachChunk(tensorSource(t), (chunk) => void hash.update(chunk));
  }
  return hash.digest('hex');
}
