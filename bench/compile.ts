/**
 * `npm run bench` (compile part): `adapterc compile specs/houlsby.adp` on BERT-base- and
 * BERT-large-shaped synthetic models, in both layouts: wall time against `cp` of the model file
 * (same run) and peak RSS against the model's size; and, for the shared-base layout, the bytes a
 * second task adds (everything but base.data, which is the same file for every task).
 * Targets of the issue: at most 3x `cp`, peak RSS at most 2.5x the model size.
 *
 * Usage: npm run bench -- [--presets base,large]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { writeSyntheticBert, type PresetName } from '../src/synth/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: { presets: { type: 'string', default: 'base,large' } } });

function compile(model: string, spec: string, out: string, layout: string): { ms: number; rss: number } {
  const r = JSON.parse(execFileSync(process.execPath, [path.join(root, 'bench/tasks/compile.mjs'), spec, model, '-o', out, '--layout', layout], { encoding: 'utf8', maxBuffer: 1 << 20 })) as { ms: number; maxRssKiB: number; code: number };
  if (r.code !== 0) throw new Error(`compile exited ${r.code}`);
  return { ms: r.ms, rss: r.maxRssKiB * 1024 };
}

function timeCp(from: string, to: string): number {
  const started = performance.now();
  if (spawnSync('cp', [from, to]).status !== 0) throw new Error('cp failed');
  const ms = performance.now() - started;
  rmSync(to);
  return ms;
}

function folderBytes(folder: string, except: string[] = []): number {
  return readdirSync(folder).filter((f) => !except.includes(f)).reduce((n, f) => n + statSync(path.join(folder, f)).size, 0);
}

const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;

const dir = mkdtempSync(path.join(tmpdir(), 'adapterc-bench-compile-'));
try {
  console.log('\ncompile: adapterc compile specs/houlsby.adp (training artifacts + adapted model), one process each');
  for (const preset of values.presets!.split(',') as PresetName[]) {
    const model = path.join(dir, `bert-${preset}.onnx`);
    await writeSyntheticBert({ preset, seed: 1 }, model);
    const size = statSync(model).size;
    timeCp(model, path.join(dir, 'warm.onnx'));
    const cp = Math.min(timeCp(model, path.join(dir, 'a.onnx')), timeCp(model, path.join(dir, 'b.onnx')));
    console.log(`  ${preset}: ${mb(size)}; cp ${cp.toFixed(0)} ms`);
    for (const layout of ['default', 'shared-base']) {
      const out = path.join(dir, `${preset}-${layout}`);
      const r = compile(model, path.join(root, 'specs/houlsby.adp'), out, layout);
      console.log(`    ${layout.padEnd(11)} ${(r.ms / 1000).toFixed(1)} s = ${(r.ms / cp).toFixed(1)}x cp; peak RSS ${(r.rss / size).toFixed(2)}x the model; folder ${mb(folderBytes(out))}`);
      if (layout === 'shared-base') {
        const second = path.join(dir, `${preset}-second`);
        compile(model, path.join(root, 'specs/size-8.adp'), second, layout);
        const same = readFileSync(path.join(out, 'base.data')).equals(readFileSync(path.join(second, 'base.data')));
        const extra = folderBytes(second, ['base.data']);
        console.log(`    a second task (size-8.adp): base.data ${same ? 'byte-identical' : 'DIFFERENT'}; everything else in the task's folder ${mb(extra)}`);
        rmSync(second, { recursive: true, force: true });
      }
      rmSync(out, { recursive: true, force: true });
    }
    rmSync(model);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
