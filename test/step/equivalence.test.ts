/**
 * The step model against ONNX Runtime 1.19.2's training runtime, on corpus models: the same
 * compiled folder, checkpoint and batches through both runtimes (`src/train/runtimes`).
 *
 * - weight decay 0: the loss at each of 50 steps and every trainable parameter tensor after them
 *   agree within 1e-5 relative (‖Δ‖₂ / ‖p‖₂ per tensor), at the spec language's default lr 1e-4,
 *   with a linear schedule computed in both graphs from the step number. Single elements differ
 *   more, up to about 1e-4
 *   of their tensor's largest value: the runtimes' kernels (ORT 1.19.2 in WebAssembly, ORT 1.30
 *   native) sum in different orders, and where a gradient is tiny, AdamW's update lr·m̂/(√v̂ + ε)
 *   does not shrink with it, so its rounding differences become visible, and later steps carry them
 *   on: the worst tensor differs by 3e-5 at lr 1e-4 (a 2-element bias that starts at zero), and at
 *   lr 1e-2 the deep, 8-wide keras2onnx model's trajectories part (1e-1 after 50 steps). SGD, whose update is
 *   linear in the gradient, agrees to 1e-6 at lr 1e-1 (tested below).
 * - weight decay on: ORT's AdamW decays every parameter, the step model skips the `no_decay` ones.
 *   After one step the decayed parameters agree, and each exempt one differs by exactly the decay
 *   ORT applied to it, lr · wd · p.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { expect, it } from 'vitest';
import { readFloat32 } from '../../src/ir/index.js';
import type { Feeds } from '../../src/runtime/ort-training.js';
import { planFor, readArtifacts, resolveSchedule } from '../../src/train/index.js';
import { openOrtTrainingRuntime } from '../../src/train/runtimes/ort-training.js';
import type { TrainingRuntime } from '../../src/train/runtimes/runtime.js';
import { openStepRuntime, stepInterfaceOf } from '../../src/train/runtimes/step-model.js';
import { compile, root, taskFeeds } from '../artifacts/harness.js';
import { corpusPath, describeCorpus } from '../load/corpus.js';

function spec(optimizer: string, schedule: string, base = 'houlsby.adp'): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'adapterc-step-spec-')), 'spec.adp');
  writeFileSync(file, `import "${path.join(root, 'specs', base)}"\n\ntrain {\n  optimizer ${optimizer}\n  schedule ${schedule}\n}\n`);
  return file;
}

/** The task's batch with its rows rotated by `step` (each example keeps its label). */
function batchAt(base: Feeds, step: number): Feeds {
  const rows = base['labels']!.dims[0]!;
  const out: Record<string, Feeds[string]> = {};
  for (const [name, f] of Object.entries(base)) {
    const width = f.data.length / rows;
    const data = f.data.slice() as typeof f.data;
    for (let r = 0; r < rows; r++) data.set(f.data.subarray(((r + step) % rows) * width, ((r + step) % rows + 1) * width) as never, r * width);
    out[name] = { ...f, data };
  }
  return out;
}

async function open(folder: string, runtime: 'step-model' | 'ort-training', totalSteps: number): Promise<TrainingRuntime> {
  const info = readArtifacts(folder);
  const { plan } = planFor(info, root);
  return runtime === 'ort-training' ? openOrtTrainingRuntime(info, plan, resolveSchedule(plan.schedule, totalSteps)) : openStepRuntime(info, { totalSteps });
}

async function run(folder: string, runtime: 'step-model' | 'ort-training', steps: number): Promise<{ losses: number[]; values: Map<string, Float32Array> }> {
  const session = await open(folder, runtime, steps);
  try {
    const base = await taskFeeds(folder);
    const losses: number[] = [];
    for (let step = 1; step <= steps; step++) losses.push(await session.trainStep(batchAt(base, step), step));
    return { losses, values: await session.trainable() };
  } finally {
    await session.release();
  }
}

function maxAbs(a: Float32Array): number {
  return a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
}

/** ‖a − b‖₂ / ‖b‖₂. */
function relativeDifference(a: Float32Array, b: Float32Array): number {
  let difference = 0;
  let norm = 0;
  b.forEach((v, i) => {
    difference += (a[i]! - v) ** 2;
    norm += v * v;
  });
  return Math.sqrt(difference / norm);
}

const MODELS = [
  'pytorch-1.13/minibert_opset11.onnx',
  'pytorch-1.13/minibert_opset17.onnx',
  'pytorch-1.13/minibert_static_opset11.onnx',
  'ort-testdata/bert_toy_pytorch1.1_opset10_unsorted.onnx',
  'ort-testdata/tf2.1_keras2onnx_bert_mrpc_opset10.onnx',
  'ort-optimized/minibert_static_opset11_skiplayernorm.onnx',
  'ort-optimized/minibert_opset14_layernorm_biasgelu.onnx',
];

