/**
 * The step stage's parts, each run in onnxruntime-node against a plain JavaScript reference:
 * - the learning-rate schedule graph against `learningRateAt` (what `train` logs), for every step of
 *   runs whose warmup is a fraction (rounded up), a step count, zero, or longer than the run;
 * - the AdamW and SGD update rules against PyTorch's torch.optim.AdamW / SGD written out in float64,
 *   over several steps, with and without weight decay;
 * and the step model compile writes: standard ONNX only, its interface in summary.json, its update
 * part locked by a golden dump, and an old folder without one refused with a hint.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import type { Plan } from '../../src/check/plan.js';
import { DataType, dumpGraph, GraphBuilder, makeValueInfo, type Model } from '../../src/ir/index.js';
import { encodeModel, readModel } from '../../src/load/index.js';
import { learningRateNodes, LEARNING_RATE_OUTPUT, STEP_INPUT, TOTAL_STEPS_INPUT } from '../../src/step/schedule.js';
import { updateRule } from '../../src/step/update.js';
import { learningRateAt, readArtifacts, resolveSchedule } from '../../src/train/index.js';
import { stepInterfaceOf } from '../../src/train/runtimes/step-model.js';
import { writeSyntheticBertSync } from '../../src/synth/index.js';
import { root } from '../artifacts/harness.js';
import { cli } from '../helpers/cli.js';

function emptyModel(opset = 14): Model {
  return { irVersion: 8, opsetImports: [{ domain: '', version: opset }], producerName: 'test', metadata: [], graph: { name: 'g', nodes: [], initializers: [], inputs: [], outputs: [], valueInfo: [] } };
}

const adamw = (weightDecay: number): Plan['optimizer'] => ({ kind: 'adamw', lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay, noDecay: ['bias', 'layernorm'] });
const int64 = (n: number) => new ort.Tensor('int64', new BigInt64Array([BigInt(n)]), [1]);

describe('the schedule graph', () => {
  const schedules: [string, Plan['schedule']][] = [
    ['constant', { kind: 'constant' }],
    ['linear, warmup 10%', { kind: 'linear', warmup: { fraction: 0.1 } }],
    ['linear, warmup 7%', { kind: 'linear', warmup: { fraction: 0.07 } }],
    ['linear, warmup 0', { kind: 'linear', warmup: { steps: 0 } }],
    ['linear, warmup 6 steps', { kind: 'linear', warmup: { steps: 6 } }],
    ['linear, warmup 500 steps (longer than the run)', { kind: 'linear', warmup: { steps: 500 } }],
  ];
  it.each(schedules)('%s: the rate of every step equals the one train logs', async (_, schedule) => {
    const model = emptyModel();
    const b = new GraphBuilder(model, 'c');
    const plan = { optimizer: adamw(0), schedule } as unknown as Plan;
    const { usesTotalSteps } = learningRateNodes(b, plan);
    expect(usesTotalSteps).toBe(schedule.kind !== 'constant');
    model.graph.inputs = [makeValueInfo(STEP_INPUT, DataType.INT64, [1]), ...(usesTotalSteps ? [makeValueInfo(TOTAL_STEPS_INPUT, DataType.INT64, [1])] : [])];
    model.graph.outputs = [makeValueInfo(LEARNING_RATE_OUTPUT, DataType.FLOAT, [1])];
    const session = await ort.InferenceSession.create(encodeModel(model));
    for (const total of [1, 9, 60, 100, 301]) {
      const resolved = resolveSchedule(schedule, total);
      for (let step = 1; step <= total; step++) {
        const out = await session.run({ [STEP_INPUT]: int64(step), ...(usesTotalSteps ? { [TOTAL_STEPS_INPUT]: int64(total) } : {}) });
        const got = (out[LEARNING_RATE_OUTPUT]!.data as Float32Array)[0]!;
        const want = learningRateAt(step, 1e-3, resolved);
        expect(Math.abs(got - want), `step ${step} of ${total}`).toBeLessThanOrEqual(1e-6 * 1e-3);
      }
    }
  });
});

describe('the update rules', () => {
  /** torch.optim.AdamW (and SGD) in float64: the reference. */
  function reference(optimizer: Plan['optimizer'], decay: boolean, p: number[], grads: number[][], rates: number[]): number[] {
    const m = p.map(() => 0);
    const v = p.map(() => 0);
    const out = [...p];
    grads.forEach((g, t) => {
      const lr = rates[t]!;
      const step = t + 1;
      for (let i = 0; i < out.length; i++) {
        if (optimizer.kind === 'sgd') {
          out[i] = out[i]! - lr * g[i]!;
          continue;
        }
        const [b1, b2] = optimizer.betas;
        if (decay) out[i] = out[i]! * (1 - lr * optimizer.weightDecay);
        m[i] = b1 * m[i]! + (1 - b1) * g[i]!;
        v[i] = b2 * v[i]! + (1 - b2) * g[i]! * g[i]!;
        const mHat = m[i]! / (1 - b1 ** step);
        const vHat = v[i]! / (1 - b2 ** step);
        out[i] = out[i]! - (lr * mHat) / (Math.sqrt(vHat) + optimizer.eps);
      }
    });
    return out;
  }

  const cases: [string, Plan['optimizer'], boolean][] = [
    ['AdamW without decay', adamw(0), true],
    ['AdamW with decay', adamw(0.1), true],
    ['AdamW, a no_decay parameter', adamw(0.1), false],
    ['SGD', { kind: 'sgd', lr: 1e-2 } as Plan['optimizer'], true],
  ];
  it.each(cases)('%s: five steps agree with torch.optim written out', async (_, optimizer, decay) => {
    const model = emptyModel();
    const b = new GraphBuilder(model, 'c');
    const rule = updateRule(optimizer);
    const state = rule.state.map((s) => `w.${s}`);
    const shared = new Map<string, string>();
    const outs = rule.update(b, (key, make) => shared.get(key) ?? shared.set(key, make()).get(key)!, { learningRate: 'lr', step: 'step' }, { name: 'w', gradient: 'g', state, decay });
    model.graph.inputs = ['w', 'g', 'lr', 'step', ...state].map((n) => makeValueInfo(n, DataType.FLOAT, n === 'lr' || n === 'step' ? [1] : [4]));
    model.graph.outputs = outs.map((n) => makeValueInfo(n, DataType.FLOAT, [4]));
    const session = await ort.InferenceSession.create(encodeModel(model));
    const p0 = [0.5, -1.25, 2e-3, 0];
    const grads = [[0.1, -0.2, 3e-4, 1e-9], [0.05, 0.3, -1e-3, -2e-9], [-0.2, 0.1, 2e-3, 0], [0.01, -0.01, 1e-4, 5e-9], [0.3, 0.2, -5e-4, 0]];
    const rates = [1e-3, 2e-3, 3e-3, 2e-3, 1e-3];
    const f32 = (xs: number[]) => new ort.Tensor('float32', Float32Array.from(xs), [xs.length]);
    let values = state.map(() => [0, 0, 0, 0]);
    let p = p0;
    for (let t = 0; t < grads.length; t++) {
      const feeds: Record<string, ort.Tensor> = { w: f32(p), g: f32(grads[t]!), lr: f32([rates[t]!]), step: f32([t + 1]) };
      state.forEach((s, k) => (feeds[s] = f32(values[k]!)));
      const out = await session.run(feeds);
      p = [...(out[outs[0]!]!.data as Float32Array)];
      values = outs.slice(1).map((n) => [...(out[n]!.data as Float32Array)]);
    }
    const want = reference(optimizer, decay, p0, grads, rates);
    // 1e-5: the graph holds β1, β2 as float32 (as ORT's kernel does), so 1 − β2 = 9.9998713e-4 at
    // step 1, not 1e-3: 6e-6 of the first update.
    p.forEach((v, i) => expect(Math.abs(v - want[i]!), `element ${i}`).toBeLessThanOrEqual(1e-5 * Math.max(1e-3, Math.abs(want[i]!))));
  });
});

