/**
 * `npm run bench` (step-model part): what a training step of `adapterc train` costs on its default
 * runtime (the step model in onnxruntime-node), against the ORT 1.19.2 training runtime
 * (`--runtime ort-training`) and against PyTorch eager, on the same model and batches, in one run:
 *
 * 1. steps per second, batch 8 x 128 with every token real, on two BERT shapes: 4 layers x 256
 *    hidden with BERT's 30,522-token vocabulary, and BERT-base. Rows: the step model with
 *    specs/houlsby.adp and with specs/full-finetune.adp, the training runtime with houlsby, and
 *    PyTorch's adapter and full fine-tuning steps (bench/torch_step.py: the same weights, the same
 *    adapters, AdamW, the same threads). Targets: the step model at least 5x the training runtime;
 *    adapters / full fine-tuning at most 0.70; no slower than PyTorch's adapter step.
 * 2. peak RSS of `adapterc train` (the CLI, its own process) on the BERT-base shape, SST-2
 *    sentences, batch 8: target at most 1.5x the model file.
 *
 * The models are exported by torch (TorchScript, its default opset) from transformers' BertModel
 * with random weights, using interop/.venv (bash interop/setup.sh makes it). Without that
 * environment the models come from the synthetic builder and the PyTorch rows are skipped, saying
 * so. A time is the median of timed steps after two warm-up steps, each session in its own
 * round; the step model and PyTorch alternate over --rounds rounds (the training runtime, 6x
 * slower, runs once) and the median round is quoted, with the range. This machine is noisy (the
 * same command has measured 118 and 149 ms in two runs): compare the ratios, which come from one run.
 *
 * Usage: npx tsx bench/step.ts [--shapes mini,base] [--steps N] [--rounds N] [--threads N]
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync, readFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { fullBatch } from './lib/full-batch.js';
import type { Feeds } from '../src/runtime/ort-training.js';
import { writeSyntheticBert } from '../src/synth/index.js';
import { planFor, readArtifacts, resolveSchedule, type ArtifactsInfo } from '../src/train/index.js';
import { openOrtTrainingRuntime } from '../src/train/runtimes/ort-training.js';
import type { TrainingRuntime } from '../src/train/runtimes/runtime.js';
import { openStepRuntime } from '../src/train/runtimes/step-model.js';
import { median } from './lib/median.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: { shapes: { type: 'string', default: 'mini,base' }, steps: { type: 'string', default: '5' }, rounds: { type: 'string', default: '3' }, threads: { type: 'string' } } });
const steps = Math.max(1, Number(values.steps));
const rounds = Math.max(1, Number(values.rounds));
const threads = values.threads === undefined ? availableParallelism() : Number(values.threads);
const python = path.join(root, 'interop/.venv/bin/python');
const hasTorch = existsSync(python);

const SHAPES = {
  mini: { layers: 4, hidden: 256, heads: 4, ffn: 1024 },
  base: { layers: 12, hidden: 768, heads: 12, ffn: 3072 },
} as const;
type Shape = (typeof SHAPES)[keyof typeof SHAPES];
const BATCH = 8;
const SEQUENCE = 128;

function torchArgs(s: Shape): string[] {
  return ['--layers', String(s.layers), '--hidden', String(s.hidden), '--heads', String(s.heads), '--ffn', String(s.ffn)];
}

async function model(name: string, s: Shape, dir: string): Promise<{ file: string; source: string }> {
  const file = path.join(dir, `bert-${name}.onnx`);
  if (hasTorch) {
    const out = JSON.parse(execFileSync(python, [path.join(root, 'bench/torch_step.py'), 'export', file, ...torchArgs(s)], { encoding: 'utf8' }).trim().split('\n').at(-1)!) as { torch: string };
    return { file, source: `torch ${out.torch} TorchScript export of transformers' BertModel` };
  }
  await writeSyntheticBert({ layers: s.layers, hidden: s.hidden, heads: s.heads, ffn: s.ffn, vocab: 30522, maxPositions: 512, seed: 1 }, file);
  return { file, source: 'the synthetic builder (interop/.venv is missing: bash interop/setup.sh)' };
}

function compile(spec: string, file: string, out: string): string {
  execFileSync(process.execPath, [path.join(root, 'bin/adapterc.js'), 'compile', path.join(root, 'specs', spec), file, '-o', out], { stdio: 'ignore' });
  return out;
}

/** Batch 8 x 128, every token real (no padding). */
const batch = (info: ArtifactsInfo): Feeds => fullBatch(info, BATCH, SEQUENCE);


/** Median seconds of `count` steps after two warm-up steps. */
async function stepSeconds(folder: string, runtime: 'step-model' | 'ort-training', count: number): Promise<number> {
  const info = readArtifacts(folder);
  const { plan } = planFor(info, root);
  const session: TrainingRuntime = runtime === 'ort-training' ? await openOrtTrainingRuntime(info, plan, resolveSchedule(plan.schedule, 1000)) : await openStepRuntime(info, { totalSteps: 1000, threads });
  try {
    const feeds = batch(info);
    const times: number[] = [];
    for (let step = 1; step <= count + 2; step++) {
      const started = performance.now();
      await session.trainStep(feeds, step);
      if (step > 2) times.push((performance.now() - started) / 1000);
    }
    return median(times);
  } finally {
    await session.release();
  }
}

