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
 * `xl` (not run by default: it writes 5 GB) is BERT-large with 48 layers, 2.6 GB: over protobuf's
 * 2 GiB, so its weights are in a side file, as ONNX saves such models; its `cp` copies both files.
 * Its default-layout checkpoint would pass FlatBuffers' 2 GiB, which compile refuses (ADP3104).
 *
 * Usage: npm run bench -- [--presets base,large,xl] [--rounds 3]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, readSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { writeSyntheticBert, writeSyntheticBertExternal, type SyntheticBertOptions } from '../src/synth/index.js';

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

/** `cp` of the model's files (the model, and its side file if any) into the folder `to`. */
function cp(files: readonly string[], to: string): Timing {
  return timed(() => {
    mkdirSync(to);
    if (spawnSync('cp', [...files, to]).status !== 0) throw new Error('cp failed');
    return 0;
  }, to);
}

const MODELS: Record<string, { readonly options: SyntheticBertOptions; readonly external: boolean }> = {
  base: { options: { preset: 'base' }, external: false },
  large: { options: { preset: 'large' }, external: false },
  xl: { options: { preset: 'large', layers: 48 }, external: true },
};

/** One `adapterc compile` in its own node process (bench/tasks/compile.mjs reports its peak RSS and its first error). */
function tryCompile(model: string, spec: string, out: string, layout: string): { rss: number; code: number; error?: string } {
  const r = JSON.parse(execFileSync(process.execPath, [path.join(root, 'bench/tasks/compile.mjs'), spec, model, '-o', out, '--layout', layout], { encoding: 'utf8', maxBuffer: 1 << 20 })) as { maxRssKiB: number; code: number; error?: string };
  return { rss: r.maxRssKiB * 1024, code: r.code, ...(r.error === undefined ? {} : { error: r.error }) };
}

function runCompile(model: string, spec: string, out: string, layout: string): number {
  const r = tryCompile(model, spec, out, layout);
  if (r.code !== 0) throw new Error(`compile exited ${r.code}: ${r.error ?? ''}`);
  return r.rss;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

/** Whether two files hold the same bytes (compared in pieces: base.data may pass 2 GiB, readFileSync's limit). */
function sameBytes(a: string, b: string): boolean {
  if (statSync(a).size !== statSync(b).size) return false;
  const [fa, fb] = [openSync(a, 'r'), openSync(b, 'r')];
  try {
    const [ba, bb] = [Buffer.alloc(1 << 22), Buffer.alloc(1 << 22)];
    for (let at = 0; ; at += ba.length) {
      const n = readSync(fa, ba, 0, ba.length, at);
      if (n !== readSync(fb, bb, 0, bb.length, at) || !ba.subarray(0, n).equals(bb.subarray(0, n))) return false;
      if (n === 0) return true;
    }
  } finally {
    closeSync(fa);
    closeSync(fb);
  }
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
  for (const preset of values.presets!.split(',')) {
    const config = MODELS[preset];
    if (config === undefined) throw new Error(`unknown preset '${preset}' (base, large or xl)`);
    const model = path.join(dir, `bert-${preset}.onnx`);
    if (config.external) await writeSyntheticBertExternal({ ...config.options, seed: 1 }, model);
    else await writeSyntheticBert({ ...config.options, seed: 1 }, model);
    const files = config.external ? [model, `${model}.data`] : [model];
    const size = files.reduce((n, f) => n + statSync(f).size, 0);
    const spec = path.join(root, 'specs/houlsby.adp');
    cp(files, path.join(dir, 'warm'));
    const refused = new Map<string, string>();
    for (const layout of layouts) {
      const r = tryCompile(model, spec, path.join(dir, 'warm'), layout);
      if (r.code !== 0) refused.set(layout, r.error ?? `exit ${r.code}`);
      rmSync(path.join(dir, 'warm'), { recursive: true, force: true });
    }
    const times: Record<'cp' | (typeof layouts)[number], Timing[]> = { cp: [], default: [], 'shared-base': [] };
    for (let round = 0; round < rounds; round++) {
      times.cp.push(cp(files, path.join(dir, 'copy')));
      for (const layout of layouts) {
        if (refused.has(layout)) continue;
        const out = path.join(dir, `${preset}-${layout}`);
        times[layout].push(timed(() => runCompile(model, spec, out, layout), out));
      }
    }
    const base = { exited: median(times.cp.map((t) => t.exited)), synced: median(times.cp.map((t) => t.synced)) };
    console.log(`  ${preset}: ${mb(size)}${config.external ? ' (weights in a side file)' : ''}; cp ${seconds(base.exited)} in the page cache, ${seconds(base.synced)} on disk`);
    for (const layout of layouts) {
      if (refused.has(layout)) {
        console.log(`    ${layout.padEnd(11)} refused: ${refused.get(layout)}`);
        continue;
      }
      const exited = median(times[layout].map((t) => t.exited));
      const synced = median(times[layout].map((t) => t.synced));
      const rss = Math.max(...times[layout].map((t) => t.rss));
      console.log(
        `    ${layout.padEnd(11)} in the page cache ${seconds(exited)} = ${(exited / base.exited).toFixed(1)}x cp; on disk ${seconds(synced)} = ${(synced / base.synced).toFixed(1)}x cp; peak RSS ${(rss / size).toFixed(2)}x the model`,
      );
    }
    const first = path.join(dir, `${preset}-first`);
    const second = path.join(dir, `${preset}-second`);
    runCompile(model, spec, first, 'shared-base');
    runCompile(model, path.join(root, 'specs/size-8.adp'), second, 'shared-base');
    const same = sameBytes(path.join(first, 'base.data'), path.join(second, 'base.data'));
    console.log(`    shared-base, a second task (size-8.adp): base.data ${same ? 'byte-identical' : 'DIFFERENT'}; everything else in its folder ${mb(folderBytes(second, ['base.data']))}`);
    for (const folder of [first, second, ...files]) rmSync(folder, { recursive: true, force: true });
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
