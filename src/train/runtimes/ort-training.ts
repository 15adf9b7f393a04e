/**
 * `adapterc train --runtime ort-training`: the four artifacts in ONNX Runtime 1.19.2's training
 * runtime (onnxruntime-web's training build: WebAssembly, CPU, one thread), as ORT 1.19.2 users
 * load them.
 *
 * The learning rate: onnxruntime-web trains at its fixed 0.001 and cannot be told otherwise, so the
 * optimizer model is rebuilt in memory for the run (the folder's own optimizer_model.onnx is not
 * used) with the spec's optimizer and a graph that computes the rate of each step from the `step`
 * input the runtime feeds: lr(step) = 0.001 · (lr_spec / 0.001) · schedule(step), with the spec's
 * schedule over this run's total number of steps (`src/emit/optimizer.ts`). Its AdamW decays every
 * trainable parameter (the runtime cannot exempt `no_decay` ones: see ADP3110).
 *
 * The runtime's contiguous buffer of trainable parameters (`parameters(true)`) is laid out in the
 * training model's parameter input order; that layout is checked against the checkpoint when the
 * session starts.
 */
import type { Plan } from '../../check/plan.js';
import { decayExempt, ORT_DEFAULT_LEARNING_RATE } from '../../emit/artifacts.js';
import { buildOptimizerModel, type LinearSchedule } from '../../emit/optimizer.js';
import { tensorBytes } from '../../ir/index.js';
import { encodeModel } from '../../load/index.js';
import { loadOrtTraining } from '../../runtime/ort-training.js';
import type { ArtifactsInfo } from '../artifacts.js';
import type { TrainingRuntime } from './runtime.js';

/** The trainable slots of the runtime's buffer, in the training model's parameter order. */
export function splitTrainable(info: ArtifactsInfo, buffer: Float32Array): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  let at = 0;
  for (const p of info.parameters.filter((slot) => slot.trainable)) {
    out.set(p.name, buffer.slice(at, at + p.size));
    at += p.size;
  }
  if (at !== buffer.length) throw new Error(`the runtime's trainable-parameter buffer holds ${buffer.length} values, the training model's trainable inputs ${at}`);
  return out;
}

export async function openOrtTrainingRuntime(info: ArtifactsInfo, plan: Plan, schedule: LinearSchedule | undefined): Promise<TrainingRuntime> {
  const optimizer = buildOptimizerModel({
    optimizer: plan.optimizer.kind === 'adamw' ? { kind: 'adamw', beta1: plan.optimizer.betas[0], beta2: plan.optimizer.betas[1], epsilon: plan.optimizer.eps, weightDecay: plan.optimizer.weightDecay } : { kind: 'sgd' },
    trainable: info.checkpoint.trainable.map((t) => t.name!),
    ...(plan.optimizer.kind === 'adamw' ? { noDecay: decayExempt(info.checkpoint.trainable.map((t) => t.name!), plan.optimizer.noDecay) } : {}),
    learningRateScale: plan.optimizer.lr / ORT_DEFAULT_LEARNING_RATE,
    ...(schedule === undefined ? {} : { schedule }),
  });
  // One WebAssembly thread: onnxruntime-web's threaded build needs worker scripts it fetches, which Node cannot.
  const runtime = await loadOrtTraining();
  // By path: the runtime wrapper inlines the shared-base layout's external data.
  const session = await runtime.createSession({ checkpoint: info.files.checkpoint, trainingModel: info.files.training, evalModel: info.files.eval, optimizerModel: new Uint8Array(encodeModel(optimizer.model)) });
  const trainable = async () => splitTrainable(info, await session.parameters(true));
  // The buffer's layout, as assumed: it must equal the checkpoint's values in that order.
  const initial = await trainable();
  for (const t of info.checkpoint.trainable) {
    const want = tensorBytes(t);
    const got = initial.get(t.name!);
    if (got === undefined || !Buffer.from(got.buffer, got.byteOffset, got.byteLength).equals(Buffer.from(want.buffer, want.byteOffset, want.byteLength))) {
      await session.release();
      throw new Error(`the runtime's parameter buffer is not in the training model's parameter order: '${t.name}' differs from the checkpoint`);
    }
  }
  return {
    description: "ONNX Runtime 1.19.2's training runtime (onnxruntime-web, WebAssembly, 1 thread)",
    warnings: optimizer.warnings,
    async trainStep(feeds) {
      const out = await session.trainStep(feeds);
      const loss = (out[info.outputs[0]!]!.data as Float32Array)[0]!;
      await session.optimizerStep();
      await session.lazyResetGrad();
      return loss;
    },
    evalStep: (feeds) => session.evalStep(feeds),
    trainable,
    release: () => session.release(),
  };
}
