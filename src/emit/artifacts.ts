/**
 * emit: the last stage. Writes the four ONNX Runtime training artifacts (and the adapted inference
 * model and a summary) into one output folder, which appears complete or not at all:
 *
 *   training_model.onnx   forward + loss + backward, gradients accumulated in place
 *   eval_model.onnx       forward + loss
 *   optimizer_model.onnx  AdamW (or SGD) with the spec's hyper-parameters
 *   checkpoint            every parameter (trainable and frozen), ONNX Runtime's ODTC format
 *
 * and the step models (src/step), which train on any ONNX Runtime, training build or not:
 *
 *   step_model.onnx       forward + loss + backward + optimizer update, standard ONNX
 *   step_eval_model.onnx  forward + loss, the frozen weights inside
 */
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Plan } from '../check/plan.js';
import type { Diagnostic } from '../diagnostics/index.js';
import { DataLocation, type Model, type StringEntry, type Tensor } from '../ir/index.js';
import { externalTensors, hasRawData, isSourceRange, modelSourceFile, sameContents, writeFileAtomically, writeModel } from '../load/index.js';
import { externalDataEntries, layoutExternalData } from '../load/external.js';
import { encodeModelParts } from '../load/encode.js';
import type { AdaptationSummary } from '../rewrite/summary.js';
import { VERSION } from '../version.js';
import { encodeCheckpointParts, type CheckpointParts } from './checkpoint/index.js';
import { BASE_DATA, startBaseData, type BaseData } from './base-data.js';
import { ADAPTED_MODEL } from './inference.js';
import { buildOptimizerModel } from './optimizer.js';
import { MARKER, writeOutputFolder } from './output-folder.js';
import type { Layout, TrainingGraphs } from './training-graphs.js';
import { stage, stageAsync } from '../util/stages.js';
import { buildStepModels, STEP_ARTIFACTS, type StepModels } from '../step/step-model.js';

/** The rate ONNX Runtime's training API uses when none is set. */
export const ORT_DEFAULT_LEARNING_RATE = 0.001;

export const ARTIFACTS = {
  training: 'training_model.onnx',
  eval: 'eval_model.onnx',
  optimizer: 'optimizer_model.onnx',
  checkpoint: 'checkpoint',
} as const;

export interface ArtifactsInput {
  readonly layout: Layout;
  readonly plan: Plan;
  readonly spec: string;
  readonly graphs: TrainingGraphs;
  readonly summary: AdaptationSummary;
  /** The checkpoint encoded before the graphs were built (`encodeArtifactCheckpoint`): reused if made from the same tensors. */
  readonly early?: EarlyCheckpoint;
}

/** A checkpoint encoded from `trainable` and `frozen` before the training graphs were built. */
export interface EarlyCheckpoint {
  readonly trainable: readonly Tensor[];
  readonly frozen: readonly Tensor[];
  readonly parts: CheckpointParts;
}

/** Everything that goes into the folder, built in memory so it can be checked before writing. */
export interface PreparedArtifacts {
  readonly training: Model;
  readonly eval: Model;
  readonly optimizer: Model;
  /** The step model and its eval model (standard ONNX; frozen weights as initializers). */
  readonly step: StepModels;
  /** The checkpoint as parts: large tensors are views of the model's own bytes, not copies. */
  readonly checkpoint: CheckpointParts;
  readonly summary: object;
  /** E.g. weight decay that cannot skip some parameters. */
  readonly warnings: readonly Diagnostic[];
  /**
   * Where each parameter's bytes sit in `checkpoint`, for the tensors that went into it: the
   * default layout's adapted model reads its weights from there instead of holding a second copy.
   */
  readonly inCheckpoint: ReadonlyMap<Tensor, { readonly offset: number; readonly length: number }>;
}

