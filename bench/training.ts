/**
 * `npm run bench` (training part):
 *
 * 1. Arithmetic of a training step against a forward pass, on a BERT-base-shaped model: the
 *    multiply-adds of the training graph (forward + loss + backward) divided by the eval graph's
 *    (forward + loss). Full fine-tuning is about 3 (forward, input gradients, weight gradients);
 *    adapters in every layer close to 2 (weight gradients only for the small adapters); adapters
 *    in the top half only close to 1.5 (the backward pass stops halfway down).
 * 2. Wall time of one training step (train + optimizer step) in ONNX Runtime's training runtime
 *    (onnxruntime-web 1.19.2, CPU, one thread), adapters vs full fine-tuning, on a small model,
 *    measured in the same run: medians of timed steps after warm-up.
 *
 * Usage: npm run bench -- [--preset base|tiny] [--steps N]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { checkSpecFile } from '../src/check/check.js';
import { multiplyAdds } from '../src/differentiate/cost.js';
import { shapeTable } from '../src/shapes/index.js';
import { discover } from '../src/discover/index.js';
import { buildTrainingGraphs, withoutAccumulators } from '../src/emit/training-graphs.js';
import { readModel } from '../src/load/index.js';
import { adaptModel, bindToModel } from '../src/rewrite/rewrite.js';
import { writeSyntheticBert, type PresetName } from '../src/synth/index.js';
import { compile, specWithRate, taskFeeds } from '../test/artifacts/harness.js';
import { loadOrtTraining } from '../src/runtime/ort-training.js';

const { values } = parseArgs({ options: { preset: { type: 'string', default: 'base' }, steps: { type: 'string', default: '10' } } });
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');

async function arithmetic(file: string, spec: string): Promise<{ ratio: number; forward: number; training: number }> {
  const checked = checkSpecFile(path.join(root, 'specs', spec));
  const model = await readModel(file);
  const found = discover(model, file);
  const adaptation = adaptModel(model, found, bindToModel(checked.plan!, found, checked.sources, file));
  const graphs = await buildTrainingGraphs(model, checked.plan!, found, adaptation, file);
  const forward = multiplyAdds(graphs.eval, shapeTable(graphs.eval, file));
  const backward = withoutAccumulators(graphs.training).model;
  const training = multiplyAdds(backward, shapeTable(backward, file));
  return { ratio: training / forward, forward, training };
}

async function stepTime(model: string, spec: string, steps: number): Promise<number> {
  const { folder } = await compile(specWithRate(spec, 1e-3), model);
  const ort = await loadOrtTraining();
  const session = await ort.createSession({
    checkpoint: path.join(folder, 'checkpoint'),
    trainingModel: path.join(folder, 'training_model.onnx'),
    optimizerModel: path.join(folder, 'optimizer_model.onnx'),
  });
  const feeds = await taskFeeds(folder);
  const times: number[] = [];
  for (let i = 0; i < steps + 3; i++) {
    const started = performance.now();
    await session.trainStep(feeds);
    await session.optimizerStep();
    await session.lazyResetGrad();
    if (i >= 3) times.push(performance.now() - started);
  }
  await session.release();
  rmSync(path.dirname(folder), { recursive: true, force: true });
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'adapterc-bench-training-'));
  try {
    const preset = values.preset as PresetName;
    const big = path.join(dir, `bert-${preset}.onnx`);
    // Opset 16: the embedding gradient is a scatter-add there (below it, a product over the vocabulary).
    const manifest = await writeSyntheticBert({ preset, seed: 1, opset: 16 }, big);
    console.log(`\ntraining arithmetic: synthetic BERT '${preset}' (${manifest.layers} layers, hidden ${manifest.hidden}, opset 16); multiply-adds of MatMul/Gemm, training graph / eval graph`);
    const specs = [
      ['full-finetune.adp', 'about 3'],
      ['houlsby.adp', 'close to 2'],
      ...(manifest.layers === 12 ? [['top-layers.adp', 'close to 1.5'] as const] : []),
    ] as const;
    for (const [spec, expected] of specs) {
      const r = await arithmetic(big, spec);
      console.log(`  ${spec.padEnd(18)} ${r.ratio.toFixed(2)}  (expected ${expected}; ${(r.training / 1e9).toFixed(2)} G vs ${(r.forward / 1e9).toFixed(2)} G at batch 2, sequence 5)`);
    }

    const steps = Number(values.steps);
    const small = path.join(dir, 'bert-small.onnx');
    await writeSyntheticBert({ layers: 4, hidden: 128, heads: 4, ffn: 512, vocab: 1000, seed: 1 }, small);
    console.log(`\ntraining step wall time in onnxruntime-web 1.19.2 (CPU, 1 thread): 4 layers, hidden 128, batch 8, sequence 6; median of ${steps} steps`);
    // The first session in a process pays for warming the runtime up: a throwaway run first.
    await stepTime(small, 'houlsby.adp', 3);
    const adapters = await stepTime(small, 'houlsby.adp', steps);
    const full = await stepTime(small, 'full-finetune.adp', steps);
    console.log(`  full fine-tuning  ${full.toFixed(1)} ms\n  houlsby adapters  ${adapters.toFixed(1)} ms  (${(adapters / full).toFixed(2)}x full fine-tuning)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
