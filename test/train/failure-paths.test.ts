/**
 * What `train` and `export` do with damaged input, and what a killed `train` leaves: a truncated
 * checkpoint, or one of another spec, is a diagnostic (nothing written), and a run killed mid-training leaves the earlier
 * trained checkpoint as it was; the next run removes the killed one's temporary files.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, truncateSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeSyntheticBertSync } from '../../src/synth/index.js';
import { root } from '../artifacts/harness.js';
import { cli } from '../helpers/cli.js';

const dir = mkdtempSync(path.join(tmpdir(), 'adapterc-train-failures-'));
const vocab = path.join(dir, 'vocab.txt');
const data = path.join(dir, 'train.tsv');
const artifacts = path.join(dir, 'artifacts');
const trainArgs = (folder: string, extra: string[]) => ['train', folder, '--train', data, '--vocab', vocab, '--batch-size', '4', ...extra];

beforeAll(async () => {
  const tokens = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', '.', 'good', 'bad', 'film'];
  while (tokens.length < 512) tokens.push(`tok${tokens.length}`);
  writeFileSync(vocab, `${tokens.join('\n')}\n`);
  writeFileSync(data, Array.from({ length: 400 }, (_, i) => `${i % 2}\tthe film is ${i % 2 ? 'good' : 'bad'} .`).join('\n') + '\n');
  const model = path.join(dir, 'tiny.onnx');
  writeSyntheticBertSync({ preset: 'tiny', seed: 5 }, model);
  const r = await cli(['compile', path.join(root, 'specs/houlsby.adp'), model, '-o', artifacts]);
  expect(r.code, r.stderr).toBe(0);
}, 60_000);

describe('a truncated checkpoint', () => {
  it('train and export refuse it with a diagnostic, write nothing, and leave it as it was', async () => {
    const copy = path.join(dir, 'truncated');
    await cli(['compile', path.join(root, 'specs/houlsby.adp'), path.join(dir, 'tiny.onnx'), '-o', copy]);
    const checkpoint = path.join(copy, 'checkpoint');
    truncateSync(checkpoint, Math.floor(readFileSync(checkpoint).length / 2));
    const before = readFileSync(checkpoint);
    const trained = await cli(trainArgs(copy, ['--max-steps', '2']));
    expect(trained.code).toBe(1);
    expect(trained.stderr).toMatch(/error ADP\d{4}/);
    expect(trained.stderr).not.toContain('internal error');
    expect(existsSync(path.join(copy, 'trained'))).toBe(false);
    const exported = await cli(['export', copy, '-o', path.join(dir, 'from-truncated.onnx')]);
    expect(exported.code).toBe(1);
    expect(exported.stderr).toMatch(/error ADP\d{4}/);
    expect(exported.stderr).not.toContain('internal error');
    expect(existsSync(path.join(dir, 'from-truncated.onnx'))).toBe(false);
    expect(readFileSync(checkpoint).equals(before)).toBe(true);
  }, 60_000);
});

describe('a checkpoint of another spec in the artifacts folder', () => {
  it('train refuses it, naming the parameter whose shape differs, and writes nothing', async () => {
    const mixed = path.join(dir, 'mixed');
    const other = path.join(dir, 'other');
    await cli(['compile', path.join(root, 'specs/houlsby.adp'), path.join(dir, 'tiny.onnx'), '-o', mixed]);
    await cli(['compile', path.join(root, 'specs/size-8.adp'), path.join(dir, 'tiny.onnx'), '-o', other]);
    copyFileSync(path.join(other, 'checkpoint'), path.join(mixed, 'checkpoint'));
    const r = await cli(trainArgs(mixed, ['--max-steps', '2']));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error ADP5005: .* parameter '.*' has shape \[\d+, 8\] in the checkpoint but \[\d+, 64\] in training_model\.onnx/);
    expect(existsSync(path.join(mixed, 'trained'))).toBe(false);
  }, 60_000);
});

describe('a train killed mid-run (SIGKILL)', () => {
  it('leaves the earlier trained checkpoint intact; the next run removes its temporary files', async () => {
    const first = await cli(trainArgs(artifacts, ['--max-steps', '3']));
    expect(first.code, first.stderr).toBe(0);
    const trained = path.join(artifacts, 'trained');
    const earlier = readFileSync(path.join(trained, 'checkpoint'));
    // A leftover of an earlier killed write (a process that no longer exists).
    const stale = path.join(trained, `.checkpoint.${2 ** 22 + 7}.0badf00d.tmp`);
    copyFileSync(path.join(trained, 'checkpoint'), stale);

    // The CLI from source in its own process, killed once training has started.
    const tsx = pathToFileURL(path.join(root, 'node_modules/tsx/dist/loader.mjs')).href;
    const script = `import { runCli } from ${JSON.stringify(pathToFileURL(path.join(root, 'src/cli/main.ts')).href)};\nprocess.exitCode = await runCli(${JSON.stringify(trainArgs(artifacts, ['--max-steps', '100000', '--epochs', '1000', '--log-every', '1']))});`;
    const child = spawn(process.execPath, ['--import', tsx, '--input-type=module', '-e', script], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
    const killed = await new Promise<NodeJS.Signals | null>((resolve) => {
      let seen = '';
      child.stderr.on('data', (chunk: Buffer) => {
        seen += chunk.toString();
        if (/step\s+\d+\/100000/.test(seen) && !child.killed) child.kill('SIGKILL');
      });
      child.on('exit', (_code, signal) => resolve(signal));
    });
    expect(killed).toBe('SIGKILL');
    expect(readFileSync(path.join(trained, 'checkpoint')).equals(earlier)).toBe(true);

    const next = await cli(trainArgs(artifacts, ['--max-steps', '2']));
    expect(next.code, next.stderr).toBe(0);
    expect(readdirSync(trained).sort()).toEqual(['checkpoint', 'loss-curve.html', 'train-log.json']);
  }, 120_000);
});