export function prepareArtifacts(input: ArtifactsInput): PreparedArtifacts {
  const { plan, graphs } = input;
  const trainable = graphs.trainable.map((t) => t.name!);
  const noDecay = plan.optimizer.kind === 'adamw' ? decayExempt(trainable, plan.optimizer.noDecay) : [];
  const scale = plan.optimizer.lr / ORT_DEFAULT_LEARNING_RATE;
  const optimizer = buildOptimizerModel({
    optimizer:
      plan.optimizer.kind === 'adamw'
        ? { kind: 'adamw', beta1: plan.optimizer.betas[0], beta2: plan.optimizer.betas[1], epsilon: plan.optimizer.eps, weightDecay: plan.optimizer.weightDecay }
        : { kind: 'sgd' },
    trainable,
    // ONNX Runtime trains at 0.001 until told otherwise (onnxruntime-web cannot be told): scaling
    // inside the graph makes the default run at the spec's rate. See README, "Learning rate".
    learningRateScale: scale,
  });
  const step = stage('step model', () => buildStepModels(graphs, plan, new Set(noDecay)));
  const same = (a: readonly Tensor[], b: readonly Tensor[]) => a.length === b.length && a.every((t, i) => t === b[i]);
  const early = input.early;
  // The same tensors in the same order make the same file (the plan and spec are this compile's): encoded once.
  const checkpoint =
    early !== undefined && same(early.trainable, graphs.trainable) && same(early.frozen, graphs.frozen) ? early.parts : encodeArtifactCheckpoint(plan, input.spec, graphs.trainable, graphs.frozen);
  const learningRate = { spec: plan.optimizer.lr, scaleInOptimizerGraph: scale, runtimeDefault: ORT_DEFAULT_LEARNING_RATE };
  const summary = { ...input.summary, layout: input.layout, artifacts: ARTIFACTS, inputs: graphs.inputs, outputs: graphs.outputs, learningRate, step: step.interface };
  const inCheckpoint = new Map<Tensor, { offset: number; length: number }>();
  for (const t of [...graphs.trainable, ...graphs.frozen]) {
    const at = checkpoint.dataOffsets.get(t.name!);
    if (at) inCheckpoint.set(t, at);
  }
  return { training: graphs.training, eval: graphs.eval, optimizer: optimizer.model, step, checkpoint, summary, warnings: optimizer.warnings, inCheckpoint };
}

/** The checkpoint of the artifacts: `parameters` (trainable, then frozen) and the spec's properties. */
export function encodeArtifactCheckpoint(plan: Plan, spec: string, trainable: readonly Tensor[], frozen: readonly Tensor[]): CheckpointParts {
  return encodeCheckpointParts({
    trainable,
    frozen,
    properties: {
      strings: { spec, compiler: `adapterc ${VERSION}`, loss: plan.loss, target: plan.target },
      floats: { learning_rate: plan.optimizer.lr },
      ints: { seed: plan.seed },
    },
  });
}

/** Whether two encoded checkpoints are the same file: equal bytes, and the same file ranges where the tensors' bytes stay in their files. */
export function sameCheckpoint(a: CheckpointParts, b: CheckpointParts): boolean {
  if (a.size !== b.size || a.parts.length !== b.parts.length) return false;
  return a.parts.every((part, i) => {
    const other = b.parts[i]!;
    if (isSourceRange(part) || isSourceRange(other)) {
      return isSourceRange(part) && isSourceRange(other) && part.file === other.file && part.offset === other.offset && part.length === other.length;
    }
    return part === other || sameContents(part, other);
  });
}

export { BASE_DATA } from './base-data.js';

/** The shared-base layout's frozen base: every weight of the model as read, in its original order. */
export interface SharedBase {
  /** The model as `readModel` returned it (before adaptation). */
  readonly model: Model;
  readonly tensors: readonly Tensor[];
}

/** What `writeArtifacts` builds the folder from. */
export interface BuiltArtifacts {
  readonly prepared: PreparedArtifacts;
  /** The adapted inference model (model.adapted.onnx). */
  readonly inference: Model;
}

/**
 * Writes the checkpoint before the rest of the artifacts are built (`writeArtifacts` gives it to
 * `build`): it resolves once the copy is under way, so that `build` computes while it proceeds.
 */
export type WriteCheckpointEarly = (checkpoint: CheckpointParts) => Promise<void>;

