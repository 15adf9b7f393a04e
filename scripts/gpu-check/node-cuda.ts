/**
 * The Node half of the GPU check: `adapterc train`'s default runtime (the step model in
 * onnxruntime-node) on ONNX Runtime's CUDA execution provider, against the same runtime on the CPU.
 * Runs on the GPU machine, bundled into one file with everything but onnxruntime-node
 * (scripts/gpu-check/pack.sh builds the bundle and says how to run it), and here on the CPU alone to
 * rehearse it (`--providers cpu`).
 *
 *   node node-cuda.mjs --out DIR [--providers cuda] [--shapes mini,base] [--data TSV --vocab TXT]
 *
 * Per BERT shape (the synthetic builder, written on the spot: nothing big travels), with
 * specs/houlsby.adp and specs/full-finetune.adp compiled there:
 *   agreement  the same batches from the same checkpoint for `agree` steps on the CPU and on the
 *              provider: the loss at every step and the parameters after the last
 *   placement  which provider ran each node of one step, from ONNX Runtime's profile
 *   speed      the median step time (parameters and moments fed and taken back, as `adapterc
 *              train` does) on each provider, batch 8 x 128 with every token real
 * With --data and --vocab: `adapterc train --execution-provider cuda` on them, the CLI end to end,
 * and the same run on the CPU for its loss curve and dev accuracy.
 * Writes node-cuda.json and node-cuda.txt to --out; exits 1 when a comparison fails.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { compile } from '../../src/api/compile.js';
import { readFloat32 } from '../../src/ir/index.js';
import { runCli } from '../../src/cli/main.js';
import { fullBatch } from '../../bench/lib/full-batch.js';
import type { Feeds } from '../../src/runtime/ort-training.js';
import { writeSyntheticBert } from '../../src/synth/index.js';
import { readArtifacts, type ArtifactsInfo } from '../../src/train/index.js';
import { openStepRuntime, stepInterfaceOf } from '../../src/train/runtimes/step-model.js';
import { median } from '../../bench/lib/median.js';

const { values } = parseArgs({
  options: {
    out: { type: 'string', default: 'node-cuda-report' },
    providers: { type: 'string', default: 'cuda' },
    shapes: { type: 'string', default: 'mini,base' },
    data: { type: 'string' },
    dev: { type: 'string' },
    vocab: { type: 'string' },
    steps: { type: 'string', default: '20' },
    specs: { type: 'string', default: 'specs' },
    'loss-tol': { type: 'string', default: '2e-3' },
    'parameter-tol': { type: 'string', default: '1e-3' },
  },
});
const provider = values.providers!;
/** The repository's specs/ (it travels with the working tree); the specs import specs/base/. */
const specs = path.resolve(values.specs!);
const timedSteps = Number(values.steps);
const out = path.resolve(values.out!);
mkdirSync(out, { recursive: true });
const work = path.join(tmpdir(), `adapterc-node-cuda-${process.pid}`);
mkdirSync(work, { recursive: true });

const SHAPES = {
  mini: { layers: 4, hidden: 256, heads: 4, ffn: 1024, agree: 8 },
  base: { layers: 12, hidden: 768, heads: 12, ffn: 3072, agree: 3 },
} as const;
const BATCH = 8;
const SEQUENCE = 128;
// float32 on two providers: per-op rounding compounding through 12 layers, forward and backward,
// and AdamW's first steps, which move each parameter by about the learning rate whatever the
// gradient's size (check.py's bounds). ONNX Runtime's CUDA provider multiplies matrices in TF32 by
// default (10-bit mantissas), which onnxruntime-node cannot turn off: NVIDIA_TF32_OVERRIDE=0 does
// (cuBLAS reads it), and device.sh runs once with it and once without, with looser bounds.
const LOSS_TOL = Number(values['loss-tol']);
const PARAMETER_TOL = Number(values['parameter-tol']);
const tf32 = provider === 'cpu' ? 'none' : process.env['NVIDIA_TF32_OVERRIDE'] === '0' ? 'off (NVIDIA_TF32_OVERRIDE=0)' : 'as onnxruntime sets it (on)';

const lines: string[] = [];
const say = (text = '') => {
  console.log(text);
  lines.push(text);
};
const report: Record<string, unknown> = {
  onnxruntimeNode: ort.env.versions.node,
  cores: availableParallelism(),
  provider,
  tf32,
  shapes: {},
};
let failed = false;

