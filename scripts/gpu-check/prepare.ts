/**
 * Prepares the GPU check: compiles a few cases here and writes, per case, the artifacts, the feeds
 * and what the runtimes here computed from them, for `scripts/gpu-check/check.py` to compare on a
 * machine with a GPU (which has Python and maybe an ONNX Runtime CUDA build, but no Node).
 *
 *   npx tsx scripts/gpu-check/prepare.ts [--out gpu-check-cases] [--steps 8] [--only case,case]
 *
 * Per case, in `<out>/<case>/`:
 *   artifacts/       what `adapterc compile` wrote (training, eval and optimizer models, checkpoint;
 *                    base.data in the shared-base layout), unchanged
 *   gradients.onnx   the training model without its InPlaceAccumulatorV2 nodes, gradients as outputs:
 *                    the same forward and backward graph, in standard ONNX ops only, which any ONNX
 *                    Runtime build can run (the accumulators and AdamWOptimizer need a training build)
 *   npy/             feeds (the task batch, every parameter from the checkpoint) and expected outputs
 *   case.json        names, the per-step learning rates the optimizer model computes, the
 *                    loss curve ONNX Runtime's training runtime (onnxruntime-web 1.19.2) gives, and
 *                    the step model's interface (summary.json's `step`) with the loss curve it gives
 *                    in onnxruntime-node over the same steps (its parameters after them in npy/)
 *
 * Expected values come from onnxruntime-node 1.30 on the CPU (eval model, gradients model) and from
 * onnxruntime-web's training build (the loss curve of `steps` train + optimizer steps on one batch).
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import type * as Ort from 'onnxruntime-node';
import type { StepInterface } from '../../src/step/step-model.js';
import { decodeCheckpoint } from '../../src/emit/checkpoint/index.js';
import { withoutAccumulators } from '../../src/emit/training-graphs.js';
import { cloneModel, DataType, readFloat32 } from '../../src/ir/index.js';
import { readModel, writeModel } from '../../src/load/index.js';
import { feedType, type FeedTensor, type Feeds } from '../../src/runtime/ort-training.js';
import { writeSyntheticBert } from '../../src/synth/index.js';
import { root, taskFeeds, train } from '../../test/artifacts/harness.js';
import { cli } from '../../test/helpers/cli.js';
import { npyBytes, type NpyArray } from './npy.js';

const { values } = parseArgs({ options: { out: { type: 'string', default: 'gpu-check-cases' }, steps: { type: 'string', default: '8' }, only: { type: 'string' } } });
const out = path.resolve(values.out);
const steps = Number(values.steps);
/** Case names to prepare (comma-separated); default: all. */
const only = values.only?.split(',');
const corpus = path.resolve(root, '../shared/corpus');

interface CaseSpec {
  readonly name: string;
  readonly model: string;
  readonly spec: string;
  readonly layout: 'default' | 'shared-base';
}

/** A spec importing `base` from specs/ at a learning rate that moves the loss in a few steps. */
function specFile(base: string, lr: number, head = ''): string {
  const file = path.join(out, 'specs', `${path.basename(base, '.adp')}-lr${lr}${head ? '-first-token' : ''}.adp`);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `import "${path.join(root, 'specs', base)}"\n\ntrain {\n  optimizer adamw(lr ${lr}, weight_decay 0.01)\n${head}}\n`);
  return file;
}

/** The same spec with the classifier on the first token, for models without a pooler (ADP2206). */
function firstTokenVariant(spec: string): string {
  const [, base, lr] = /^(.*?)-lr([^-]*)\.adp$/.exec(path.basename(spec))!;
  return specFile(`${base}.adp`, Number(lr), '  head classifier(labels 2, from first_token)\n');
}

async function cases(): Promise<CaseSpec[]> {
  const models = path.join(out, 'models');
  mkdirSync(models, { recursive: true });
  const small = path.join(models, 'bert-small-opset16.onnx');
  await writeSyntheticBert({ layers: 4, hidden: 128, heads: 4, ffn: 512, vocab: 1000, seed: 1, opset: 16 }, small);
  const houlsby = specFile('houlsby.adp', 1e-2);
  const list: CaseSpec[] = [
    { name: 'synthetic-houlsby-default', model: small, spec: houlsby, layout: 'default' },
    { name: 'synthetic-houlsby-shared-base', model: small, spec: houlsby, layout: 'shared-base' },
    // Everything trains, the embeddings too: their gradient is a scatter-add (ScatterElements) at opset 16.
    { name: 'synthetic-full-finetune', model: small, spec: specFile('full-finetune.adp', 1e-3), layout: 'default' },
  ];
  if (!existsSync(path.join(corpus, 'MANIFEST.json'))) {
    console.log(`no corpus at ${corpus}: synthetic cases only`);
    return list;
  }
  const manifest = JSON.parse(readFileSync(path.join(corpus, 'MANIFEST.json'), 'utf8')) as { models: { path: string; runs?: boolean }[] };
  for (const entry of manifest.models) {
    if (entry.runs === false) continue;
    list.push({ name: `corpus-${path.basename(entry.path, '.onnx')}`, model: path.join(corpus, entry.path), spec: houlsby, layout: 'default' });
  }
  return list;
}