describe('the step model compile writes', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'adapterc-step-'));
  const model = path.join(dir, 'tiny.onnx');
  writeSyntheticBertSync({ preset: 'tiny', seed: 3 }, model);

  it('is standard ONNX with its interface in summary.json; its update part is the golden one', async () => {
    const out = path.join(dir, 'houlsby');
    const r = await cli(['compile', path.join(root, 'specs/houlsby.adp'), model, '-o', out]);
    expect(r.code, r.stderr).toBe(0);
    // No ADP3110 at compile: the step model honours no_decay; only the training runtime cannot.
    expect(r.stderr).not.toMatch(/ADP3110/);
    const step = await readModel(path.join(out, 'step_model.onnx'));
    expect(step.graph.nodes.every((n) => (n.domain ?? '') === '')).toBe(true);
    expect(step.opsetImports.map((o) => o.domain ?? '')).toEqual(['']);
    const io = stepInterfaceOf(readArtifacts(out));
    expect(io.totalSteps).toBe(TOTAL_STEPS_INPUT);
    expect(io.parameters.filter((p) => !p.decay).every((p) => /bias$|layer_?norm|\bln\d*\b/i.test(p.name))).toBe(true);
    expect(step.graph.inputs.map((i) => i.name)).toEqual([...io.batch, STEP_INPUT, TOTAL_STEPS_INPUT, ...io.parameters.map((p) => p.name), ...io.parameters.map((p) => p.state[0]), ...io.parameters.map((p) => p.state[1])]);
    // The nodes the step stage added to the training graph: the schedule and the update.
    const training = await readModel(path.join(out, 'training_model.onnx'));
    const trainingValues = new Set(training.graph.nodes.flatMap((n) => n.outputs));
    const added = step.graph.nodes.filter((n) => !n.outputs.some((o) => trainingValues.has(o)));
    const used = new Set(added.flatMap((n) => n.inputs));
    const part: Model = { ...step, graph: { ...step.graph, nodes: added, initializers: step.graph.initializers.filter((t) => used.has(t.name ?? '') && /^(step\.|schedule\.|learning_rate\.)/.test(t.name ?? '')), valueInfo: [] } };
    await expect(dumpGraph(part)).toMatchFileSnapshot(path.join(root, 'test/golden/graphs/step-update__houlsby__synthetic-tiny-pytorch.txt'));
  });

  it('a folder compiled before the step model existed is refused, with what to do', async () => {
    const out = path.join(dir, 'old');
    expect((await cli(['compile', path.join(root, 'specs/houlsby.adp'), model, '-o', out])).code).toBe(0);
    const summaryFile = path.join(out, 'summary.json');
    const summary = JSON.parse(readFileSync(summaryFile, 'utf8')) as Record<string, unknown>;
    delete summary['step'];
    writeFileSync(summaryFile, JSON.stringify(summary));
    rmSync(path.join(out, 'step_model.onnx'));
    expect(() => stepInterfaceOf(readArtifacts(out))).toThrow(/no step model \(it was compiled by an older adapterc\)/);
  });
});
