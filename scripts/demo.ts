/**
 * `npm run demo`: the whole job on a built-in default, no downloads. Generates a small synthetic
 * BERT, compiles specs/houlsby.adp against it into ONNX Runtime training artifacts and the step
 * model, trains the step model in onnxruntime-node for a few steps on a small task (the label says
 * which of two tokens sits at position 1), evaluates, keeps the trained values as a checkpoint, exports an
 * inference model with them merged in, and runs that in onnxruntime-node.
 *
 * Usage: npm run demo [-- --out <folder>] (default: ./demo-output, replaced on each run)
 */
import * as ort from 'onnxruntime-node';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { writeCheckpoint } from '../src/emit/checkpoint/index.js';
import { makeTensor } from '../src/ir/index.js';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runCli } from '../src/cli/main.js';
import { writeSyntheticBertSync } from '../src/synth/index.js';
import type { Feeds } from '../src/runtime/ort-training.js';
import { readArtifacts } from '../src/train/artifacts.js';
import { openStepRuntime } from '../src/train/runtimes/step-model.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: { out: { type: 'string', default: path.join(root, 'demo-output') } } });
const out = path.resolve(values.out!);
mkdirSync(out, { recursive: true });

function say(text: string): void {
  process.stdout.write(`${text}\n`);
}

// 1. A model to adapt: a 4-layer BERT with hidden size 64, exported the way torch.onnx does.
const model = path.join(out, 'bert-demo.onnx');
const manifest = writeSyntheticBertSync({ layers: 4, hidden: 64, heads: 4, ffn: 256, vocab: 1000, seed: 7, init: { std: 0.05 } }, model);
say(`1. generated ${path.relative(root, model)}: a synthetic BERT (${manifest.layers} layers, hidden ${manifest.hidden}, ${manifest.parameterCount.toLocaleString('en-US')} parameters)`);

// 2. Compile the paper's spec against it: the four training artifacts and the adapted model.
const artifacts = path.join(out, 'artifacts');
say(`2. adapterc compile specs/houlsby.adp ${path.relative(root, model)} -o ${path.relative(root, artifacts)}\n`);
const code = await runCli(['compile', path.join(root, 'specs/houlsby.adp'), model, '-o', artifacts]);
if (code !== 0) process.exit(code);

// 3. Train with the step model (step_model.onnx: forward, loss, gradients and AdamW in standard
//    ONNX) in onnxruntime-node, as `adapterc train` does by default.
const info = readArtifacts(artifacts);
const steps = 300;
const session = await openStepRuntime(info, { totalSteps: steps });
const batch = 16;
const sequence = 8;
const token = (b: number, t: number) => (t === 1 ? (b % 2 ? 3 : 7) : 10 + ((b * 37 + t * 11) % 900));
const ids = BigInt64Array.from({ length: batch * sequence }, (_, i) => BigInt(token(Math.floor(i / sequence), i % sequence)));
const feeds: Feeds = {
  input_ids: { data: ids, dims: [batch, sequence] },
  attention_mask: { data: new BigInt64Array(batch * sequence).fill(1n), dims: [batch, sequence] },
  token_type_ids: { data: new BigInt64Array(batch * sequence), dims: [batch, sequence] },
  labels: { data: BigInt64Array.from({ length: batch }, (_, b) => BigInt(b % 2)), dims: [batch] },
};
const count = (ts: readonly { dims: readonly number[] }[]) => ts.reduce((n, t) => n + t.dims.reduce((a, b) => a * b, 1), 0);
const trainable = count(info.checkpoint.trainable);
const all = trainable + count(info.checkpoint.frozen);
say(`\n3. training with the step model in onnxruntime-node ${ort.env.versions.node} (standard ONNX, no training build): ${trainable.toLocaleString('en-US')} of the adapted model's ${all.toLocaleString('en-US')} parameters train (the base's, plus what adapters and head add)`);

for (let step = 1; step <= steps; step++) {
  const loss = await session.trainStep(feeds, step);
  if (step === 1 || step % 60 === 0) say(`   step ${String(step).padStart(3)}  loss ${loss.toFixed(4)}`);
}
const evaluated = await session.evalStep(feeds);
const logits = evaluated['logits']!.data as Float32Array;
let correct = 0;
for (let b = 0; b < batch; b++) if ((logits[b * 2 + 1]! > logits[b * 2]! ? 1 : 0) === b % 2) correct++;
say(`4. eval: loss ${(evaluated['loss']!.data as Float32Array)[0]!.toFixed(4)}, accuracy ${correct}/${batch}`);

// 5. Keep the trained values as a checkpoint, the frozen ones as compiled.
const trainedValues = await session.trainable();
await session.release();
const trained = info.checkpoint.trainable.map((t) => makeTensor(t.name!, t.dims, trainedValues.get(t.name!)!));
mkdirSync(path.join(artifacts, 'trained'), { recursive: true });
await writeCheckpoint(path.join(artifacts, 'trained', 'checkpoint'), { trainable: trained, frozen: info.checkpoint.frozen });

// 6. Export an inference model with the trained adapters merged in, and run it in onnxruntime-node.
const exported = path.join(out, 'bert-demo.trained.onnx');
say(`5. adapterc export ${path.relative(root, artifacts)} -o ${path.relative(root, exported)}`);
const exportCode = await runCli(['export', artifacts, '-o', exported], { stdout: () => {}, stderr: (t) => process.stderr.write(t), cwd: root });
if (exportCode !== 0) process.exit(exportCode);
const inference = await ort.InferenceSession.create(exported, { logSeverityLevel: 3 });
const run = await inference.run({
  input_ids: new ort.Tensor('int64', ids, [batch, sequence]),
  attention_mask: new ort.Tensor('int64', new BigInt64Array(batch * sequence).fill(1n), [batch, sequence]),
  token_type_ids: new ort.Tensor('int64', new BigInt64Array(batch * sequence), [batch, sequence]),
});
const exportedLogits = run['logits']!.data as Float32Array;
const difference = exportedLogits.reduce((m, v, i) => Math.max(m, Math.abs(v - logits[i]!)), 0);
say(`6. onnxruntime-node ran ${path.relative(root, exported)}: logits [${run['logits']!.dims.join(', ')}], max difference from the eval model ${difference.toExponential(1)}`);

const summary = JSON.parse(readFileSync(path.join(artifacts, 'summary.json'), 'utf8')) as { adapterParameters: number };
say(`\nfiles in ${path.relative(root, artifacts)}/: ${['training_model.onnx', 'eval_model.onnx', 'optimizer_model.onnx', 'checkpoint', 'step_model.onnx', 'step_eval_model.onnx', 'model.adapted.onnx', 'summary.json', 'trained/checkpoint'].filter((f) => existsSync(path.join(artifacts, f))).join(', ')}`);
say(`trained model: ${path.relative(root, exported)}`);
say(`adapters: ${summary.adapterParameters.toLocaleString('en-US')} parameters`);
