/**
 * End to end against ONNX Runtime's training runtime (onnxruntime-web 1.19.2, WebAssembly): the
 * checkpoint and optimizer model written by adapterc, with a hand-built training and eval model,
 * load and train; one optimizer step matches the AdamW formula the attributes promise.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeCheckpoint, encodeCheckpoint, writeCheckpoint, type CheckpointInput, type MomentPair } from '../../src/emit/checkpoint/index.js';
import { buildOptimizerModel, type AdamWSettings, type OptimizerModelOptions } from '../../src/emit/optimizer.js';
import { makeTensor } from '../../src/ir/index.js';
import { encodeModel, writeModel } from '../../src/load/index.js';
import { droppedStackFrees } from '../../src/runtime/stack-free-fix.js';
import { loadOrtTraining, OrtTrainingError, ortTrainingCrashed, type Feeds, type OrtTrainingRuntime, type TrainingSession } from '../../src/runtime/ort-training.js';
import {
  buildTinyEvalModel,
  buildTinyTrainingModel,
  FEATURES,
  SCALE,
  tinyBatch,
  tinyLossAndGradient,
  tinyParameters,
  TRAINABLE,
} from './tiny-training-model.js';

let ort: OrtTrainingRuntime;
const trainingModel = encodeModel(buildTinyTrainingModel());
const evalModel = encodeModel(buildTinyEvalModel());

beforeAll(async () => {
  ort = await loadOrtTraining();
});

function feeds(batch: { x: Float32Array; y: Float32Array }): Feeds {
  return { x: { data: batch.x, dims: [batch.y.length, FEATURES] }, y: { data: batch.y, dims: [batch.y.length, 1] } };
}

function optimizerModel(options: Partial<OptimizerModelOptions> = {}): Uint8Array {
  return encodeModel(buildOptimizerModel({ optimizer: { kind: 'adamw' }, trainable: [...TRAINABLE], ...options }).model);
}

async function session(checkpoint: CheckpointInput, optimizer: Uint8Array = optimizerModel()): Promise<TrainingSession> {
  return ort.createSession({ checkpoint: encodeCheckpoint(checkpoint), trainingModel, evalModel, optimizerModel: optimizer });
}

describe('training the tiny model in ONNX Runtime', () => {
  it('learns: the loss falls by more than half in 30 steps, the frozen parameter stays bit-identical', async () => {
    const { trainable, frozen } = tinyParameters();
    // onnxruntime-web trains at its default learning rate 0.001; the optimizer graph scales it to 0.05.
    const s = await session({ trainable, frozen }, optimizerModel({ optimizer: { kind: 'adamw', weightDecay: 0 }, learningRateScale: 50 }));
    try {
      expect(s.trainingInputNames).toEqual(['x', 'y']);
      expect(s.trainingOutputNames).toEqual(['loss']);
      expect(s.evalOutputNames).toEqual(['loss']);
      expect(await s.parametersSize(true)).toBe(FEATURES + 1);
      expect(await s.parametersSize(false)).toBe(FEATURES + 1 + FEATURES);
      const before = await s.parameters(false);
      expect([...before.subarray(FEATURES + 1)]).toEqual([...SCALE]);

      const losses: number[] = [];
      for (let step = 0; step < 30; step++) {
        const out = await s.trainStep(feeds(tinyBatch(step)));
        expect(out.loss!.dims).toEqual([]);
        losses.push((out.loss!.data as Float32Array)[0]!);
        await s.optimizerStep();
        await s.lazyResetGrad();
      }
      expect(losses[losses.length - 1]!).toBeLessThan(losses[0]! / 2);

      const after = await s.parameters(false);
      const frozenBits = (a: Float32Array): number[] => [...new Uint32Array(a.slice(FEATURES + 1).buffer)];
      expect(frozenBits(after)).toEqual(frozenBits(before));
      expect([...after.subarray(0, FEATURES + 1)]).toEqual([...(await s.parameters(true))]);

      // The eval model runs with the trained parameters and returns the loss JavaScript computes for them.
      const batch = tinyBatch(1000);
      const evaluated = await s.evalStep(feeds(batch));
      expect(Object.keys(evaluated)).toEqual(['loss']);
      const expected = tinyLossAndGradient([...after.subarray(0, FEATURES)], after[FEATURES]!, batch).loss;
      expect((evaluated.loss!.data as Float32Array)[0]).toBeCloseTo(expected, 5);
    } finally {
      await s.release();
    }
  });

  it('computes the gradient the JavaScript reference computes, accumulates it, and resets it lazily', async () => {
    const { trainable, frozen } = tinyParameters();
    const s = await session({ trainable, frozen }, encodeModel(buildOptimizerModel({ optimizer: { kind: 'sgd' }, trainable: [...TRAINABLE] }).model));
    try {
      // SGD at the default rate 0.001: one step moves each parameter by −0.001 × its gradient.
      const a = tinyBatch(7);
      const b = tinyBatch(8);
      const ga = tinyLossAndGradient([0, 0, 0], 0, a).gradient;
      const gb = tinyLossAndGradient([0, 0, 0], 0, b).gradient;
      await s.trainStep(feeds(a));
      await s.trainStep(feeds(b)); // accumulates onto a's gradient
      await s.optimizerStep();
      const stepped = await s.parameters();
      ga.forEach((g, i) => expect(stepped[i]!).toBeCloseTo(-0.001 * (g + gb[i]!), 7));

      await s.lazyResetGrad();
      await s.trainStep(feeds(a)); // replaces the buffer rather than adding to it
      await s.optimizerStep();
      const w = [...stepped.subarray(0, FEATURES)];
      const g2 = tinyLossAndGradient(w, stepped[FEATURES]!, a).gradient;
      const twice = await s.parameters();
      g2.forEach((g, i) => expect(twice[i]!).toBeCloseTo(stepped[i]! - 0.001 * g, 7));
    } finally {
      await s.release();
    }
  });

  it('reads the artifacts from files written by writeCheckpoint and writeModel', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'adapterc-artifacts-'));
    try {
      const { trainable, frozen } = tinyParameters();
      const paths = {
        checkpoint: join(folder, 'checkpoint'),
        trainingModel: join(folder, 'training_model.onnx'),
        evalModel: join(folder, 'eval_model.onnx'),
        optimizerModel: join(folder, 'optimizer_model.onnx'),
      };
      await writeCheckpoint(paths.checkpoint, { trainable, frozen, properties: { strings: { spec: 'tiny' } } });
      await writeModel(buildTinyTrainingModel(), paths.trainingModel);
      await writeModel(buildTinyEvalModel(), paths.evalModel);
      await writeModel(buildOptimizerModel({ optimizer: { kind: 'adamw' }, trainable: [...TRAINABLE] }).model, paths.optimizerModel);
      expect(decodeCheckpoint(readFileSync(paths.checkpoint)).properties.strings).toEqual({ spec: 'tiny' });
      const s = await ort.createSession(paths);
      try {
        await s.trainStep(feeds(tinyBatch(0)));
        await s.optimizerStep();
        expect([...(await s.parameters())].every((v) => Math.abs(v) > 0)).toBe(true);
      } finally {
        await s.release();
      }
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it('loads parameters from a buffer', async () => {
    const { trainable, frozen } = tinyParameters();
    const s = await session({ trainable, frozen });
    try {
      await s.loadParameters(new Float32Array([1, 2, 3, 4]));
      expect([...(await s.parameters())]).toEqual([1, 2, 3, 4]);
      await s.loadParameters(new Float32Array([5, 6, 7, 8, 9, 10, 11]), false);
      expect([...(await s.parameters(false))]).toEqual([5, 6, 7, 8, 9, 10, 11]);
      await expect(s.loadParameters(new Float32Array(3))).rejects.toThrow(OrtTrainingError);
    } finally {
      await s.release();
    }
  });

  it("drops the build's frees of stack pointers (its heap-corruption bug) and round-trips parameters many times", async () => {
    const { trainable, frozen } = tinyParameters();
    const s = await session({ trainable, frozen });
    try {
      const all = await s.parameters(false);
      const before = droppedStackFrees() ?? 0;
      for (let i = 0; i < 50; i++) {
        await s.loadParameters(await s.parameters(true));
        expect([...(await s.parameters(false))]).toEqual([...all]);
      }
      // Each parameters() and loadParameters() call frees one stack pointer in onnxruntime-web 1.19.2.
      expect((droppedStackFrees() ?? 0) - before).toBe(150);
      expect(ortTrainingCrashed()).toBe(false);
    } finally {
      await s.release();
    }
  });
});

describe('the optimizer model and checkpoint state as the runtime applies them', () => {
  const w0 = [0.5, -0.3, 0.2];
  const b0 = 0.1;
  const storedStep = 4;
  const moments = new Map<string, MomentPair>([
    ['W', { m0: new Float32Array([0.2, -0.1, 0.05]), m1: new Float32Array([0.04, 0.01, 0.3]) }],
    ['b', { m0: new Float32Array([-0.3]), m1: new Float32Array([0.5]) }],
  ]);

  /** One AdamW step as ONNX Runtime's kernel computes it, in double precision. */
  function expectedAdamW(settings: Required<Omit<AdamWSettings, 'kind' | 'correctBias'>>, gradient: number[]): number[] {
    const lr = 0.001;
    const t = storedStep + 1; // the runtime feeds the stored step + 1
    const { beta1, beta2, epsilon, weightDecay } = settings;
    const p = [...w0, b0];
    const m = [...moments.get('W')!.m0, ...moments.get('b')!.m0];
    const v = [...moments.get('W')!.m1, ...moments.get('b')!.m1];
    const c1 = 1 - beta1 ** t;
    const c2 = 1 - beta2 ** t;
    return p.map((pi, i) => {
      const g = gradient[i]!;
      const mi = beta1 * m[i]! + (1 - beta1) * g;
      const vi = beta2 * v[i]! + (1 - beta2) * g * g;
      if (settings.mode === 'pytorch') {
        // torch.optim.AdamW: decay first, then the bias-corrected update.
        const decayed = pi - lr * weightDecay * pi;
        return decayed - (lr * mi) / (c1 * (Math.sqrt(vi / c2) + epsilon));
      }
      // Hugging Face AdamW: the corrected rate on the uncorrected moments, then decay.
      const updated = pi - ((lr * Math.sqrt(c2)) / c1) * (mi / (Math.sqrt(vi) + epsilon));
      return updated - lr * weightDecay * updated;
    });
  }

  for (const mode of ['pytorch', 'huggingface'] as const) {
    it(`applies AdamW in ${mode} mode with the stored step and moments`, async () => {
      // A large epsilon tells the modes apart: mode 0 adds it to the corrected sqrt(v̂), mode 1 to sqrt(v).
      const settings = { beta1: 0.8, beta2: 0.95, epsilon: 0.1, weightDecay: 0.5, mode };
      const checkpoint: CheckpointInput = {
        trainable: [makeTensor('W', [FEATURES, 1], new Float32Array(w0)), makeTensor('b', [1], new Float32Array([b0]))],
        frozen: tinyParameters().frozen,
        optimizer: { learningRate: 0.001, step: storedStep, moments },
      };
      const s = await session(checkpoint, optimizerModel({ optimizer: { kind: 'adamw', ...settings } }));
      try {
        const batch = tinyBatch(3);
        await s.trainStep(feeds(batch));
        await s.optimizerStep();
        const got = [...(await s.parameters())];
        const expected = expectedAdamW(settings, tinyLossAndGradient(w0, b0, batch).gradient);
        got.forEach((value, i) => expect(value).toBeCloseTo(expected[i]!, 6));
        // The step changes the parameters by far more than the tolerance.
        expect(Math.abs(got[0]! - w0[0]!)).toBeGreaterThan(1e-4);
      } finally {
        await s.release();
      }
    });
  }
});