/** Batch 8 x 128, every token real (no padding). */
const batch = (info: ArtifactsInfo): Feeds => fullBatch(info, BATCH, SEQUENCE);


interface Run {
  readonly losses: number[];
  readonly parameters: Map<string, Float32Array>;
  readonly openSeconds: number;
  readonly stepSeconds?: number;
}

/** `agree` steps (losses, then the parameters), then `timed` more steps for the median time. */
async function run(folder: string, providers: readonly string[], agree: number, timed: number): Promise<Run> {
  const info = readArtifacts(folder);
  const opened = performance.now();
  const runtime = await openStepRuntime(info, { totalSteps: 1000, executionProviders: providers });
  const feeds = batch(info);
  try {
    const losses = [await runtime.trainStep(feeds, 1)];
    const openSeconds = (performance.now() - opened) / 1000;
    for (let step = 2; step <= agree; step++) losses.push(await runtime.trainStep(feeds, step));
    const parameters = await runtime.trainable();
    const times: number[] = [];
    for (let step = agree + 1; step <= agree + timed; step++) {
      const started = performance.now();
      await runtime.trainStep(feeds, step);
      times.push((performance.now() - started) / 1000);
    }
    return { losses, parameters, openSeconds, ...(times.length > 0 ? { stepSeconds: median(times) } : {}) };
  } finally {
    await runtime.release();
  }
}

/** ||a - b|| / ||b|| over all parameters, and the worst single tensor's. */
function parameterDifference(a: Map<string, Float32Array>, b: Map<string, Float32Array>): { whole: number; worst: number; worstName: string } {
  let diff = 0;
  let norm = 0;
  let worst = 0;
  let worstName = '';
  for (const [name, expected] of b) {
    const actual = a.get(name)!;
    let d = 0;
    let n = 0;
    for (let i = 0; i < expected.length; i++) {
      d += (actual[i]! - expected[i]!) ** 2;
      n += expected[i]! ** 2;
    }
    diff += d;
    norm += n;
    const relative = Math.sqrt(d) / Math.max(Math.sqrt(n), 1e-12);
    if (relative > worst) [worst, worstName] = [relative, name];
  }
  return { whole: Math.sqrt(diff) / Math.sqrt(norm), worst, worstName };
}

interface Placement {
  readonly counts: Record<string, number>;
  /** Nodes on the CPU that read a float tensor of more than 16 elements: a real fallback. */
  readonly cpuFloatNodes: string[];
  /** The op types of the rest: shape arithmetic ONNX Runtime keeps on the CPU on purpose. */
  readonly cpuShapeOps: string[];
}

/** Nodes per provider in one step, from ONNX Runtime's profile, split as check.py's `placement` does. */
async function placement(folder: string): Promise<Placement> {
  const info = readArtifacts(folder);
  const step = stepInterfaceOf(info);
  const prefix = path.join(work, `profile-${path.basename(folder)}`);
  const session = await ort.InferenceSession.create(path.join(folder, step.files.step), {
    executionProviders: [provider] as ort.InferenceSession.SessionOptions['executionProviders'],
    enableProfiling: true,
    profileFilePrefix: prefix,
    logSeverityLevel: 4,
  });
  const feeds: Record<string, ort.Tensor> = {};
  for (const [name, f] of Object.entries(batch(info))) feeds[name] = new ort.Tensor(f.data instanceof Int32Array ? 'int32' : 'int64', f.data as BigInt64Array, f.dims);
  feeds[step.step] = new ort.Tensor('int64', new BigInt64Array([1n]), [1]);
  if (step.totalSteps !== undefined) feeds[step.totalSteps] = new ort.Tensor('int64', new BigInt64Array([1000n]), [1]);
  const values = new Map(info.checkpoint.trainable.map((t) => [t.name!, t]));
  for (const p of step.parameters) {
    const initial = readFloat32(values.get(p.name)!).slice();
    feeds[p.name] = new ort.Tensor('float32', initial, p.dims);
    for (const s of p.state) feeds[s] = new ort.Tensor('float32', new Float32Array(initial.length), p.dims);
  }
  await session.run(feeds);
  session.endProfiling();
  await session.release();
  const file = readdirSync(work).filter((f) => f.startsWith(path.basename(prefix)) && f.endsWith('.json')).sort().at(-1)!;
  type Event = { cat: string; name: string; args?: { provider?: string; op_name?: string; input_type_shape?: Record<string, number[]>[] } };
  const events = JSON.parse(readFileSync(path.join(work, file), 'utf8')) as Event[];
  const counts: Record<string, number> = {};
  const cpuFloatNodes: string[] = [];
  const cpuShapeOps = new Set<string>();
  const heavy = (e: Event) => (e.args?.input_type_shape ?? []).some((input) => Object.entries(input).some(([type, dims]) => ['float', 'float16', 'double'].includes(type) && dims.reduce((a, b) => a * b, 1) > 16));
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time') || e.args?.provider === undefined) continue;
    counts[e.args.provider] = (counts[e.args.provider] ?? 0) + 1;
    if (e.args.provider !== 'CPUExecutionProvider') continue;
    if (heavy(e)) cpuFloatNodes.push(`${e.name.replace(/_kernel_time$/, '')} (${e.args.op_name ?? '?'})`);
    else cpuShapeOps.add(e.args.op_name ?? '?');
  }
  return { counts, cpuFloatNodes, cpuShapeOps: [...cpuShapeOps].sort() };
}

