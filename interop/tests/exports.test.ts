/**
 * The real pretrained all-MiniLM-L6-v2, exported by every exporter users run today (interop/export.py):
 * each is discovered, compiled with default options (target cuda: every node of the three artifacts
 * has a CUDA kernel) and trained by `adapterc train`. The exports hold the same weights, so their
 * 5-step loss curves must agree: a graph adapterc misread would train differently.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { adapterc, interop, model, outDir, readJson, sst2, STYLES, vocab, work } from './tier.js';

interface Coverage { artifact: string; nodes: number; fallbacks: unknown[] }
interface TrainLog { steps: Array<{ step: number; loss: number }> }

const spec = path.join(interop, 'specs/houlsby.adp');
const curves = new Map<string, number[]>();
let trainFile: string;

beforeAll(() => {
  // The first 200 training sentences: 5 steps of 8 need no more.
  trainFile = path.join(work, 'sst2-train-200.tsv');
  writeFileSync(trainFile, readFileSync(sst2.train, 'utf8').split('\n').slice(0, 201).join('\n') + '\n');
});

describe.each(STYLES)('%s', (style) => {
  const out = outDir(style);

  it('compiles with default options: adapters in all 6 layers, every node on CUDA', () => {
    const printed = adapterc(['compile', spec, model(style), '-o', out]);
    expect(printed).toContain('6 layers, hidden size 384');
    expect(printed).toMatch(/trainable\s+605,954 parameters, \d\.\d\d% of the base model's 22\.\d\d M/);
    const coverage = (JSON.parse(adapterc(['inspect', out, '--json'])) as { coverage: Coverage[] }).coverage.filter((c) => c.artifact !== 'model.adapted.onnx');
    expect(coverage.map((c) => c.artifact)).toEqual(['eval_model.onnx', 'optimizer_model.onnx', 'step_eval_model.onnx', 'step_model.onnx', 'training_model.onnx']);
    for (const c of coverage) expect(c.fallbacks, c.artifact).toEqual([]);
  });

  it('trains 5 steps in adapterc train', () => {
    adapterc(['train', out, '--train', trainFile, '--vocab', vocab, '--max-steps', '5', '--batch-size', '8', '--max-length', '32', '--epochs', '1', '-o', path.join(out, 'trained')]);
    const losses = readJson<TrainLog>(path.join(out, 'trained/train-log.json')).steps.map((s) => s.loss);
    expect(losses).toHaveLength(5);
    for (const l of losses) expect(Number.isFinite(l)).toBe(true);
    curves.set(style, losses);
  });
});

describe('the exports of the same weights', () => {
  it('train the same: every loss curve equals the TorchScript opset-14 export\'s within 1e-4', () => {
    const reference = curves.get('ts-opset14-fold')!;
    expect(curves.size).toBe(STYLES.length);
    for (const [style, losses] of curves) {
      const worst = Math.max(...losses.map((l, i) => Math.abs(l - reference[i]!)));
      expect(worst, style).toBeLessThanOrEqual(1e-4);
    }
    // And they do learn: the last step's loss is below the first's.
    expect(reference[4]!).toBeLessThan(reference[0]!);
  });
});
