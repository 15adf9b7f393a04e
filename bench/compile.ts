/**
 * `npm run bench` (compile part): `adapterc compile specs/houlsby.adp` on BERT-base- and
 * BERT-large-shaped synthetic models, in both layouts, against `cp` of the model file in the same
 * run. Targets of the issue: at most 3x `cp`, peak RSS at most 2.5x the model size.
 *
 * Every command is timed as a whole process (node's start-up included), in rounds that alternate
 * cp and the compiles, with `sync` (untimed) before each so none inherits another's unwritten
 * pages; the median of the rounds is quoted. Two times per command:
 *   - in the page cache: until the process exits. The kernel may not have written the output yet;
 *     cp copies inside the kernel, and its output is deleted before it is ever written out.
 *   - on disk: until the process exits and a `sync` after it returns: the output is on the disk.
 * For the shared-base layout it also reports the bytes a second task adds (everything but
 * base.data, which is the same file for every task).
 *
 * Usage: npm run bench -- [--presets base,large] [--rounds 3]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { writeSyntheticBert, type PresetName } from '../src/synth/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: { presets: { type: 'string', default: 'base,large' }, rounds: { type: 'string', default: '3' } } });
const rounds = Math.max(1, Number(values.rounds));

function sync(): void {
  if (spawnSync('sync').status !== 0) throw new Error('sync failed');
}

interface Timing {
  /** Until the command's process exited. */
  readonly exited: number;
  /** Until a `sync` after it returned. */
  readonly synced: number;
  /** Peak RSS in bytes, where the command reports it. */
  readonly rss: number;
}

/** Times `run` (which must leave its output at `output`), then removes the output. */
function timed(run: () => number, output: string): Timing {
  sync();
  const started = performance.now();
  const rss = run();
  const exited = performance.now() - started;
  sync();
  const synced = performance.now() - started;
  rmSync(output, { recursive: true, force: true });
  return { exited, synced, rss };
}

function cp(from: string, to: string): Timing {
  return timed(() => {
    if (spawnSync('cp', [from, to]).status !== 0) throw new Error('cp failed');
    return 0;
  }, to);
}

/** One `adapterc compile` in its own node process (bench/tasks/compile.mjs reports its peak RSS). */
function runCompile(model: string, spec: string, out: string, layout: string): number {
  const r = JSON.parse(execFileSync(process.execPath, [path.join(root, 'bench/tasks/compile.mjs'), spec, model, '-o', out, '--layout', layout], { encoding: 'utf8', maxBuffer: 1 << 20 })) as { maxRssKiB: number; code: number };
  if (r.code !== 0) throw new Error(`compile exited ${r.code}`);
  return r.maxRssKiB * 1024;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

function folderBytes(folder: string, except: string[] = []): number {
  return readdirSync(folder).filter((f) => !except.includes(f)).reduce((n, f) => n + statSync(path.join(folder, f)).size, 0);
}

const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const layouts = ['default', 'shared-base'] as const;

const dir = mkdtempSync(path.join(tmpdir(), 'adapterc-bench-compile-'));
try {
  console.log(`\ncompile: adapterc compile specs/houlsby.adp (training artifacts + adapted model), whole processes, median of ${rounds} rounds; sync before each`);
  for (const preset of values.presets!.split(',') as PresetName[]) {
    const model = path.join(dir, `bert-${preset}.onnx`);
    await writeSyntheticBert({ preset, seed: 1 }, model);
    const size = statSync(model).size;
    const spec = path.join(root, 'specs/houlsby.adp');
    cp(model, path.join(dir, 'warm.onnx'));
    runCompile(model, spec, path.join(dir, 'warm'), 'default');
    rmSync(path.join(dir, 'warm'), { recursive: true, force: true });
    const times: Record<'cp' | (typeof layouts)[number], Timing[]> = { cp: [], default: [], 'shared-base': [] };
    for (let round = 0; round < rounds; round++) {
      times.cp.push(cp(model, path.join(dir, 'copy.onnx')));
      for (const layout of layouts) {
        const out = path.join(dir, `${preset}-${layout}`);
        times[layout].push(timed(() => runCompile(model, spec, out, layout), out));
      }
    }
    const base = { exited: median(times.cp.map((t) => t.exited)), synced: median(times.cp.map((t) => t.synced)) };
    console.log(`  ${preset}: ${mb(size)}; cp ${seconds(base.exited)} in the page cache, ${seconds(base.synced)} on disk`);
    for (const layout of layouts) {
      const exited = median(times[layout].map((t) => t.exited));
      const synced = median(times[layout].map((t) => t.synced));
      const rss = Math.max(...times[layout].map((t) => t.rss));
      if (process.env.BENCH_VERBOSE) console.log(times[layout].map((t) => t.exited.toFixed(0)).join(" "));
      console.log(
        `    ${layout.padEnd(11)} in the page cache ${seconds(exited)} = ${(exited / base.exited).toFixed(1)}x cp; on disk ${seconds(synced)} = ${(synced / base.synced).toFixed(1)}x cp; peak RSS ${(rss / size).toFixed(2)}x the model`,
      );
    }
    const first = path.join(dir, `${preset}-first`);
    const second = path.join(dir, `${preset}-second`);
    runCompile(model, spec, first, 'shared-base');
    runCompile(model, path.join(root, 'specs/size-8.adp'), second, 'shared-base');
    const same = readFileSync(path.join(first, 'base.data')).equals(readFileSync(path.join(second, 'base.data')));
    console.log(`    shared-base, a second task (size-8.adp): base.data ${same ? 'byte-identical' : 'DIFFERENT'}; everything else in its folder ${mb(folderBytes(second, ['base.data']))}`);
    for (const folder of [first, second, model]) rmSync(folder, { recursive: true, force: true });
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
