/**
 * `withoutAccumulators`: the training model as standard ONNX, gradients as outputs, which
 * onnxruntime-node (and the GPU check, on CUDA) runs without a training build. Its gradients must be
 * the ones the training runtime applies: with plain SGD at rate 1, one optimizer step moves each
 * trainable parameter by exactly minus its gradient.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { decodeCheckpoint } from '../../src/emit/checkpoint/index.js';
import { withoutAccumulators } from '../../src/emit/training-graphs.js';
import { readFloat32 } from '../../src/ir/index.js';
import { encodeModel, readModel } from '../../src/load/index.js';
import { feedType, loadOrtTraining, type FeedTensor } from '../../src/runtime/ort-training.js';
import { writeSyntheticBertSync } from '../../src/synth/index.js';
import { compile, root, taskFeeds } from './harness.js';

const ortTensor = (t: FeedTensor): ort.Tensor => new ort.Tensor(feedType(t), t.data as Float32Array, [...t.dims]);

describe('the training model without its accumulators', () => {
  it('gives the loss and the gradients that the training runtime steps with', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'adapterc-no-acc-'));
    const model = path.join(dir, 'tiny.onnx');
    writeSyntheticBertSync({ preset: 'tiny', seed: 5 }, model);
    const spec = path.join(dir, 'sgd.adp');
    writeFileSync(spec, `import "${path.join(root, 'specs', 'houlsby.adp')}"\n\ntrain {\n  optimizer sgd(lr 1)\n}\n`);
    const { folder } = await compile(spec, model);

    const { model: plain, gradients } = withoutAccumulators(await readModel(path.join(folder, 'training_model.onnx')));
    expect(plain.graph.nodes.some((n) => n.domain === 'com.microsoft')).toBe(false);
    const checkpoint = decodeCheckpoint(readFileSync(path.join(folder, 'checkpoint')));
    expect(gradients.map((g) => g.parameter)).toEqual(checkpoint.trainable.map((t) => t.name));

    const batch = await taskFeeds(folder);
    const feeds: Record<string, ort.Tensor> = Object.fromEntries(Object.entries(batch).map(([n, t]) => [n, ortTensor(t)]));
    for (const t of [...checkpoint.trainable, ...checkpoint.frozen]) feeds[t.name!] = ortTensor({ data: readFloat32(t), dims: t.dims });
    const session = await ort.InferenceSession.create(encodeModel(plain));
    const outputs = await session.run(Object.fromEntries(session.inputNames.map((n) => [n, feeds[n]!])));
    await session.release();

    const runtime = await (await loadOrtTraining()).createSession({
      checkpoint: path.join(folder, 'checkpoint'),
      trainingModel: path.join(folder, 'training_model.onnx'),
      optimizerModel: path.join(folder, 'optimizer_model.onnx'),
    });
    try {
      const before = await runtime.parameters(true);
      const stepped = await runtime.trainStep(batch);
      await runtime.optimizerStep();
      const after = await runtime.parameters(true);
      const loss = (outputs[plain.graph.outputs[0]!.name]!.data as Float32Array)[0]!;
      expect(loss).toBeCloseTo((stepped[runtime.trainingOutputNames[0]!]!.data as Float32Array)[0]!, 5);

      // Parameters come back contiguous in the training model's order, the checkpoint's trainable order.
      let offset = 0;
      let largest = 0;
      let worst = 0;
      for (const g of gradients) {
        const gradient = outputs[g.gradient]!.data as Float32Array;
        for (let i = 0; i < gradient.length; i++) {
          const applied = before[offset + i]! - after[offset + i]!;
          largest = Math.max(largest, Math.abs(gradient[i]!));
          worst = Math.max(worst, Math.abs(applied - gradient[i]!));
        }
        offset += gradient.length;
      }
      expect(offset).toBe(before.length);
      expect(largest).toBeGreaterThan(1e-4);
      expect(worst / largest).toBeLessThan(1e-4);
    } finally {
      await runtime.release();
    }
  });
});