describe('runtime errors', () => {
  it('turns a C++ exception (a bare number) into an OrtTrainingError naming the operation', async () => {
    const { trainable, frozen } = tinyParameters();
    // The training model as the optimizer model: its inputs are not the optimizer's.
    const error = await ort
      .createSession({ checkpoint: encodeCheckpoint({ trainable, frozen }), trainingModel, optimizerModel: trainingModel })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OrtTrainingError);
    const e = error as OrtTrainingError;
    expect(e.operation).toBe('create');
    expect(typeof e.exceptionPointer).toBe('number');
    expect(e.message).toMatch(/C\+\+ exception in create .*common causes: /);
  });

  it('keeps the message of errors ORT returns as a status', async () => {
    const error = await ort.createSession({ checkpoint: new Uint8Array(64), trainingModel }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OrtTrainingError);
    expect((error as Error).message).toMatch(/Checkpoint verification failed/);
  });

  it('reports feeds of the wrong shape during a step', async () => {
    const { trainable, frozen } = tinyParameters();
    const s = await session({ trainable, frozen });
    try {
      const batch = tinyBatch(1);
      const error = await s.trainStep({ ...feeds(batch), x: { data: batch.x, dims: [8, 6] } }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(OrtTrainingError);
      expect((error as OrtTrainingError).operation).toBe('trainStep');
    } finally {
      await s.release();
    }
  });
});
