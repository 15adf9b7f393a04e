/**
 * The learning rate of each optimizer step: the schedule's formula, and the optimizer graph that
 * computes it from `step` (its learning-rate nodes run in onnxruntime-node, which has no
 * AdamWOptimizer kernel, by cutting the graph at the optimizer's learning-rate input).
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { buildOptimizerModel, linearScheduleFactor } from '../../src/emit/optimizer.js';
import { makeValueInfo, DataType, type Model } from '../../src/ir/index.js';
import { encodeModel } from '../../src/load/index.js';
import { learningRateAt, resolveSchedule } from '../../src/train/schedule.js';

/** The optimizer model reduced to its learning-rate nodes, with the rate the optimizer reads as output. */
function learningRateGraph(model: Model): Model {
  const optimizerNode = model.graph.nodes.find((n) => n.domain === 'com.microsoft')!;
  const rate = optimizerNode.inputs[0]!;
  const nodes = model.graph.nodes.filter((n) => n !== optimizerNode);
  return {
    ...model,
    opsetImports: model.opsetImports.filter((o) => o.domain === ''),
    graph: { ...model.graph, nodes, inputs: model.graph.inputs.filter((i) => i.name === 'learning_rate' || i.name === 'step'), outputs: [makeValueInfo(rate, DataType.FLOAT, [1])] },
  };
}

async function ratesFromGraph(model: Model, steps: readonly number[], fed = 0.001): Promise<number[]> {
  const session = await ort.InferenceSession.create(new Uint8Array(encodeModel(learningRateGraph(model))), { logSeverityLevel: 3 });
  const names = new Set(session.inputNames);
  const out: number[] = [];
  for (const step of steps) {
    const feeds: Record<string, ort.Tensor> = { learning_rate: new ort.Tensor('float32', new Float32Array([fed]), [1]) };
    if (names.has('step')) feeds['step'] = new ort.Tensor('int64', new BigInt64Array([BigInt(step)]), [1]);
    for (const name of Object.keys(feeds)) if (!names.has(name)) delete feeds[name];
    const result = await session.run(feeds);
    out.push((result[session.outputNames[0]!]!.data as Float32Array)[0]!);
  }
  await session.release();
  return out;
}

describe('linear schedule formula', () => {
  it('warms up from 0, peaks at the end of warmup, decays to 0 at the last step (Hugging Face semantics, t = step − 1)', () => {
    // W = 4, T = 10: t = 0..9
    const factors = Array.from({ length: 11 }, (_, i) => linearScheduleFactor(i + 1, 4, 10));
    expect(factors).toEqual([0, 0.25, 0.5, 0.75, 1, 5 / 6, 4 / 6, 3 / 6, 2 / 6, 1 / 6, 0]);
  });

  it('starts at the full rate without warmup, and never goes below zero', () => {
    expect(linearScheduleFactor(1, 0, 4)).toBe(1);
    expect(linearScheduleFactor(4, 0, 4)).toBe(0.25);
    expect(linearScheduleFactor(9, 0, 4)).toBe(0);
    expect(linearScheduleFactor(3, 10, 5)).toBe(0.2); // warmup longer than the run: warmup only
  });

  it('rounds a warmup fraction up to whole steps', () => {
    expect(resolveSchedule({ kind: 'linear', warmup: { fraction: 0.1 } }, 188)).toEqual({ kind: 'linear', warmupSteps: 19, totalSteps: 188 });
    expect(resolveSchedule({ kind: 'linear', warmup: { fraction: 0.1 } }, 100)).toEqual({ kind: 'linear', warmupSteps: 10, totalSteps: 100 });
    expect(resolveSchedule({ kind: 'linear', warmup: { steps: 500 } }, 100)).toEqual({ kind: 'linear', warmupSteps: 500, totalSteps: 100 });
    expect(resolveSchedule({ kind: 'constant' }, 100)).toBeUndefined();
    expect(learningRateAt(3, 2e-4, undefined)).toBe(2e-4);
    expect(learningRateAt(2, 2e-4, { kind: 'linear', warmupSteps: 4, totalSteps: 10 })).toBeCloseTo(5e-5, 15);
  });
});

describe('the optimizer graph computes the schedule from step', () => {
  const trainable = ['w'];

  it.each([
    ['adamw', { kind: 'adamw' } as const],
    ['sgd', { kind: 'sgd' } as const],
  ])('%s: rate(step) = 0.001 · (lr / 0.001) · schedule(step) for every step of the run', async (_name, optimizer) => {
    const lr = 3e-4;
    const schedule = { kind: 'linear', warmupSteps: 7, totalSteps: 40 } as const;
    const { model } = buildOptimizerModel({ optimizer, trainable, learningRateScale: lr / 0.001, schedule });
    const steps = Array.from({ length: 42 }, (_, i) => i + 1);
    const rates = await ratesFromGraph(model, steps);
    steps.forEach((step, i) => {
      const expected = learningRateAt(step, lr, schedule);
      expect(Math.abs(rates[i]! - expected)).toBeLessThanOrEqual(1e-6 * lr);
    });
    expect(rates[0]).toBe(0);
    expect(rates[7]).toBeCloseTo(lr, 9); // t = 7 = W: the peak
    expect(rates[39]! > 0 && rates[40] === 0 && rates[41] === 0).toBe(true);
  });

  it('without warmup the first step runs at the full rate', async () => {
    const { model } = buildOptimizerModel({ optimizer: { kind: 'adamw' }, trainable, learningRateScale: 0.1, schedule: { kind: 'linear', warmupSteps: 0, totalSteps: 4 } });
    const rates = await ratesFromGraph(model, [1, 2, 3, 4, 5]);
    expect(rates.map((r) => +r.toPrecision(6))).toEqual([1e-4, 7.5e-5, 5e-5, 2.5e-5, 0]);
  });

  it('without a schedule the rate is the scaled constant', async () => {
    const { model } = buildOptimizerModel({ optimizer: { kind: 'adamw' }, trainable, learningRateScale: 0.1 });
    expect((await ratesFromGraph(model, [1, 100])).map((r) => +r.toPrecision(6))).toEqual([1e-4, 1e-4]);
  });

  it('refuses a schedule without steps', () => {
    expect(() => buildOptimizerModel({ optimizer: { kind: 'adamw' }, trainable, schedule: { kind: 'linear', warmupSteps: 0, totalSteps: 0 } })).toThrow(/ADP3109|total steps/);
  });
});