/**
 * The optimizer model up to the learning rate its AdamW/SGD node is fed (the rate the runtime feeds,
 * times the spec's scale and schedule), for `step` 1..n: the rates check.py's own AdamW step uses.
 */
async function learningRates(ort: typeof Ort, optimizerPath: string, n: number): Promise<{ rates: number[]; attributes: Record<string, number> }> {
  const optimizer = await readModel(optimizerPath);
  const node = optimizer.graph.nodes.find((x) => x.opType === 'AdamWOptimizer' || x.opType === 'SGDOptimizerV2')!;
  const attributes = Object.fromEntries(node.attributes.map((a) => [a.name, Number(a.f ?? a.i ?? 0)]));
  attributes.sgd = node.opType === 'SGDOptimizerV2' ? 1 : 0;
  const rate = node.inputs[0]!;
  const cut = cloneModel(optimizer);
  cut.graph.nodes = cut.graph.nodes.filter((x) => x !== cut.graph.nodes[optimizer.graph.nodes.indexOf(node)]);
  cut.graph.inputs = cut.graph.inputs.filter((i) => i.name === 'learning_rate' || i.name === 'step');
  cut.graph.outputs = [{ name: rate, type: { tensor: { elemType: DataType.FLOAT } } }];
  const file = path.join(path.dirname(optimizerPath), '..', 'learning-rate.onnx');
  await writeModel(cut, file);
  const session = await ort.InferenceSession.create(file);
  const rates: number[] = [];
  for (let step = 1; step <= n; step++) {
    const feeds: Record<string, Ort.Tensor> = { learning_rate: new ort.Tensor('float32', Float32Array.of(0.001), [1]) };
    if (session.inputNames.includes('step')) feeds.step = new ort.Tensor('int64', BigInt64Array.of(BigInt(step)), [1]);
    const result = await session.run(feeds);
    rates.push((result[rate]!.data as Float32Array)[0]!);
  }
  await session.release();
  rmSync(file);
  return { rates, attributes };
}

/**
 * `steps` runs of the step model (artifacts/step_model.onnx) on the batch from the checkpoint's
 * parameters and zero moments, as `adapterc train`'s default runtime feeds it: its losses and the
 * trainable parameters after the last step.
 */
async function stepModelRun(ort: typeof Ort, artifacts: string, step: StepInterface, batch: Feeds, parameters: Record<string, FeedTensor>, n: number) {
  const session = await ort.InferenceSession.create(path.join(artifacts, step.files.step));
  const state: Record<string, Ort.Tensor> = {};
  for (const p of step.parameters) {
    state[p.name] = ortTensor(ort, parameters[p.name]!);
    for (const s of p.state) state[s] = new ort.Tensor('float32', new Float32Array(state[p.name]!.size), [...p.dims]);
  }
  const int64 = (k: number) => new ort.Tensor('int64', BigInt64Array.of(BigInt(k)), [1]);
  const losses: number[] = [];
  for (let k = 1; k <= n; k++) {
    const feeds: Record<string, Ort.Tensor> = { ...Object.fromEntries(Object.entries(batch).map(([name, t]) => [name, ortTensor(ort, t)])), ...state, [step.step]: int64(k) };
    if (step.totalSteps !== undefined) feeds[step.totalSteps] = int64(n);
    const result = await session.run(feeds);
    losses.push((result[step.loss]!.data as Float32Array)[0]!);
    for (const p of step.parameters) {
      state[p.name] = result[p.updated]!;
      p.state.forEach((s, i) => (state[s] = result[p.stateUpdated[i]!]!));
    }
  }
  await session.release();
  return { losses, parameters: Object.fromEntries(step.parameters.map((p) => [p.name, state[p.name]!])) };
}

function ortTensor(ort: typeof Ort, t: FeedTensor): Ort.Tensor {
  return new ort.Tensor(feedType(t), t.data as Float32Array, [...t.dims]);
}

function asNpy(t: { data: unknown; dims: readonly number[] }): NpyArray {
  return { data: t.data as NpyArray['data'], dims: t.dims };
}

