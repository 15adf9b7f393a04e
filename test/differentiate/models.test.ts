/**
 * Whole models: corpus BERT exports and a synthetic one, adapted with specs/houlsby.adp (adapters,
 * LayerNorms and a classifier train), fused ops unfused, the cross-entropy loss appended and the
 * model differentiated. Every trainable parameter's gradient is checked at its first, middle and
 * last element and three seeded random ones against central finite differences.
 *
 * Method (as in gradcheck.ts, which explains the tolerance): the trainable initializers become graph
 * inputs; one onnxruntime session runs the backward graph once, another the forward graph for every
 * finite difference. The fourth-order central difference with step h = 3e-2·max(1, |x|) is taken of
 * the loss recomputed in double precision from the model's float32 logits, -mean_b log_softmax(
 * logits)[b, label_b] (what appendLoss builds). The float32 loss output itself moves in steps of
 * 6e-8 (one ulp of ~0.7): differences of it gave relative errors up to 6e-3 on minibert (plain
 * central difference, h = 1e-2), too close to the tolerance for gradients near the 1e-3 floor;
 * from the logits in double the worst is below 1e-3. The graph's own loss is checked against the
 * double one. The check runs at batch 3, sequence 6 (the shape table's dims are for 2 / 2),
 * with padding in the attention mask.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkSpecFile } from '../../src/check/check.js';
import type { Plan } from '../../src/check/plan.js';
import { differentiate } from '../../src/differentiate/backward.js';
import { appendLoss } from '../../src/differentiate/loss.js';
import { unfuse } from '../../src/differentiate/unfuse.js';
import { discover } from '../../src/discover/index.js';
import { shapeTable } from '../../src/shapes/index.js';
import { DataType, elemTypeOf, makeValueInfo, readFloat32, shapeOf, type Model } from '../../src/ir/index.js';
import { decodeModel, encodeModel } from '../../src/load/index.js';
import { adaptModel, bindToModel } from '../../src/rewrite/rewrite.js';
import { encodeSyntheticBert, type SyntheticBertOptions } from '../../src/synth/index.js';
import { streamFor, uniformInt } from '../../src/util/prng.js';
import { corpusPath, describeCorpus } from '../load/corpus.js';
import { relativeError, sessionOptions, stepFor, TOLERANCE } from './gradcheck.js';

const SPEC = new URL('../../specs/houlsby.adp', import.meta.url).pathname;
const BATCH = 3;
const SEQ = 6;
const SEED = 7;

interface Subject {
  readonly name: string;
  readonly file: string;
  readonly bytes: () => Uint8Array;
}

interface ElementCheck {
  readonly parameter: string;
  readonly element: number;
  readonly fd: number;
  readonly analytic: number;
  readonly error: number;
}

interface WholeResult {
  readonly parameters: number;
  readonly checks: readonly ElementCheck[];
  readonly worst: ElementCheck;
  readonly graphLoss: number;
  readonly doubleLoss: number;
  readonly backwardNodes: number;
  readonly unfused: number;
  readonly setupMs: number;
  readonly checkMs: number;
}

/** The elements checked of a parameter of `count` elements: first, middle, last, three seeded random ones. */
function elementsOf(name: string, count: number): number[] {
  const rng = streamFor(SEED, name);
  const random = [0, 1, 2].map(() => uniformInt(rng, count));
  return [...new Set([0, Math.floor(count / 2), count - 1, ...random])].sort((a, b) => a - b);
}

/** The spec's plan, with the classifier reading the first token where the model has no pooler. */
function planFor(plan: Plan, pooled: boolean): Plan {
  if (plan.head.kind === 'classifier' && plan.head.from === 'pooled' && !pooled) return { ...plan, head: { ...plan.head, from: 'first_token' } };
  return plan;
}

/** Mean cross-entropy of [batch, n] logits against labels, in double precision. */
function crossEntropy(logits: Float32Array, n: number, labels: readonly number[]): number {
  let total = 0;
  labels.forEach((label, b) => {
    let max = -Infinity;
    for (let j = 0; j < n; j++) max = Math.max(max, logits[b * n + j]!);
    let sum = 0;
    for (let j = 0; j < n; j++) sum += Math.exp(logits[b * n + j]! - max);
    total -= logits[b * n + label]! - max - Math.log(sum);
  });
  return total / labels.length;
}