describeCorpus('the step model in onnxruntime-node against ORT 1.19.2 training', () => {
  async function compare(file: string, optimizer: string, tolerance: number, perTensor: number, base?: string): Promise<void> {
    const { folder } = await compile(spec(optimizer, 'linear(warmup 10%)', base), corpusPath(file));
    const steps = 50;
    const [ort, stepped] = [await run(folder, 'ort-training', steps), await run(folder, 'step-model', steps)];
    stepped.losses.forEach((loss, i) => expect(Math.abs(loss - ort.losses[i]!), `step ${i + 1}`).toBeLessThanOrEqual(1e-5 * Math.abs(ort.losses[i]!)));
    // The run learned something: the comparison is not of two untouched checkpoints.
    expect(stepped.losses.at(-1)!).toBeLessThan(stepped.losses[0]!);
    expect([...ort.values.keys()]).toEqual([...stepped.values.keys()]);
    for (const [name, want] of ort.values) expect(relativeDifference(stepped.values.get(name)!, want), name).toBeLessThanOrEqual(perTensor);
    const all = (values: Map<string, Float32Array>) => Float32Array.from([...values.values()].flatMap((v) => [...v]));
    expect(relativeDifference(all(stepped.values), all(ort.values))).toBeLessThanOrEqual(tolerance);
  }

  it.each(MODELS)('%s: 50 AdamW steps without weight decay give the same losses and parameters', (file) => compare(file, 'adamw(lr 1e-4, weight_decay 0)', 1e-5, 1e-4));

  // Issue 19: the parallel adapter (specs/parallel.adp: beside the FFN, scaling 4, mam init) trains alike in both runtimes.
  it('parallel adapters: 50 AdamW steps give the same losses and parameters', () => compare('pytorch-1.13/minibert_opset11.onnx', 'adamw(lr 1e-4, weight_decay 0)', 1e-5, 1e-4, 'parallel.adp'));

  // LoRA on the query and value projections (specs/lora.adp), and (IA)³ on keys, values and the FFN activation (specs/ia3.adp).
  it('LoRA: 50 AdamW steps give the same losses and parameters', () => compare('pytorch-1.13/minibert_opset11.onnx', 'adamw(lr 1e-4, weight_decay 0)', 1e-5, 1e-4, 'lora.adp'));
  it('(IA)³: 50 AdamW steps give the same losses and parameters', () => compare('ort-optimized/minibert_static_opset11_skiplayernorm.onnx', 'adamw(lr 1e-4, weight_decay 0)', 1e-5, 1e-4, 'ia3.adp'));

  it('SGD, linear in the gradients, agrees to 1e-6 over 50 steps', () => compare('ort-testdata/tf2.1_keras2onnx_bert_mrpc_opset10.onnx', 'sgd(lr 1e-1)', 1e-6, 1e-6));

  it('weight decay: decayed parameters agree after a step; each no_decay one differs by exactly lr · wd · p', async () => {
    const lr = 1e-3;
    const wd = 0.5;
    const { folder } = await compile(spec(`adamw(lr ${lr}, weight_decay ${wd})`, 'constant'), corpusPath('pytorch-1.13/minibert_opset11.onnx'));
    const info = readArtifacts(folder);
    const initial = new Map(info.checkpoint.trainable.map((t) => [t.name!, readFloat32(t)]));
    const exempt = new Set(stepInterfaceOf(info).parameters.filter((p) => !p.decay).map((p) => p.name));
    expect(exempt.size).toBeGreaterThan(0);
    expect([...exempt].every((name) => /bias$|layer_?norm|\bln\d*\b/i.test(name))).toBe(true);
    const [ort, stepped] = [await run(folder, 'ort-training', 1), await run(folder, 'step-model', 1)];
    let decayedExempt = 0;
    for (const [name, want] of ort.values) {
      const got = stepped.values.get(name)!;
      if (!exempt.has(name)) {
        expect(relativeDifference(got, want), name).toBeLessThanOrEqual(1e-5);
        continue;
      }
      // What ORT took off on top of the step model's update, against the decay lr · wd · p.
      const p0 = initial.get(name)!;
      if (maxAbs(p0) === 0) continue; // a zero bias decays by zero
      const decay = p0.map((p) => lr * wd * p);
      expect(relativeDifference(got.map((v, i) => v - want[i]!), decay), name).toBeLessThanOrEqual(1e-3);
      decayedExempt++;
    }
    expect(decayedExempt).toBeGreaterThan(0);
  });
});