/** The largest |a[k] - b[k]| / |b[k]| over b. */
const worstRelative = (a: readonly number[], b: readonly number[]) => Math.max(...b.map((l, k) => Math.abs(a[k]! - l) / Math.max(Math.abs(l), 1e-6)));

const ms = (s: number | undefined) => (s === undefined ? '-' : `${(s * 1000).toFixed(1)} ms`);

async function shape(name: keyof typeof SHAPES): Promise<void> {
  const s = SHAPES[name];
  const model = path.join(work, `bert-${name}.onnx`);
  await writeSyntheticBert({ layers: s.layers, hidden: s.hidden, heads: s.heads, ffn: s.ffn, vocab: 30522, maxPositions: 512, seed: 1 }, model);
  const result: Record<string, unknown> = {};
  (report['shapes'] as Record<string, unknown>)[name] = result;
  say(`\n## ${name}: ${s.layers} layers, hidden ${s.hidden}, vocabulary 30,522 (synthetic, seed 1); batch ${BATCH} x ${SEQUENCE}`);
  for (const specName of ['houlsby', 'full-finetune']) {
    const spec = path.join(specs, `${specName}.adp`);
    const folder = path.join(work, `${name}-${specName}`);
    const compiled = performance.now();
    await compile({ spec, model, out: folder });
    const compileSeconds = (performance.now() - compiled) / 1000;
    // The CPU times only a few steps on BERT-base: the comparison is the point there, not its speed.
    const cpu = await run(folder, ['cpu'], s.agree, name === 'base' ? 3 : 10);
    const other = provider === 'cpu' ? cpu : await run(folder, [provider], s.agree, timedSteps);
    const lossDiff = worstRelative(other.losses, cpu.losses);
    const params = parameterDifference(other.parameters, cpu.parameters);
    const ok = lossDiff <= LOSS_TOL && params.whole <= PARAMETER_TOL;
    failed ||= !ok;
    const placed = provider === 'cpu' ? undefined : await placement(folder);
    const entry = {
      compileSeconds,
      cpu: { losses: cpu.losses, stepSeconds: cpu.stepSeconds, openSeconds: cpu.openSeconds },
      [provider]: { losses: other.losses, stepSeconds: other.stepSeconds, openSeconds: other.openSeconds },
      lossRelativeDifference: lossDiff,
      parameters: params,
      placement: placed,
      ok,
    };
    result[specName] = entry;
    say(`  ${specName}: compiled on this machine in ${compileSeconds.toFixed(1)} s`);
    say(`    ${s.agree} steps, ${provider} against cpu: losses within ${lossDiff.toExponential(1)} relative (bound ${LOSS_TOL}), parameters ||d||/||p|| ${params.whole.toExponential(1)} (bound ${PARAMETER_TOL}; worst tensor ${params.worst.toExponential(1)}, ${params.worstName}): ${ok ? 'ok' : 'FAILED'}`);
    say(`    losses (cpu):        ${cpu.losses.map((l) => l.toFixed(5)).join(' ')}`);
    say(`    losses (${provider}): ${other.losses.map((l) => l.toFixed(5)).join(' ')}`);
    say(`    median step: cpu (${availableParallelism()} cores) ${ms(cpu.stepSeconds)}, ${provider} ${ms(other.stepSeconds)}${cpu.stepSeconds && other.stepSeconds ? `: ${(cpu.stepSeconds / other.stepSeconds).toFixed(1)}x` : ''}; session open + first step: cpu ${cpu.openSeconds.toFixed(1)} s, ${provider} ${other.openSeconds.toFixed(1)} s`);
    if (placed) {
      // A float node on the CPU is a fallback `target cuda` should have refused: fail the check.
      failed ||= placed.cpuFloatNodes.length > 0;
      say(`    placement of one step: ${Object.entries(placed.counts).map(([p, n]) => `${p} ${n}`).join(', ')}; float nodes on the CPU: ${placed.cpuFloatNodes.length}${placed.cpuFloatNodes.length ? ` (${placed.cpuFloatNodes.slice(0, 8).join(', ')})` : ''}; shape ops on the CPU: ${placed.cpuShapeOps.join(', ')}`);
    }
    rmSync(folder, { recursive: true, force: true });
  }
  rmSync(model, { force: true });
}

