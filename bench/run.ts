/**
 * `npm run bench`: adapterc's performance targets, measured as ratios against baselines taken in
 * the same run on the same files (this machine is noisy; absolute times are not comparable).
 *
 * 1. load + discover + save of a BERT-base-shaped model (110 M parameters, ~440 MB), against `cp`
 *    of the same file (time) and the file size (peak memory), and against onnxruntime-node creating
 *    a session for it. Targets: at most 3x `cp`; peak RSS at most 2.5x the file size.
 *
 * Each measurement runs in its own process (peak RSS is per process), five times by default; the
 * median is reported. Time is given twice: the work inside the process (the target), and the whole
 * process including Node's start (about 70 ms that does not grow with the model). Usage: npm run bench [-- --preset tiny|base|large] [-- --runs N]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { writeSyntheticBert, type PresetName } from '../src/synth/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: { preset: { type: 'string', default: 'base' }, runs: { type: 'string', default: '5' } } });
const preset = values.preset as PresetName;
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a positive integer, not ${values.runs}`);

interface Sample {
  /** Time of the work inside the process (after Node has started). */
  readonly ms: number;
  /** Wall time of the whole process, Node's start included. */
  readonly processMs: number;
  readonly maxRssKiB: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function child(script: string, args: string[]): Sample {
  const started = performance.now();
  const out = execFileSync(process.execPath, [path.join(root, 'bench/tasks', script), ...args], { encoding: 'utf8', maxBuffer: 1 << 20 });
  return { ...(JSON.parse(out) as Omit<Sample, 'processMs'>), processMs: performance.now() - started };
}

function timeCp(from: string, to: string): number {
  const started = performance.now();
  const r = spawnSync('cp', [from, to]);
  if (r.status !== 0) throw new Error(`cp failed: ${r.stderr}`);
  return performance.now() - started;
}

function ensureBuilt(): void {
  try {
    statSync(path.join(root, 'dist/load/index.js'));
  } catch {
    execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
  }
}

const fmt = (n: number, digits = 2) => n.toFixed(digits);

async function main(): Promise<void> {
  ensureBuilt();
  const dir = mkdtempSync(path.join(tmpdir(), 'adapterc-bench-'));
  try {
    const model = path.join(dir, `bert-${preset}.onnx`);
    const manifest = await writeSyntheticBert({ preset, seed: 1 }, model);
    const bytes = statSync(model).size;
    console.log(`model: synthetic BERT '${preset}' (${manifest.layers} layers, hidden ${manifest.hidden}), ${(bytes / 1e6).toFixed(1)} MB, ${manifest.parameterCount.toLocaleString('en-US')} parameters`);
    console.log(`runs: ${runs} of each, median reported; machine: ${process.arch}, Node ${process.version}\n`);

    // Warm the page cache so that every contender reads from memory.
    timeCp(model, path.join(dir, 'warm.onnx'));

    const cp: number[] = [];
    const ours: Sample[] = [];
    const ort: Sample[] = [];
    for (let i = 0; i < runs; i++) {
      cp.push(timeCp(model, path.join(dir, `cp-${i}.onnx`)));
      ours.push(child('load-discover-save.mjs', [model, path.join(dir, `saved-${i}.onnx`)]));
      ort.push(child('ort-session.mjs', [model]));
      rmSync(path.join(dir, `cp-${i}.onnx`));
      rmSync(path.join(dir, `saved-${i}.onnx`));
    }
    const empty = child('baseline.mjs', []);

    const cpMs = median(cp);
    const oursMs = median(ours.map((s) => s.ms));
    const oursProcessMs = median(ours.map((s) => s.processMs));
    const ortMs = median(ort.map((s) => s.ms));
    const oursRss = median(ours.map((s) => s.maxRssKiB)) * 1024;
    const ortRss = median(ort.map((s) => s.maxRssKiB)) * 1024;

    const rows: Array<[string, string, string, string, string]> = [
      ['', 'work (ms)', 'work / cp', 'process / cp', 'peak RSS / file'],
      ['cp', fmt(cpMs, 0), '1.00', '1.00', '-'],
      ['adapterc load + discover + save', fmt(oursMs, 0), fmt(oursMs / cpMs), fmt(oursProcessMs / cpMs), fmt(oursRss / bytes)],
      ['onnxruntime-node session create', fmt(ortMs, 0), fmt(ortMs / cpMs), fmt(median(ort.map((s) => s.processMs)) / cpMs), fmt(ortRss / bytes)],
      ['empty Node process', '-', '-', fmt(empty.processMs / cpMs), fmt((empty.maxRssKiB * 1024) / bytes)],
    ];
    const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
    for (const r of rows) console.log(r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('   '));

    const timeOk = oursMs / cpMs <= 3;
    const rssOk = oursRss / bytes <= 2.5;
    console.log(`\ntargets: work time ≤ 3x cp: ${timeOk ? 'met' : 'MISSED'} (${fmt(oursMs / cpMs)}x; whole process ${fmt(oursProcessMs / cpMs)}x); peak RSS ≤ 2.5x file: ${rssOk ? 'met' : 'MISSED'} (${fmt(oursRss / bytes)}x)`);
    console.log(`adapterc vs onnxruntime-node session creation: ${fmt(oursMs / ortMs)}x the time, ${fmt(oursRss / ortRss)}x the peak memory`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
