/**
 * `npm run bench` (compile part): `adapterc compile specs/houlsby.adp` on BERT-base- and
 * BERT-large-shaped models, in both layouts, against two baselines measured in the same run on the
 * same files: `cp` of the model file, and onnxruntime-node creating an inference session for it.
 * Targets: at most 3x `cp` on disk, at most 0.5x the session's time, peak RSS at most 0.5x the model.
 *
 * The models come from a real exporter where interop/.venv exists (bash interop/setup.sh): torch's
 * TorchScript exporter through ../shared/scripts/export_bert.py, cached in interop/work/bench-models/.
 * `torch-base` is torch's default (constant folding on: weights stored pre-transposed),
 * `torch-base-unfolded` the same weights exported without folding (a Transpose on every weight),
 * `torch-large` BERT-large's shape (folded). Without that environment the default presets are the
 * synthetic builder's `base` and `large`, and the benchmark says so.
 *
 * Every command is timed as a whole process (node's start-up included), in rounds that alternate
 * cp, the session and the compiles, with `sync` (untimed) before each so none inherits another's
 * unwritten pages; the median of the rounds is quoted. Two times per command:
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
 * Usage: npm run bench -- [--presets torch-base,torch-base-unfolded,torch-large,base,large,xl] [--rounds 3]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { writeSyntheticBert, writeSyntheticBertExternal, type SyntheticBertOptions } from '../src/synth/index.js';
import { median } from './lib/median.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const python = path.join(root, 'interop/.venv/bin/python');
const exporter = path.resolve(root, '../shared/scripts/export_bert.py');
const hasTorch = existsSync(python) && existsSync(exporter);
const { values } = parseArgs({ options: { presets: { type: 'string', default: hasTorch ? 'torch-base,torch-base-unfolded,torch-large' : 'base,large' }, rounds: { type: 'string', default: '3' } } });
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

type Preset = { readonly synthetic: SyntheticBertOptions; readonly external: boolean } | { readonly torch: 'base' | 'large'; readonly folded: boolean };

const MODELS: Record<string, Preset> = {
  'torch-base': { torch: 'base', folded: true },
  'torch-base-unfolded': { torch: 'base', folded: false },
  'torch-large': { torch: 'large', folded: true },
  base: { synthetic: { preset: 'base' }, external: false },
  large: { synthetic: { preset: 'large' }, external: false },
  xl: { synthetic: { preset: 'large', layers: 48 }, external: true },
};

/** The preset's model files (the model first), written into `dir` or, for torch exports, taken from their cache. */
async function modelFiles(name: string, preset: Preset, dir: string): Promise<string[]> {
  if ('torch' in preset) {
    if (!hasTorch) throw new Error(`preset '${name}' needs interop/.venv (bash interop/setup.sh) and ${exporter}`);
    const cache = path.join(root, 'interop/work/bench-models', preset.torch);
    const file = path.join(cache, `bert_${preset.torch}_${preset.folded ? 'folded_' : ''}opset14.onnx`);
    if (!existsSync(file)) {
      // Exported into a fresh folder, then moved into place: a killed export leaves no half-written cache.
      const staging = `${cache}.tmp-${process.pid}`;
      rmSync(staging, { recursive: true, force: true });
      mkdirSync(staging, { recursive: true });
      execFileSync(python, [exporter, preset.torch, staging], { stdio: ['ignore', 'ignore', 'inherit'] });
      rmSync(cache, { recursive: true, force: true });
      renameSync(staging, cache);
    }
    return [file];
  }
  const model = path.join(dir, `bert-${name}.onnx`);
  if (preset.external) await writeSyntheticBertExternal({ ...preset.synthetic, seed: 1 }, model);
  else await writeSyntheticBert({ ...preset.synthetic, seed: 1 }, model);
  return preset.external ? [model, `${model}.data`] : [model];
}

