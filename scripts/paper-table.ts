/**
 * `npm run paper-table`: a miniature of Houlsby et al. 2019's comparison on SST-2, end to end with
 * adapterc's own commands (compile, train, export), on a small BERT that the script first trains
 * itself, because adapters need a trained base and no pretrained weights ship with the project.
 *
 * 1. A synthetic 2-layer BERT (hidden 64) over bert-base-uncased's WordPieces that the sentences use.
 * 2. Masked-language-model pretraining: `trainable all` with `head masked_lm`, trained by `adapterc
 *    train` on the SST-2 training sentences that the task does not use (labels ignored; BERT's 15%
 *    masking), --pretrain-steps steps; 500 other sentences give the dev MLM loss.
 * 3. `adapterc export --without-head` merges that into a base model without the MLM head; every
 *    variant then compiles against it (the classifier reads the first token: MLM trains no pooler)
 *    and trains on SST-2 (the first --examples training sentences), evaluated on all of SST-2 dev.
 *
 * Usage: npm run paper-table [-- --examples 4000 --epochs 3 --pretrain-steps 2000]. Needs ../shared/data.
 *
 * With --real MODEL.onnx (a BERT export with pretrained weights, such as the interop tier's
 * all-MiniLM-L6-v2: interop/work/models/ts-opset14-fold.onnx after interop/run.sh), steps 1 and 2
 * are skipped: the variants compile against MODEL with bert-base-uncased's vocabulary, the paper's
 * setting (top half = the upper half of the layers), and train --parallel at a time. `--runtime`
 * picks `adapterc train`'s runtime: 'step-model' (the default; it uses every core, so --parallel
 * defaults to 1) or 'ort-training' (one thread each, so --parallel defaults to 2 with --real).
 * Commands run as child processes of the built CLI (bin/adapterc.js; `npm install` builds it).
 * `--only 'adapters, size 64;LoRA'` runs the variants whose names start with one of the
 * semicolon-separated prefixes (the rest of the table from an earlier run).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { writeSyntheticBertSync } from '../src/synth/index.js';
import { readExamplesFile, WordPieceTokenizer } from '../src/train/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const shared = path.resolve(root, '..', 'shared');
const sst2 = (split: string) => path.join(shared, 'data', 'sst2', `${split}.tsv`);
const { values } = parseArgs({
  options: {
    examples: { type: 'string', default: '4000' },
    epochs: { type: 'string' },
    'pretrain-steps': { type: 'string', default: '2000' },
    'pretrain-lr': { type: 'string', default: '1e-3' },
    real: { type: 'string' },
    parallel: { type: 'string' },
    'max-length': { type: 'string' },
    runtime: { type: 'string', default: 'step-model' },
    only: { type: 'string' },
  },
});
const runtime = values.runtime!;
if (runtime !== 'step-model' && runtime !== 'ort-training') throw new Error(`--runtime must be 'step-model' or 'ort-training', not '${runtime}'`);
const real = values.real === undefined ? undefined : path.resolve(values.real);
const epochs = values.epochs ?? (real ? '1' : '3');
const maxLength = values['max-length'] ?? (real ? '64' : '48');
const parallel = Number(values.parallel ?? (real && runtime === 'ort-training' ? '2' : '1'));
const examples = Number(values.examples);
const dir = mkdtempSync(path.join(tmpdir(), 'adapterc-paper-'));
const run = promisify(execFile);

/** Runs an adapterc command in its own process (the built CLI), so that variants can train side by side. */
async function adapterc(args: string[]): Promise<void> {
  try {
    await run(process.execPath, [path.join(root, 'bin', 'adapterc.js'), ...args], { cwd: root, maxBuffer: 256 << 20 });
  } catch (error) {
    throw new Error(`adapterc ${args[0]} failed:\n${String((error as { stderr?: unknown }).stderr ?? error)}`);
  }
}

function spec(name: string, body: string): string {
  const file = path.join(dir, `${name}.adp`);
  writeFileSync(file, `# paper-table: ${name}\nimport "${path.join(root, 'specs/base/glue.adp')}"\n\n${body}\n`);
  return file;
}

const trainLines = readFileSync(sst2('train'), 'utf8').split('\n').filter((l) => l.trim() !== '');
const header = trainLines[0]!;
const task = path.join(dir, 'sst2-train.tsv');
writeFileSync(task, [header, ...trainLines.slice(1, 1 + examples)].join('\n') + '\n');