async function checkWholeModel(subject: Subject, spec = SPEC): Promise<WholeResult> {
  const started = performance.now();
  const checked = checkSpecFile(spec);
  if (!checked.plan) throw new Error(`${spec} does not check`);
  const model: Model = decodeModel(subject.bytes(), subject.file);
  const discovery = discover(model, subject.file);
  const plan = planFor(checked.plan, discovery.pooledOutput !== undefined);
  if (plan.loss !== 'cross_entropy') throw new Error('the double-precision reference loss is cross-entropy only');
  const adaptation = adaptModel(model, discovery, bindToModel(plan, discovery, checked.sources, subject.file));
  const head = adaptation.classifier?.output ?? model.graph.outputs[0]!.name;

  let shapes = shapeTable(model, subject.file);
  const unfused = unfuse(model, shapes);
  const headShape = shapes.get(head)!;
  const { loss, labels } = appendLoss(model, plan.loss, head, headShape.dims, subject.file);
  shapes = shapeTable(model, subject.file);

  // Trainable initializers become graph inputs.
  const parameters = [...adaptation.trainable];
  const values = new Map<string, Float32Array>();
  const dims = new Map<string, number[]>();
  for (const name of parameters) {
    const index = model.graph.initializers.findIndex((t) => t.name === name);
    const tensor = model.graph.initializers[index]!;
    values.set(name, Float32Array.from(readFloat32(tensor)));
    dims.set(name, [...tensor.dims]);
    model.graph.initializers.splice(index, 1);
    model.graph.inputs.push(makeValueInfo(name, DataType.FLOAT, tensor.dims));
  }
  model.graph.outputs = [makeValueInfo(loss, DataType.FLOAT, []), makeValueInfo(head, DataType.FLOAT)];
  const forwardBytes = encodeModel(model);
  const gradients = differentiate(model, loss, parameters, shapes);
  const gradNames = parameters.map((p) => gradients.byParameter.get(p)!);
  model.graph.outputs = [...new Set([loss, ...gradNames])].map((o) => makeValueInfo(o, DataType.FLOAT));

  // Inputs: token ids, a padded attention mask (row b has SEQ - b tokens), segments 0 then 1, labels.
  const labelCount = headShape.dynamic[0] ? BATCH : headShape.dims[0]!;
  const labelValues = Array.from({ length: labelCount }, (_, b) => b % 2);
  const feeds: Record<string, ort.Tensor> = {};
  for (const input of model.graph.inputs) {
    if (values.has(input.name)) continue;
    if (input.name === labels) {
      feeds[input.name] = new ort.Tensor('int64', BigInt64Array.from(labelValues.map(BigInt)), [labelCount]);
      continue;
    }
    const shape = (shapeOf(input) ?? []).map((d, i) => (typeof d === 'number' && d > 0 ? d : i === 0 ? BATCH : SEQ));
    const count = shape.reduce((a, b) => a * b, 1);
    const width = shape[shape.length - 1] ?? 1;
    const role = discovery.inputs.find((i) => i.name === input.name)?.role ?? 'other';
    const value = (i: number): number => {
      const [b, t] = [Math.floor(i / width), i % width];
      const length = Math.max(1, width - b);
      if (role === 'attention_mask') return t < length ? 1 : 0;
      if (role === 'token_type_ids') return t < length && t >= length / 2 ? 1 : 0;
      if (role === 'position_ids') return t;
      return 1 + ((i * 7) % 13);
    };
    const data = Array.from({ length: count }, (_, i) => value(i));
    feeds[input.name] =
      elemTypeOf(input) === DataType.INT32
        ? new ort.Tensor('int32', Int32Array.from(data), shape)
        : elemTypeOf(input) === DataType.FLOAT
          ? new ort.Tensor('float32', Float32Array.from(data, (v) => Math.sin(v)), shape)
          : new ort.Tensor('int64', BigInt64Array.from(data.map(BigInt)), shape);
  }
  for (const name of parameters) feeds[name] = new ort.Tensor('float32', values.get(name)!, dims.get(name)!);

  const forward = await ort.InferenceSession.create(forwardBytes, sessionOptions);
  const backward = await ort.InferenceSession.create(encodeModel(model), sessionOptions);
  const setupMs = performance.now() - started;
  try {
    const analytic = await backward.run(feeds);
    const lossOf = async (run: Record<string, ort.Tensor>): Promise<number> => {
      const out = (await forward.run(run, [head]))[head]!;
      return crossEntropy(out.data as Float32Array, out.dims[out.dims.length - 1]!, labelValues);
    };
    const doubleLoss = await lossOf(feeds);
    const graphLoss = (analytic[loss]!.data as Float32Array)[0]!;

    const checks: ElementCheck[] = [];
    for (const [k, name] of parameters.entries()) {
      const base = values.get(name)!;
      const grad = analytic[gradNames[k]!]!.data as Float32Array;
      expect(grad.length, `gradient of ${name}`).toBe(base.length);
      const perturbed = Float32Array.from(base);
      const run = { ...feeds, [name]: new ort.Tensor('float32', perturbed, dims.get(name)!) };
      const at = async (element: number, value: number) => {
        perturbed[element] = value;
        const result = await lossOf(run);
        perturbed[element] = base[element]!;
        return result;
      };
      for (const element of elementsOf(name, base.length)) {
        const x = base[element]!;
        const h = stepFor(x);
        const near = (await at(element, x + h)) - (await at(element, x - h));
        const far = (await at(element, x + 2 * h)) - (await at(element, x - 2 * h));
        const fd = (8 * near - far) / (12 * h);
        checks.push({ parameter: name, element, fd, analytic: grad[element]!, error: relativeError(fd, grad[element]!) });
      }
    }
    const worst = checks.reduce((a, b) => (b.error > a.error ? b : a));
    return { parameters: parameters.length, checks, worst, graphLoss, doubleLoss, backwardNodes: gradients.nodes.length, unfused, setupMs, checkMs: performance.now() - started - setupMs };
  } finally {
    await forward.release();
    await backward.release();
  }
}