/** onnxruntime-node creating an inference session for the model, in its own process (bench/tasks/ort-session.mjs). */
function session(model: string): Timing {
  return timed(() => {
    const r = JSON.parse(execFileSync(process.execPath, [path.join(root, 'bench/tasks/ort-session.mjs'), model], { encoding: 'utf8' })) as { maxRssKiB: number };
    return r.maxRssKiB * 1024;
  }, path.join(tmpdir(), 'adapterc-bench-nothing'));
}

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
  if (!hasTorch) console.log(`  (no interop/.venv or ${exporter}: the synthetic builder's models; bash interop/setup.sh gives torch's exports)`);
  for (const preset of values.presets!.split(',')) {
    const config = MODELS[preset];
    if (config === undefined) throw new Error(`unknown preset '${preset}' (${Object.keys(MODELS).join(', ')})`);
    const files = await modelFiles(preset, config, dir);
    const model = files[0]!;
    const size = files.reduce((n, f) => n + statSync(f).size, 0);
    const spec = path.join(root, 'specs/houlsby.adp');
    cp(files, path.join(dir, 'warm'));
    const refused = new Map<string, string>();
    for (const layout of layouts) {
      const r = tryCompile(model, spec, path.join(dir, 'warm'), layout);
      if (r.code !== 0) refused.set(layout, r.error ?? `exit ${r.code}`);
      rmSync(path.join(dir, 'warm'), { recursive: true, force: true });
    }
    const times: Record<'cp' | 'session' | (typeof layouts)[number], Timing[]> = { cp: [], session: [], default: [], 'shared-base': [] };
    for (let round = 0; round < rounds; round++) {
      times.cp.push(cp(files, path.join(dir, 'copy')));
      times.session.push(session(model));
      for (const layout of layouts) {
        if (refused.has(layout)) continue;
        const out = path.join(dir, `${preset}-${layout}`);
        times[layout].push(timed(() => runCompile(model, spec, out, layout), out));
      }
    }
    const base = { exited: median(times.cp.map((t) => t.exited)), synced: median(times.cp.map((t) => t.synced)) };
    const ort = median(times.session.map((t) => t.exited));
    const source = 'torch' in config ? `torch ${config.folded ? 'folded' : 'unfolded'}` : 'synthetic';
    console.log(`  ${preset} (${source}): ${mb(size)}${'external' in config && config.external ? ' (weights in a side file)' : ''}; cp ${seconds(base.exited)} in the page cache, ${seconds(base.synced)} on disk; onnxruntime-node session ${seconds(ort)}`);
    for (const layout of layouts) {
      if (refused.has(layout)) {
        console.log(`    ${layout.padEnd(11)} refused: ${refused.get(layout)}`);
        continue;
      }
      const exited = median(times[layout].map((t) => t.exited));
      const synced = median(times[layout].map((t) => t.synced));
      const rss = Math.max(...times[layout].map((t) => t.rss));
      console.log(
        `    ${layout.padEnd(11)} in the page cache ${seconds(exited)} = ${(exited / base.exited).toFixed(1)}x cp, ${(exited / ort).toFixed(2)}x the session; on disk ${seconds(synced)} = ${(synced / base.synced).toFixed(1)}x cp; peak RSS ${(rss / size).toFixed(2)}x the model`,
      );
    }
    const first = path.join(dir, `${preset}-first`);
    const second = path.join(dir, `${preset}-second`);
    runCompile(model, spec, first, 'shared-base');
    runCompile(model, path.join(root, 'specs/size-8.adp'), second, 'shared-base');
    const same = sameBytes(path.join(first, 'base.data'), path.join(second, 'base.data'));
    console.log(`    shared-base, a second task (size-8.adp): base.data ${same ? 'byte-identical' : 'DIFFERENT'}; everything else in its folder ${mb(folderBytes(second, ['base.data']))}`);
    for (const folder of [first, second, ...('torch' in config ? [] : files)]) rmSync(folder, { recursive: true, force: true });
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