/**
 * Builds the artifacts with `build` and writes them, with the adapted inference model, into
 * `folder`, all or nothing (`build` runs once the folder is known to be writable, so a bad output
 * path fails before the slow part). With `base` (the shared-base layout), the base's tensors go to
 * `base.data`, and the training and eval models reference them there. The big files are written
 * while `build` runs (on libuv's threads, in the kernel for base.data's copy, or on a worker
 * thread): base.data, started before `build`, and in the default layout `checkpoint`, the
 * checkpoint as expected from the adapted model, which `build` starts with the function it is
 * given once the model is adapted, and which is kept if the built artifacts' checkpoint turns out
 * the same and rewritten if not.
 */
export async function writeArtifacts(folder: string, build: (writeCheckpointEarly: WriteCheckpointEarly) => Promise<BuiltArtifacts>, base?: SharedBase): Promise<PreparedArtifacts> {
  return writeOutputFolder(folder, async (temporary) => {
    const baseData = base ? startBaseData(path.join(temporary, BASE_DATA), base.model, base.tensors) : undefined;
    // Awaited after the other files are written: a failure before that is reported then, not as unhandled.
    baseData?.written.catch(() => undefined);
    let early: { checkpoint: CheckpointParts; written: Promise<void> } | undefined;
    const writeCheckpointEarly: WriteCheckpointEarly = async (checkpoint) => {
      let copying: () => void = () => {};
      const copyStarted = new Promise<void>((resolve) => (copying = resolve));
      const written = writeFileAtomically(path.join(temporary, ARTIFACTS.checkpoint), checkpoint.parts, false, copying);
      early = { checkpoint, written };
      // `build` computes without yielding: the copy must be under way before it goes on, or the
      // copy would wait for it (the file is opened, and the worker started, on event-loop turns).
      await Promise.race([copyStarted, written.catch(() => undefined)]);
    };
    try {
      const { prepared, inference } = await build(writeCheckpointEarly);
      const kept = early !== undefined && sameCheckpoint(early.checkpoint, prepared.checkpoint);
      // The other files are encoded and written while the big file's copy finishes (it often
      // outlasts build); a checkpoint that differs is written again, once the early one has ended.
      const writeRest = (title: string) => stageAsync(title, () => writePrepared(temporary, prepared, inference, baseData && { data: baseData.layout, model: base!.model }, kept));
      if (early !== undefined && !kept) {
        await stageAsync('wait for the checkpoint', () => early!.written);
        await writeRest('write files (the checkpoint again: it differed)');
      } else {
        await writeRest('write files');
        if (early !== undefined) await stageAsync('wait for the checkpoint', () => early!.written);
      }
      if (baseData !== undefined) await stageAsync('wait for base.data', () => baseData.written);
      return prepared;
    } finally {
      // On failure the folder is removed: let the writes finish (or fail) first, and never leave a rejection unhandled.
      await Promise.all([baseData?.written.catch(() => undefined), early?.written.catch(() => undefined)]);
    }
  });
}

/**
 * What summary.json says of base.data, for `adapterc export`: base.data's first `copiedBytes` bytes
 * are a copy of the source file `copyOf`, which was the model's side file (`copiedFromSideFile`)
 * or the model file itself. Weights there that were external data in the source stay external
 * data when exported.
 */
export interface BaseDataSummary {
  readonly copyOf: string;
  readonly copiedBytes: number;
  readonly copiedFromSideFile: boolean;
}

/** Writes everything but base.data into `temporary`; with `base`, the models reference base.data. */
async function writePrepared(temporary: string, prepared: PreparedArtifacts, inference: Model, base: { data: BaseData; model: Model } | undefined, checkpointWritten: boolean): Promise<void> {
  // Each file is encoded here, in turn, and written while the next one is encoded: the writes'
  // file-system calls (open, write, close, rename, each a trip through libuv's threads) overlap.
  // Every write settles before a failure is reported (an encoding that threw, else a write): the
  // folder is removed after, with nothing in flight.
  const writes: Promise<void>[] = [];
  let summary: object;
  try {
    summary = startWrites(temporary, prepared, inference, base, checkpointWritten, (file) => writes.push(file));
  } catch (error) {
    await Promise.allSettled(writes);
    throw error;
  }
  const failed = (await Promise.allSettled(writes)).find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
  writeFileSync(path.join(temporary, MARKER), `${JSON.stringify(summary, null, 2)}\n`);
}