const summaries: string[] = [];
afterAll(() => console.log(`Whole-model gradient checks (relative error, tolerance ${TOLERANCE}):\n${summaries.join('\n')}`));

function describeWholeModel(subject: Subject, spec = SPEC): void {
  describe(subject.name, () => {
    let result: WholeResult;
    beforeAll(async () => {
      result = await checkWholeModel(subject, spec);
      const w = result.worst;
      summaries.push(
        `${subject.name}: ${result.parameters} parameters, ${result.checks.length} elements, worst ${w.error.toExponential(2)} (${w.parameter}[${w.element}]: fd ${w.fd.toPrecision(5)}, analytic ${w.analytic.toPrecision(5)}); ` +
          `${result.unfused} ops unfused, ${result.backwardNodes} backward nodes; setup ${(result.setupMs / 1000).toFixed(1)} s, checks ${(result.checkMs / 1000).toFixed(1)} s`,
      );
    });

    it('computes the cross-entropy loss that the reference computes', () => {
      expect(Math.abs(result.graphLoss - result.doubleLoss)).toBeLessThan(1e-5 * Math.max(1, Math.abs(result.doubleLoss)));
    });

    it('has the gradient of every trainable parameter match central finite differences', () => {
      expect(result.parameters).toBeGreaterThan(0);
      expect(new Set(result.checks.map((c) => c.parameter)).size).toBe(result.parameters);
      const bad = result.checks.filter((c) => !(c.error <= TOLERANCE));
      expect(bad.map((c) => `${c.parameter}[${c.element}]: fd ${c.fd.toPrecision(6)}, analytic ${c.analytic.toPrecision(6)} (relative error ${c.error.toPrecision(3)})`)).toEqual([]);
    });
  });
}

const corpusModel = (path: string): Subject => ({ name: path, file: corpusPath(path), bytes: () => new Uint8Array(readFileSync(corpusPath(path))) });
const syntheticModel = (name: string, options: SyntheticBertOptions): Subject => ({ name, file: `${name}.onnx`, bytes: () => encodeSyntheticBert(options) });

describeCorpus('gradients of corpus models adapted with specs/houlsby.adp match finite differences', () => {
  describeWholeModel(corpusModel('pytorch-1.13/minibert_opset11.onnx'));
  describeWholeModel(corpusModel('ort-optimized/minibert_static_opset11_skiplayernorm.onnx'));
  describeWholeModel(corpusModel('ort-testdata/bert_toy_pytorch1.1_opset10_unsorted.onnx'));
  describeWholeModel(corpusModel('ort-testdata/tf2.1_keras2onnx_bert_mrpc_opset10.onnx'));
});