function torchSeconds(file: string, s: Shape, count: number): { adapters: number; full: number } | undefined {
  if (!hasTorch) return undefined;
  const args = [path.join(root, 'bench/torch_step.py'), 'time', file, ...torchArgs(s), '--threads', String(threads), '--batch', String(BATCH), '--sequence', String(SEQUENCE), '--steps', String(count)];
  return JSON.parse(execFileSync(python, args, { encoding: 'utf8' }).trim().split('\n').at(-1)!) as { adapters: number; full: number };
}

/** Peak RSS of `adapterc train` in its own process (bench/tasks/train.mjs), and the file-backed / anonymous split of the largest sample. */
function trainPeakRss(folder: string, dir: string): { peak: number; file: number; anon: number } {
  const data = path.join(dir, 'sst2-2000.tsv');
  writeFileSync(data, readFileSync(path.join(root, '../shared/data/sst2/train.tsv'), 'utf8').split('\n').slice(0, 2001).join('\n'));
  const out = execFileSync(process.execPath, [path.join(root, 'bench/tasks/train.mjs'), folder, '--train', data, '--vocab', path.join(root, '../shared/data/vocab/bert-base-uncased.txt'), '--batch-size', '8', '--max-steps', '20', '-o', path.join(dir, 'trained')], { encoding: 'utf8' });
  const r = JSON.parse(out) as { maxRssKiB: number; largestSample: { fileKiB?: number; anonKiB?: number }; code: number; error?: string };
  if (r.code !== 0) throw new Error(`adapterc train exited ${r.code}: ${r.error ?? ''}`);
  return { peak: r.maxRssKiB * 1024, file: (r.largestSample.fileKiB ?? NaN) * 1024, anon: (r.largestSample.anonKiB ?? NaN) * 1024 };
}

const ms = (s: number) => `${(s * 1000).toFixed(0)} ms`;
const dir = mkdtempSync(path.join(tmpdir(), 'adapterc-bench-step-'));
try {
  console.log(`\ntraining step: batch ${BATCH} x ${SEQUENCE} (every token real), ${threads} thread(s) for onnxruntime-node and PyTorch; median of ${steps} steps after 2 warm-up steps, median (range) of ${rounds} alternating rounds`);
  for (const name of values.shapes!.split(',')) {
    const shape = SHAPES[name as keyof typeof SHAPES];
    if (shape === undefined) throw new Error(`unknown shape '${name}' (mini or base)`);
    const made = await model(name, shape, dir);
    const size = statSync(made.file).size;
    console.log(`  ${name}: ${shape.layers} layers, hidden ${shape.hidden}, vocabulary 30,522 (${(size / 1e6).toFixed(0)} MB), from ${made.source}`);
    const houlsby = compile('houlsby.adp', made.file, path.join(dir, `${name}-houlsby`));
    const full = compile('full-finetune.adp', made.file, path.join(dir, `${name}-full`));
    // The training runtime is single-threaded WebAssembly: on BERT-base each step takes seconds.
    const ortAdapters = await stepSeconds(houlsby, 'ort-training', name === 'base' ? Math.min(steps, 3) : steps);
    const samples = { adapters: [] as number[], full: [] as number[], torchAdapters: [] as number[], torchFull: [] as number[] };
    for (let round = 0; round < rounds; round++) {
      samples.adapters.push(await stepSeconds(houlsby, 'step-model', steps));
      samples.full.push(await stepSeconds(full, 'step-model', steps));
      const torch = torchSeconds(made.file, shape, steps);
      if (torch !== undefined) {
        samples.torchAdapters.push(torch.adapters);
        samples.torchFull.push(torch.full);
      }
    }
    const row = (xs: number[]) => `${ms(median(xs)).padStart(8)} (${ms(Math.min(...xs))}–${ms(Math.max(...xs))})`.padEnd(28);
    const [stepAdapters, stepFull] = [median(samples.adapters), median(samples.full)];
    console.log(`    step model, houlsby adapters     ${row(samples.adapters)} ${(1 / stepAdapters).toFixed(2)} steps/s`);
    console.log(`    step model, full fine-tuning     ${row(samples.full)} adapters / full ${(stepAdapters / stepFull).toFixed(2)} (target at most 0.70)`);
    console.log(`    ORT 1.19.2 training runtime      ${row([ortAdapters])} step model ${(ortAdapters / stepAdapters).toFixed(1)}x faster (target at least 5x)`);
    if (samples.torchAdapters.length === 0) console.log('    PyTorch: skipped (interop/.venv is missing: bash interop/setup.sh)');
    else {
      console.log(`    PyTorch eager, adapters          ${row(samples.torchAdapters)} step model / PyTorch ${(stepAdapters / median(samples.torchAdapters)).toFixed(2)} (target at most 1)`);
      console.log(`    PyTorch eager, full fine-tuning  ${row(samples.torchFull)} step model / PyTorch ${(stepFull / median(samples.torchFull)).toFixed(2)}`);
    }
    if (name === 'base') {
      const rss = trainPeakRss(houlsby, dir);
      const mb = (bytes: number) => `${(bytes / 1e6).toFixed(0)} MB`;
      console.log(`    adapterc train (SST-2, batch 8, 20 steps): peak RSS ${mb(rss.peak)} = ${(rss.peak / size).toFixed(2)}x the model file (target at most 1.5x)`);
      console.log(`      at the largest sample: ${mb(rss.file)} mapped from files (the frozen weights, mapped from the checkpoint, and binaries), ${mb(rss.anon)} anonymous`);
    }
    rmSync(houlsby, { recursive: true, force: true });
    rmSync(full, { recursive: true, force: true });
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