/** Encodes each file of the folder and starts writing it (`write`); returns the summary to write last. */
function startWrites(temporary: string, prepared: PreparedArtifacts, inference: Model, base: { data: BaseData; model: Model } | undefined, checkpointWritten: boolean, write: (file: Promise<void>) => void): object {
  let summary = prepared.summary;
  if (base) {
    const baseEntries = base.data.entries;
    for (const [model, name] of [
      [prepared.training, ARTIFACTS.training],
      [prepared.eval, ARTIFACTS.eval],
      [prepared.step.step, STEP_ARTIFACTS.step],
      [prepared.step.eval, STEP_ARTIFACTS.eval],
    ] as const) {
      write(writeFileAtomically(path.join(temporary, name), encodeModelParts(model, { relocated: baseEntries }).parts, false));
    }
    // Weights that were external data in the source are in base.data too: reference them there
    // instead of writing a second copy of the model's side file.
    write(writeAdaptedModel(temporary, inference, baseEntries, true));
    const copied = base.data.copied;
    if (copied !== undefined) {
      const baseData: BaseDataSummary = { copyOf: path.basename(copied.path), copiedBytes: copied.size, copiedFromSideFile: copied !== modelSourceFile(base.model) };
      summary = { ...summary, baseData };
    }
  } else {
    write(writeModel(prepared.training, path.join(temporary, ARTIFACTS.training)));
    write(writeModel(prepared.eval, path.join(temporary, ARTIFACTS.eval)));
    const inCheckpoint = new Map([...prepared.inCheckpoint].map(([t, at]) => [t, externalDataEntries(ARTIFACTS.checkpoint, at.offset, at.length)]));
    // The step models' frozen initializers read their bytes from the checkpoint.
    for (const [model, name] of [
      [prepared.step.step, STEP_ARTIFACTS.step],
      [prepared.step.eval, STEP_ARTIFACTS.eval],
    ] as const) {
      write(writeFileAtomically(path.join(temporary, name), encodeModelParts(model, { relocated: inCheckpoint }).parts, false));
    }
    write(writeAdaptedModel(temporary, inference, inCheckpoint, false));
  }
  write(writeModel(prepared.optimizer, path.join(temporary, ARTIFACTS.optimizer)));
  if (!checkpointWritten) write(writeFileAtomically(path.join(temporary, ARTIFACTS.checkpoint), prepared.checkpoint.parts, false));
  return summary;
}

/**
 * The adapted inference model, reading its weights from a file the folder already holds (the
 * checkpoint, or base.data) as ONNX external data, rather than holding a second copy of them.
 * Redirected are the tensors the source model kept inline as raw bytes, and, with `redirectExternal`
 * (base.data, which holds the source's side file), those it kept in a side file; other tensors in a
 * side file go to this model's own side file, and one kept in a typed field (float_data) stays
 * inline, so that `adapterc export` (which inlines the redirected ones again, except those that
 * were external data: see `BaseDataSummary`) writes what the source model had.
 */
async function writeAdaptedModel(folder: string, model: Model, available: ReadonlyMap<Tensor, readonly StringEntry[]>, redirectExternal: boolean): Promise<void> {
  const relocated = new Map<Tensor, readonly StringEntry[]>();
  for (const [t, entries] of available) {
    if (hasRawData(t) && t.floatData === undefined && (redirectExternal || t.dataLocation !== DataLocation.EXTERNAL)) relocated.set(t, entries);
  }
  const external = externalTensors(model).filter((t) => !relocated.has(t));
  if (external.length > 0) {
    const side = layoutExternalData(external, `${ADAPTED_MODEL}.data`);
    await writeFileAtomically(path.join(folder, `${ADAPTED_MODEL}.data`), side.parts, false);
    for (const [t, entries] of side.entries) relocated.set(t, entries);
  }
  await writeFileAtomically(path.join(folder, ADAPTED_MODEL), encodeModelParts(model, { relocated }).parts, false);
}

/** Trainable parameters the spec's `no_decay` kinds cover: biases, and LayerNorm scales and shifts. */
export function decayExempt(trainable: readonly string[], kinds: readonly string[]): string[] {
  return trainable.filter((name) => (kinds.includes('bias') && /(^|\.)bias$/.test(name)) || (kinds.includes('layernorm') && /layernorm|layer_?norm|\bln\d*\b/i.test(name)));
}
