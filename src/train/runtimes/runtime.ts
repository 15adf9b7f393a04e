/**
 * What `adapterc train` needs from a runtime: a training step on a batch, an eval step, and the
 * trainable parameters' values. Two runtimes implement it:
 *
 *   step-model.ts    the step model (step_model.onnx) in onnxruntime-node: any current ONNX
 *                    Runtime, native, all cores (the default)
 *   ort-training.ts  the four ORT training artifacts in ONNX Runtime 1.19.2's training runtime
 *                    (onnxruntime-web's training build, WebAssembly, one thread)
 */
import type { Diagnostic } from '../../diagnostics/index.js';
import type { Feeds, Outputs } from '../../runtime/ort-training.js';

export type RuntimeName = 'step-model' | 'ort-training';

export interface TrainingRuntime {
  /** Which runtime and model, for the run's first lines and its log. */
  readonly description: string;
  /** What the run should know about this runtime (e.g. ADP3110: weight decay it cannot skip). */
  readonly warnings: readonly Diagnostic[];
  /** One optimizer step (1-based) on a batch; returns the loss before the update. */
  trainStep(feeds: Feeds, step: number): Promise<number>;
  /** The eval model on a batch: the loss, then the head's output (by output name). */
  evalStep(feeds: Feeds): Promise<Outputs>;
  /** The trainable parameters' current values, by name (copies the caller owns). */
  trainable(): Promise<Map<string, Float32Array>>;
  release(): Promise<void>;
}
