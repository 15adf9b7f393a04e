/**
 * Compiling a spec against a model into a temporary folder and training the artifacts in ONNX
 * Runtime's own training runtime (onnxruntime-web 1.19.2's training build) on a small task that a
 * BERT can learn: the label says which of two tokens sits at position 1.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DataType, elemTypeOf, shapeOf } from '../../src/ir/index.js';
import { readModel } from '../../src/load/index.js';
import { loadOrtTraining, type Feeds, type TrainingSession } from '../../src/runtime/ort-training.js';
import { cli } from '../helpers/cli.js';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** A spec that imports `base` (a path in specs/) and sets a learning rate that shows learning in 30 steps. */
export function specWithRate(base: string, lr: number): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'adapterc-spec-'));
  const file = path.join(dir, 'spec.adp');
  writeFileSync(file, `# ${base} at lr ${lr}\nimport "${path.join(root, 'specs', base)}"\n\ntrain {\n  optimizer adamw(lr ${lr}, weight_decay 0.01)\n}\n`);
  return file;
}

export interface Compiled {
  readonly folder: string;
  readonly summary: { trainableParameters: number; outputs: string[]; inputs: string[] };
}

export async function compile(spec: string, model: string): Promise<Compiled> {
  const folder = path.join(mkdtempSync(path.join(tmpdir(), 'adapterc-artifacts-')), 'out');
  const r = await cli(['compile', spec, model, '-o', folder]);
  if (r.code !== 0) throw new Error(`compile failed (${r.code}):\n${r.stderr}`);
  return { folder, summary: JSON.parse(readFileSync(path.join(folder, 'summary.json'), 'utf8')) };
}

/** Feeds for the training model's user inputs: batch 8 (or the static size), sequence 6 (or static). */
export async function taskFeeds(folder: string): Promise<Feeds> {
  const model = await readModel(path.join(folder, 'training_model.onnx'));
  const feeds: Record<string, Feeds[string]> = {};
  const ids = model.graph.inputs.find((i) => /ids/.test(i.name) && !/type|segment/.test(i.name));
  const idDims = (shapeOf(ids!) ?? []).map((d, i) => (typeof d === 'number' && d > 0 ? d : i === 0 ? 8 : 6));
  const [batch, sequence] = idDims as [number, number];
  const token = (b: number, t: number) => (t === 1 ? (b % 2 ? 3 : 7) : 1 + ((b * 5 + t * 3) % 11));
  for (const input of model.graph.inputs) {
    const name = input.name;
    if (name.endsWith('_grad.accumulation.buffer') || name === 'lazy_reset_grad') continue;
    if (elemTypeOf(input) === DataType.FLOAT && name !== 'labels') continue; // parameters
    const int32 = elemTypeOf(input) === DataType.INT32;
    const make = (count: number, value: (i: number) => number) =>
      int32 ? Int32Array.from({ length: count }, (_, i) => value(i)) : BigInt64Array.from({ length: count }, (_, i) => BigInt(value(i)));
    if (name === 'labels') feeds[name] = { data: BigInt64Array.from({ length: batch }, (_, b) => BigInt(b % 2)), dims: [batch] };
    else if (/mask/.test(name)) feeds[name] = { data: make(batch * sequence, () => 1), dims: [batch, sequence] };
    else if (/type|segment/.test(name)) feeds[name] = { data: make(batch * sequence, () => 0), dims: [batch, sequence] };
    else feeds[name] = { data: make(batch * sequence, (i) => token(Math.floor(i / sequence), i % sequence)), dims: [batch, sequence] };
  }
  return feeds;
}

export interface TrainingRun {
  readonly losses: number[];
  readonly before: Float32Array;
  readonly after: Float32Array;
  readonly trainableCount: number;
  readonly evalOutputs: string[];
  readonly evalLoss: number;
}

/** Creates a session from the folder's four artifacts and runs `steps` train + optimizer steps. */
export async function train(folder: string, steps = 30): Promise<TrainingRun> {
  const ort = await loadOrtTraining();
  const session: TrainingSession = await ort.createSession({
    checkpoint: path.join(folder, 'checkpoint'),
    trainingModel: path.join(folder, 'training_model.onnx'),
    evalModel: path.join(folder, 'eval_model.onnx'),
    optimizerModel: path.join(folder, 'optimizer_model.onnx'),
  });
  try {
    const feeds = await taskFeeds(folder);
    const before = await session.parameters(false);
    const trainableCount = await session.parametersSize(true);
    const losses: number[] = [];
    for (let step = 0; step < steps; step++) {
      const out = await session.trainStep(feeds);
      losses.push((out[session.trainingOutputNames[0]!]!.data as Float32Array)[0]!);
      await session.optimizerStep();
      await session.lazyResetGrad();
    }
    const after = await session.parameters(false);
    const evaluated = await session.evalStep(feeds);
    return { losses, before, after, trainableCount, evalOutputs: Object.keys(evaluated), evalLoss: (evaluated[session.trainingOutputNames[0]!]!.data as Float32Array)[0]! };
  } finally {
    await session.release();
  }
}