/** `adapterc train` end to end on real sentences, on the provider and on the CPU. */
async function cli(): Promise<void> {
  const model = path.join(work, 'bert-cli.onnx');
  await writeSyntheticBert({ layers: 4, hidden: 256, heads: 4, ffn: 1024, vocab: 30522, maxPositions: 512, seed: 2 }, model);
  const spec = path.join(specs, 'houlsby.adp');
  const folder = path.join(work, 'cli-houlsby');
  await compile({ spec, model, out: folder });
  const runs: Record<string, { seconds: number; result: Record<string, unknown>; losses: number[] }> = {};
  say(`\n## adapterc train on ${path.basename(values.data!)} (houlsby, 4 x 256 synthetic, batch 32, --max-steps 200)`);
  for (const providers of provider === 'cpu' ? ['cpu'] : [provider, 'cpu']) {
    const trained = path.join(work, `trained-${providers}`);
    let stdout = '';
    const started = performance.now();
    const code = await runCli(
      ['train', folder, '--train', values.data!, ...(values.dev ? ['--dev', values.dev] : []), '--vocab', values.vocab!, '--batch-size', '32', '--max-steps', '200', '--execution-provider', providers, '--json', '-o', trained],
      { stdout: (t: string) => void (stdout += t), stderr: () => {}, cwd: process.cwd() },
    );
    const seconds = (performance.now() - started) / 1000;
    const result = JSON.parse(stdout) as Record<string, unknown>;
    const log = code === 0 ? (JSON.parse(readFileSync(path.join(trained, 'train-log.json'), 'utf8')) as { steps?: { loss: number }[] }) : {};
    const losses = log.steps?.map((s) => s.loss) ?? [];
    runs[providers] = { seconds, result, losses };
    failed ||= code !== 0;
    const epochs = result['epochs'] as { trainLoss: number; dev?: { accuracy?: number } }[] | undefined;
    say(`  --execution-provider ${providers}: exit ${code} in ${seconds.toFixed(1)} s${epochs ? `; train loss ${epochs.map((e) => e.trainLoss.toFixed(4)).join(', ')}${values.dev ? `; dev accuracy ${epochs.map((e) => e.dev?.accuracy?.toFixed(4)).join(', ')}` : ''}; ${String(result['examplesPerSecond']).slice(0, 6)} examples/s` : `: ${stdout.slice(0, 300)}`}`);
  }
  if (runs[provider] && runs['cpu'] && provider !== 'cpu') {
    const worst = worstRelative(runs[provider].losses, runs['cpu'].losses);
    say(`  per-step losses, ${provider} against cpu over ${runs['cpu'].losses.length} steps: within ${worst.toExponential(1)} relative`);
    report['cliLossRelativeDifference'] = worst;
  }
  report['cli'] = runs;
}

try {
  say(`onnxruntime-node ${ort.env.versions.node}, provider ${provider}, TF32 ${tf32}, ${availableParallelism()} cores`);
  for (const name of values.shapes!.split(',').filter((n) => n !== '')) await shape(name as keyof typeof SHAPES);
  if (values.data && values.vocab) await cli();
} catch (error) {
  failed = true;
  say(`ERROR: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
} finally {
  report['ok'] = !failed;
  writeFileSync(path.join(out, 'node-cuda.json'), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(path.join(out, 'node-cuda.txt'), `${lines.join('\n')}\n`);
  rmSync(work, { recursive: true, force: true });
}
process.exitCode = failed ? 1 : 0;