describe('gradients of synthetic models adapted with specs/houlsby.adp match finite differences', () => {
  describeWholeModel(syntheticModel('synthetic gemm-style BERT (opset 14)', { style: 'gemm', seed: 3 }));
  describeWholeModel(syntheticModel('synthetic ort-fused BERT (FastGelu, bias in SkipLayerNormalization)', { style: 'ort-fused', seed: 5, ortFused: { gelu: 'FastGelu', biasInSkipLayerNorm: true } }));
});

describe('gradients of a synthetic model at opset 20', () => {
  // From opset 20 the rewrite stage writes gelu adapters with the ONNX Gelu op, and unfuse does the
  // same for com.microsoft Gelu: the Gelu rule covers both.
  it('synthetic pytorch BERT at opset 20 (gelu adapters as the ONNX Gelu op)', async () => {
    const result = await checkWholeModel(syntheticModel('synthetic pytorch BERT (opset 20)', { style: 'pytorch', opset: 20, seed: 3 }));
    expect(result.checks.filter((c) => !(c.error <= TOLERANCE))).toEqual([]);
  });
});

// houlsby.adp with a masked-LM head: the masked positions (3 flat indices into batch × sequence,
// fed like the other inputs) pick rows of the last hidden state; the loss is over those rows.
const MLM_SPEC = path.join(mkdtempSync(path.join(tmpdir(), 'adapterc-mlm-grad-')), 'houlsby-mlm.adp');
writeFileSync(MLM_SPEC, `import "${SPEC}"\n\ntrain {\n  head masked_lm\n}\n`);

describe('gradients of a synthetic model with a masked_lm head match finite differences', () => {
  // Opset 14: the Gather of rows from [batch·sequence, hidden] is differentiated by the run-time one-hot.
  describeWholeModel(syntheticModel('synthetic pytorch BERT (opset 14), head masked_lm', { style: 'pytorch', seed: 11 }), MLM_SPEC);
});

describeCorpus('gradients of a corpus model with a masked_lm head match finite differences', () => {
  describeWholeModel({ ...corpusModel('pytorch-1.13/minibert_opset11.onnx'), name: 'pytorch-1.13/minibert_opset11.onnx, head masked_lm' }, MLM_SPEC);
});

// Issue 19: LoRA and (IA)³ at every site they go, started away from identity (B and the vectors
// drawn, so that every gradient is non-zero), on unfused projections, ORT's fused Attention (packed
// QKV slices updated in weight space) and torch.nn.MultiheadAttention's packed in_proj MatMul.
const FAMILY_DIR = mkdtempSync(path.join(tmpdir(), 'adapterc-family-grad-'));
function familySpec(name: string, lora: string, ia3: string): string {
  const file = path.join(FAMILY_DIR, `${name}.adp`);
  const head = 'train {\n  trainable adapters, head\n  head classifier(labels 2, from first_token)\n}\n';
  writeFileSync(file, `adapter l {\n  lora(rank 4, alpha 8)\n  init normal(std 0.1)\n}\nadapter s {\n  ia3\n  init normal(std 0.1)\n}\nplace l on ${lora} in layers all\nplace s on ${ia3} in layers all\n${head}`);
  return file;
}
const EVERY_SITE = familySpec('every-site', 'query, value, attention_output, ffn_in, ffn_out', 'key, intermediate');
const ATTENTION_ONLY = familySpec('attention-only', 'query, value', 'key');

describeCorpus('gradients of LoRA and (IA)³ at every site match finite differences', () => {
  describeWholeModel(corpusModel('pytorch-1.13/minibert_opset11.onnx'), EVERY_SITE);
  describeWholeModel(corpusModel('ort-testdata/tf2.1_keras2onnx_bert_mrpc_opset10.onnx'), EVERY_SITE);
  describeWholeModel(corpusModel('pytorch-1.13/torch_transformer_encoder_opset17.onnx'), EVERY_SITE);
  describeWholeModel(corpusModel('ort-fused/attention_skiplayernorm_pruned_opset16.onnx'), ATTENTION_ONLY);
});