async function prepare(ort: typeof Ort, c: CaseSpec): Promise<Record<string, unknown>> {
  const dir = path.join(out, c.name);
  const artifacts = path.join(dir, 'artifacts');
  const npy = path.join(dir, 'npy');
  mkdirSync(npy, { recursive: true });
  let spec = c.spec;
  let compiled = await cli(['compile', spec, c.model, '-o', artifacts, '--layout', c.layout]);
  if (compiled.code !== 0 && compiled.stderr.includes('ADP2206')) {
    spec = firstTokenVariant(spec);
    compiled = await cli(['compile', spec, c.model, '-o', artifacts, '--layout', c.layout]);
  }
  if (compiled.code !== 0) throw new Error(`compile failed:\n${compiled.stderr}`);
  rmSync(path.join(artifacts, 'model.adapted.onnx'), { force: true });

  const files: Record<string, string> = {};
  const save = (name: string, array: NpyArray): string => {
    const file = `${Object.keys(files).length}.npy`;
    writeFileSync(path.join(npy, file), npyBytes(array));
    files[name] = file;
    return file;
  };

  // Feeds: the task batch and every parameter the checkpoint holds (the eval and gradients models take
  // them as inputs; in the shared-base layout the frozen ones are initializers in base.data instead).
  const batch: Feeds = await taskFeeds(artifacts);
  const checkpoint = decodeCheckpoint(readFileSync(path.join(artifacts, 'checkpoint')));
  const parameters: Record<string, FeedTensor> = {};
  for (const t of [...checkpoint.trainable, ...checkpoint.frozen]) parameters[t.name!] = { data: readFloat32(t), dims: t.dims };
  const feeds = { ...batch, ...parameters };
  for (const [name, t] of Object.entries(feeds)) save(`feed:${name}`, asNpy(t));

  const run = async (file: string): Promise<Record<string, Ort.Tensor>> => {
    const session = await ort.InferenceSession.create(file);
    const result = await session.run(Object.fromEntries(session.inputNames.map((n) => [n, ortTensor(ort, feeds[n]!)])));
    await session.release();
    return result;
  };

  const evalOutputs = await run(path.join(artifacts, 'eval_model.onnx'));
  const expectedEval = Object.fromEntries(Object.entries(evalOutputs).map(([n, t]) => [n, save(`eval:${n}`, asNpy(t))]));

  const { model, gradients } = withoutAccumulators(await readModel(path.join(artifacts, 'training_model.onnx')));
  await writeModel(model, path.join(dir, 'gradients.onnx'), { externalData: 'inline' });
  const gradientOutputs = await run(path.join(dir, 'gradients.onnx'));
  const expectedGradients = Object.fromEntries(Object.entries(gradientOutputs).map(([n, t]) => [n, save(`gradients:${n}`, asNpy(t))]));

  const { rates, attributes } = await learningRates(ort, path.join(artifacts, 'optimizer_model.onnx'), steps);
  const curve = (await train(artifacts, steps)).losses;
  const stepInterface = (JSON.parse(readFileSync(path.join(artifacts, 'summary.json'), 'utf8')) as { step: StepInterface }).step;
  const stepRun = await stepModelRun(ort, artifacts, stepInterface, batch, parameters, steps);
  const expectedStep = Object.fromEntries(Object.entries(stepRun.parameters).map(([n, t]) => [n, save(`step:${n}`, asNpy(t))]));
  const coverage = await cli(['inspect', '--target', 'cuda', artifacts]);
  return {
    name: c.name,
    model: path.relative(root, c.model),
    spec: path.relative(out, spec),
    layout: c.layout,
    userInputs: Object.keys(batch),
    trainable: checkpoint.trainable.map((t) => t.name),
    gradients,
    loss: model.graph.outputs[0]!.name,
    optimizer: attributes,
    learningRates: rates,
    steps,
    trainingRuntimeCurve: curve,
    step: stepInterface,
    stepModelCurve: stepRun.losses,
    expected: { eval: expectedEval, gradients: expectedGradients, step: expectedStep },
    npy: files,
    adaptercCoverage: coverage.stdout.trim().split('\n'),
  };
}

async function main(): Promise<void> {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const ort = await import('onnxruntime-node');
  const prepared: string[] = [];
  const skipped: Record<string, string> = {};
  for (const c of (await cases()).filter((x) => only === undefined || only.includes(x.name))) {
    const started = performance.now();
    try {
      const description = await prepare(ort, c);
      writeFileSync(path.join(out, c.name, 'case.json'), `${JSON.stringify(description, null, 1)}\n`);
      prepared.push(c.name);
      console.log(`${c.name}: ${((performance.now() - started) / 1000).toFixed(1)} s`);
    } catch (error) {
      // A case that cannot be prepared here is left out of the check, and said so in cases.json.
      rmSync(path.join(out, c.name), { recursive: true, force: true });
      skipped[c.name] = error instanceof Error ? error.message : String(error);
      console.log(`${c.name}: skipped: ${skipped[c.name]}`);
    }
  }
  rmSync(path.join(out, 'models'), { recursive: true, force: true });
  writeFileSync(path.join(out, 'cases.json'), `${JSON.stringify({ cases: prepared, skipped, steps }, null, 1)}\n`);
}

await main();