/** Steps 1 and 2: a synthetic BERT over the sentences' WordPieces, pretrained as a masked LM. */
async function pretrainedSyntheticBase(task: string): Promise<{ base: string; vocab: string; summary: string }> {
  // 1. Vocabulary and model.
  // Every training sentence the task does not use; the last 500 are the pretraining dev set.
  const pretrainSentences = trainLines.slice(1 + examples).map((l) => l.split('\t')[1] ?? '');
  const full = WordPieceTokenizer.fromFile(path.join(shared, 'data', 'vocab', 'bert-base-uncased.txt'));
  const used = new Set(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']);
  for (const text of [...pretrainSentences, ...readExamplesFile(task, { kind: 'classification' }).map((e) => e.text), ...readExamplesFile(sst2('dev'), { kind: 'classification' }).map((e) => e.text)]) {
    for (const piece of full.tokenize(text)) used.add(piece);
  }
  const vocab = path.join(dir, 'vocab.txt');
  writeFileSync(vocab, `${full.tokens.filter((t) => used.has(t)).join('\n')}\n`);
  const scratch = path.join(dir, 'scratch.onnx');
  writeSyntheticBertSync({ layers: 2, hidden: 64, heads: 4, ffn: 128, vocab: used.size, maxPositions: 64, seed: 1, init: { std: 0.02 } }, scratch);

  // 2. Masked-LM pretraining on the other training sentences (plain text, one a line).
  const pretrainFile = path.join(dir, 'pretrain.txt');
  const pretrainDev = path.join(dir, 'pretrain-dev.txt');
  writeFileSync(pretrainFile, `${pretrainSentences.slice(0, -500).join('\n')}\n`);
  writeFileSync(pretrainDev, `${pretrainSentences.slice(-500).join('\n')}\n`);
  const pretrainFolder = path.join(dir, 'pretrain');
  const pretrainStarted = performance.now();
  await adapterc(['compile', spec('pretrain', `train {\n  trainable all\n  head masked_lm\n  optimizer adamw(lr ${values['pretrain-lr']}, weight_decay 0.01)\n}`), scratch, '-o', pretrainFolder]);
  await adapterc(['train', pretrainFolder, '--runtime', runtime, '--train', pretrainFile, '--dev', pretrainDev, '--vocab', vocab, '--max-length', '48', '--epochs', '100', '--max-steps', values['pretrain-steps']!, '--log-every', '100']);
  const base = path.join(dir, 'base.onnx');
  await adapterc(['export', pretrainFolder, '-o', base, '--without-head']);
  const pretrainLog = JSON.parse(readFileSync(path.join(pretrainFolder, 'trained', 'train-log.json'), 'utf8')) as {
    steps: { loss: number }[];
    epochs: { dev?: { loss: number; accuracy?: number } }[];
    bestEpoch: number;
  };
  const mean = (xs: { loss: number }[]) => xs.reduce((n, s) => n + s.loss, 0) / xs.length;
  const pretrainDevResult = pretrainLog.epochs[pretrainLog.bestEpoch - 1]?.dev;
  const pretrainSummary =
    `masked-LM pretraining: ${pretrainLog.steps.length} steps of 32 over ${pretrainSentences.length - 500} sentences (vocabulary ${used.size}) in ${((performance.now() - pretrainStarted) / 60000).toFixed(1)} min; ` +
    `training MLM loss ${mean(pretrainLog.steps.slice(0, 20)).toFixed(2)} (first 20 steps) → ${mean(pretrainLog.steps.slice(-20)).toFixed(2)} (last 20); ` +
    `held-out MLM loss ${pretrainDevResult?.loss.toFixed(2)}, masked-token accuracy ${((pretrainDevResult?.accuracy ?? NaN) * 100).toFixed(1)}% (uniform guessing: ln ${used.size} = ${Math.log(used.size).toFixed(2)})`;
  return { base, vocab, summary: pretrainSummary };
}

const { base, vocab, summary: pretrainSummary } = real
  ? { base: real, vocab: path.join(shared, 'data', 'vocab', 'bert-base-uncased.txt'), summary: `pretrained base: ${real}` }
  : await pretrainedSyntheticBase(task);
console.log(pretrainSummary);

// 3. The variants.
// The classifier reads the first token: masked-LM pretraining trains no pooler, and some exports of
// pretrained models drop theirs.
const head = '  head classifier(labels 2, from first_token)\n';
const topLayers = real ? 'layers -3..-1' : 'layer -1';
const topName = real ? 'adapters, top half of the layers' : 'adapters, top layer only';
// A pretrained base fine-tunes at the paper's small rate; adapters and the head train at 1e-3.
const fullRate = real ? '5e-5' : '1e-3';
const adapterRate = real ? '1e-3' : '3e-3';
const variants: Array<[string, string]> = (
  [
  ['full fine-tuning', `train {\n  trainable all\n${head}  optimizer adamw(lr ${fullRate}, weight_decay 0.01)\n}`],
  ['adapters, size 64', `place bottleneck after attention, ffn in layers all\n\ntrain {\n${head}  optimizer adamw(lr ${adapterRate}, weight_decay 0.01)\n}`],
  ['adapters, size 8', `override adapter bottleneck {\n  size 8\n}\n\nplace bottleneck after attention, ffn in layers all\n\ntrain {\n${head}  optimizer adamw(lr ${adapterRate}, weight_decay 0.01)\n}`],
  [topName, `place bottleneck after attention, ffn in ${topLayers}\n\ntrain {\n  trainable adapters, layernorm in ${topLayers}, head\n${head}  optimizer adamw(lr ${adapterRate}, weight_decay 0.01)\n}`],
  ['head only', `train {\n  trainable head\n${head}  optimizer adamw(lr ${adapterRate}, weight_decay 0.01)\n}`],
  // The other adapter families (issue 19), each with only its own parameters and the head training.
  [
    'parallel adapters beside the FFN (reduction 2, scaling 4)',
    `adapter par {\n  reduction 2\n  activation relu\n  init mam\n  parallel(scaling 4)\n}\n\nplace par after ffn in layers all\n\ntrain {\n  trainable adapters, head\n${head}  optimizer adamw(lr ${adapterRate}, weight_decay 0.01)\n}`,
  ],
  ['LoRA, rank 8, on query and value', `adapter lora_qv {\n  lora(rank 8, alpha 16)\n}\n\nplace lora_qv on query, value in layers all\n\ntrain {\n  trainable adapters, head\n${head}  optimizer adamw(lr ${adapterRate}, weight_decay 0.01)\n}`],
  // (IA)³'s vectors are few and start at ones: they train at a higher rate (Liu et al. use 3e-3).
  ['(IA)³ on keys, values and the FFN activation', `adapter ia3_kvi {\n  ia3\n}\n\nplace ia3_kvi on key, value, intermediate in layers all\n\ntrain {\n  trainable adapters, head\n${head}  optimizer adamw(lr 3e-3, weight_decay 0)\n}`],
]
).filter(([name]) => values.only === undefined || values.only.split(';').some((prefix) => name!.startsWith(prefix.trim()))) as Array<[string, string]>;
const rows: string[] = new Array(variants.length);
let baseline = 0;
const started = performance.now();
async function runVariant(i: number): Promise<void> {
  const [name, body] = variants[i]!;
  const folder = path.join(dir, name.replace(/\W+/g, '-'));
  await adapterc(['compile', spec(name.replace(/\W+/g, '-'), body), base, '-o', folder]);
  await adapterc(['train', folder, '--runtime', runtime, '--train', task, '--dev', sst2('dev'), '--vocab', vocab, '--max-length', maxLength, '--epochs', epochs]);
  const summary = JSON.parse(readFileSync(path.join(folder, 'summary.json'), 'utf8')) as { trainableShare: number; trainableParameters: number };
  const log = JSON.parse(readFileSync(path.join(folder, 'trained', 'train-log.json'), 'utf8')) as {
    epochs: { dev?: { accuracy?: number } }[];
    bestEpoch: number;
    seconds: number;
    steps: unknown[];
    baseline?: { accuracy?: number };
  };
  baseline = log.baseline?.accuracy ?? baseline;
  const accuracy = log.epochs[log.bestEpoch - 1]?.dev?.accuracy ?? NaN;
  rows[i] = `| ${name} | ${(accuracy * 100).toFixed(1)} | ${summary.trainableParameters.toLocaleString('en-US')} (${(summary.trainableShare * 100).toFixed(1)}%) | ${((log.seconds * 1000) / log.steps.length).toFixed(1)} |`;
  console.log(rows[i]);
}
// Variants in parallel, `--parallel` at a time (one per core: training runs in one thread).
let next = 0;
const lanes = Array.from({ length: Math.max(1, parallel) }, async () => {
  while (next < variants.length) await runVariant(next++);
});
await Promise.all(lanes);
const minutes = ((performance.now() - started) / 60000).toFixed(1);
console.log(`\n${pretrainSummary}`);
console.log(`SST-2 dev (872 sentences), ${examples} training sentences, ${epochs} epoch(s), max length ${maxLength}, best epoch; majority class ${(baseline * 100).toFixed(1)}%; runtime ${runtime}, variants ${parallel} at a time, ${minutes} min`);
console.log('| variant | dev accuracy (%) | beats majority class | trainable parameters (share of base) | ms per step (incl. dev eval) |\n|---|---|---|---|---|');
for (const r of rows) console.log(r.replace(/^\| ([^|]+) \| ([\d.]+) \|/, (_, name: string, acc: string) => `| ${name} | ${acc} | ${Number(acc) > baseline * 100 ? `yes (+${(Number(acc) - baseline * 100).toFixed(1)})` : 'no'} |`));
