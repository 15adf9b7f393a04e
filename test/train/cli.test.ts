/**
 * `adapterc train` on a tiny synthetic model with a made-up vocabulary (no shared files needed):
 * a short classification run (TSV) and a regression run (JSONL) write a valid checkpoint, log and
 * chart; bad options, data, vocabularies and folders are exit 1 with the diagnostic that says so.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeCheckpoint } from '../../src/emit/checkpoint/index.js';
import { writeSyntheticBertSync } from '../../src/synth/index.js';
import { cli } from '../helpers/cli.js';
import { sentences, writeTinyTask } from '../helpers/tiny-task.js';
import { root } from '../artifacts/harness.js';

const dir = mkdtempSync(path.join(tmpdir(), 'adapterc-train-cli-'));
const { vocab, trainTsv, devTsv, scores } = writeTinyTask(dir);


const classify = path.join(dir, 'classify');
const regress = path.join(dir, 'regress');

beforeAll(async () => {
  writeFileSync(path.join(dir, 'other-rate.adp'), `import "${path.join(root, 'specs', 'houlsby.adp')}"\n\ntrain {\n  optimizer adamw(lr 5e-4)\n}\n`);
  const model = path.join(dir, 'tiny.onnx');
  writeSyntheticBertSync({ preset: 'tiny', seed: 5, init: { std: 0.2 } }, model);
  for (const [spec, out] of [
    ['houlsby.adp', classify],
    ['regression-stsb.adp', regress],
  ] as const) {
    const r = await cli(['compile', path.join(root, 'specs', spec), model, '-o', out]);
    expect(r.code, r.stderr).toBe(0);
  }
}, 60_000);

describe('adapterc train on a tiny model', () => {
  it('trains a classifier from TSV: checkpoint, log and chart in <artifacts>/trained', async () => {
    const r = await cli(['train', classify, '--train', trainTsv, '--dev', devTsv, '--vocab', vocab, '--batch-size', '8', '--epochs', '2', '--log-every', '4']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('classification, 48 training examples, 16 dev');
    expect(r.stdout).toContain('2 epoch(s) of 6 batches of 8, 12 steps; max length 64; seed 42');
    expect(r.stdout).toContain('adamw lr 0.0001, schedule linear(warmup 10% = 2 of 12 steps, then decay to 0)');
    expect(r.stdout).toMatch(/epoch 1\/2: train loss \d\.\d{4}, dev loss \d\.\d{4}, accuracy \d\.\d{4}/);
    expect(r.stderr.split('\n').filter((l) => l.startsWith('epoch ')).length).toBe(3);
    const trained = path.join(classify, 'trained');
    const checkpoint = decodeCheckpoint(new Uint8Array(readFileSync(path.join(trained, 'checkpoint'))));
    expect(checkpoint.version).toBe(2);
    expect(checkpoint.optimizer).toBeUndefined();
    expect(existsSync(path.join(trained, 'loss-curve.html')) && existsSync(path.join(trained, 'train-log.json'))).toBe(true);
  });

  it('--runtime ort-training trains in ORT 1.19.2\'s training runtime, warning that it decays no_decay parameters', async () => {
    const out = path.join(dir, 'ort-training-out');
    const r = await cli(['train', classify, '--runtime', 'ort-training', '--train', trainTsv, '--vocab', vocab, '--batch-size', '8', '--max-steps', '3', '-o', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("runtime: ONNX Runtime 1.19.2's training runtime (onnxruntime-web, WebAssembly, 1 thread)");
    expect(r.stderr).toMatch(/warning ADP3110: In ONNX Runtime's training runtime, weight decay also applies to \d+ parameter\(s\) that 'no_decay' excludes/);
    const log = JSON.parse(readFileSync(path.join(out, 'train-log.json'), 'utf8')) as { runtime: { name: string } };
    expect(log.runtime.name).toBe('ort-training');
    const bad = await cli(['train', classify, '--runtime', 'pytorch', '--train', trainTsv, '--vocab', vocab]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("error ADP5008: Option '--runtime' must be 'step-model' or 'ort-training', but is 'pytorch'.");
  });

  it('trains a regression head from JSONL and reports Pearson and Spearman; --max-steps, --seed and --out', async () => {
    const out = path.join(dir, 'regress-out');
    const r = await cli(['train', regress, '--train', scores, '--dev', scores, '--vocab', vocab, '--batch-size', '8', '--max-steps', '3', '--seed', '7', '--max-length', '16', '-o', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('regression, 40 training examples, 40 dev');
    expect(r.stdout).toContain('1 epoch(s) of 5 batches of 8, 3 steps; max length 16; seed 7');
    expect(r.stdout).toMatch(/dev loss \d+\.\d{4}, Pearson -?\d\.\d{4}, Spearman -?\d\.\d{4}/);
    const log = JSON.parse(readFileSync(path.join(out, 'train-log.json'), 'utf8')) as { steps: unknown[]; task: string };
    expect(log.task).toBe('regression');
    expect(log.steps.length).toBe(3);
    expect(decodeCheckpoint(new Uint8Array(readFileSync(path.join(out, 'checkpoint')))).properties.floats['dev_pearson']).toEqual(expect.any(Number));
  });
});

describe('adapterc train with texts longer than the model\'s position table (issue 22, item 8)', () => {
  it('by default cuts them to the model\'s 64 positions and says so once; no ONNX Runtime error', async () => {
    const long = path.join(dir, 'long.tsv');
    // About 200 tokens each, over the default --max-length 128 and the tiny model's 64 positions.
    writeFileSync(long, `label\tsentence\n${sentences(16, 0).map(([l, s]) => `${l}\t${Array(30).fill(s).join(' ')}`).join('\n')}\n`);
    const r = await cli(['train', classify, '--train', long, '--vocab', vocab, '--batch-size', '8', '--max-steps', '2', '-o', path.join(dir, 'long-out')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('max length 64');
    expect(r.stderr.match(/warning ADP5012/g)).toHaveLength(1);
    expect(r.stderr).toContain(`warning ADP5012: 16 of the 16 examples read from '${long}' were cut to 64 tokens.`);
  });

  it('tokenizes only what the run trains on (issue 21): one step of 8 reads 8 of the 16 sentences', async () => {
    const long = path.join(dir, 'long-lazy.tsv');
    writeFileSync(long, `label\tsentence\n${sentences(16, 0).map(([l, s]) => `${l}\t${Array(30).fill(s).join(' ')}`).join('\n')}\n`);
    const r = await cli(['train', classify, '--train', long, '--vocab', vocab, '--batch-size', '8', '--max-steps', '1', '-o', path.join(dir, 'lazy-out')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`warning ADP5012: 8 of the 8 examples read from '${long}' were cut to 64 tokens.`);
  });
});

describe('adapterc train with the shared-base layout', () => {
  it('trains when the frozen weights live in base.data and the checkpoint holds only what trains', async () => {
    const folder = path.join(dir, 'shared');
    const compiled = await cli(['compile', path.join(root, 'specs', 'houlsby.adp'), path.join(dir, 'tiny.onnx'), '-o', folder, '--layout', 'shared-base']);
    expect(compiled.code, compiled.stderr).toBe(0);
    const r = await cli(['train', folder, '--train', trainTsv, '--dev', devTsv, '--vocab', vocab, '--batch-size', '16', '--max-steps', '2']);
    expect(r.code, r.stderr).toBe(0);
    const original = decodeCheckpoint(new Uint8Array(readFileSync(path.join(folder, 'checkpoint'))));
    const trained = decodeCheckpoint(new Uint8Array(readFileSync(path.join(folder, 'trained', 'checkpoint'))));
    expect(trained.frozen).toEqual([]);
    expect(trained.trainable.map((t) => t.name)).toEqual(original.trainable.map((t) => t.name));
  });
});

describe('adapterc train errors', () => {
  const base = () => ['train', classify, '--train', trainTsv, '--vocab', vocab];

  it('shows its help', async () => {
    const r = await cli(['train', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: adapterc train <artifacts> --train <file> --vocab <vocab.txt>/);
    for (const option of ['--dev', '--spec', '--out', '--epochs', '--batch-size', '--max-length', '--max-steps', '--seed', '--log-every']) expect(r.stdout).toContain(option);
  });

  it.each([
    [['train', classify, '--train', trainTsv], 'ADP4001', "'adapterc train' needs --vocab <file>."],
    [[...base(), '--epochs', '0'], 'ADP5008', "Option '--epochs' must be a positive integer, but is '0'."],
    [[...base(), '--batch-size', 'many'], 'ADP5008', "Option '--batch-size' must be a whole number, but is 'many'."],
    [[...base(), '--max-length', '65'], 'ADP5008', "Option '--max-length' must be at most 64 (the model's position embeddings), but is '65'."],
    [[...base(), '--spec', 'nowhere.adp'], 'ADP5006', "Cannot find the spec 'nowhere.adp' that these artifacts were compiled from."],
    [[...base(), '--spec', path.join(dir, 'other-rate.adp')], 'ADP5007', 'no longer matches the artifacts: it sets lr 0.0005, the artifacts were compiled with 0.0001.'],
    [['train', dir, '--train', trainTsv, '--vocab', vocab], 'ADP5005', 'is not a folder of training artifacts: it has no summary.json.'],
  ])('%j → %s', async (args, code, text) => {
    const r = await cli(args);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error ${code}: `);
    expect(r.stderr).toContain(text);
  });

  it('refuses a vocabulary larger than the embedding table', async () => {
    const big = path.join(dir, 'big-vocab.txt');
    writeFileSync(big, `${['[PAD]', '[UNK]', '[CLS]', '[SEP]', ...Array.from({ length: 600 }, (_, i) => `w${i}`)].join('\n')}\n`);
    const r = await cli(['train', classify, '--train', trainTsv, '--vocab', big]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("error ADP5004: The vocabulary '");
    expect(r.stderr).toContain("has 604 tokens, but the model's word embedding table has only 512 rows.");
  });

  it('points at a malformed data line, and at a label the head cannot have', async () => {
    const bad = path.join(dir, 'bad.tsv');
    writeFileSync(bad, 'label\tsentence\n1\tgood\n3\tthree\n');
    const r = await cli(['train', classify, '--train', bad, '--vocab', vocab]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${bad}:3:1 - error ADP5002: Line 3 of '${bad}' has the label 3, but the model has 2 classes (0 to 1).`);
    expect(r.stderr).toContain('  3 | 3 three');
  });

  it('refuses an output path that is a file', async () => {
    const file = path.join(dir, 'a-file');
    writeFileSync(file, 'x');
    mkdirSync(path.join(dir, 'unused'), { recursive: true });
    const r = await cli([...base(), '--max-steps', '1', '--out', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error ADP4002');
  });
});
