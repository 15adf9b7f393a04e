/**
 * `target cuda`: every node of the emitted training, eval and optimizer models has a CUDA kernel in
 * ONNX Runtime, for every spec on a synthetic model, for houlsby on every exporter style, for every
 * corpus model and for a Hugging Face DistilBERT export that masks attention with Where; a node
 * without one (or with one only for other types) is named. Per-op constraint cases are in
 * constraints.test.ts.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readDeclarations, rowsFromSource, rowsFromTsv, withConstraints } from '../../scripts/cuda-kernels.js';
import { attr, DataType, makeTensor, makeValueInfo, type Model } from '../../src/ir/index.js';
import { readModel, writeModel } from '../../src/load/index.js';
import { writeSyntheticBertSync, type SyntheticBertOptions } from '../../src/synth/index.js';
import { CUDA_KERNELS } from '../../src/target/cuda-kernels.data.js';
import { checkCudaCoverage } from '../../src/target/cuda.js';
import { fallbackDiagnostic } from '../../src/target/report.js';
import { root } from '../artifacts/harness.js';
import { cli } from '../helpers/cli.js';
import { corpusEntries, corpusPath, describeCorpus } from '../load/corpus.js';

const specs = ['houlsby', 'size-8', 'size-256', 'attention-only', 'ffn-only', 'init-1e-3', 'init-identity', 'tanh', 'relu', 'adapter-layernorm', 'per-layer-sizes', 'full-finetune', 'regression-stsb'];

async function coverageOf(folder: string): Promise<{ artifact: string; nodes: number; fallbacks: unknown[] }[]> {
  const r = await cli(['inspect', folder, '--json']);
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout).coverage;
}

async function compileFor(spec: string, model: string): Promise<string> {
  const out = path.join(mkdtempSync(path.join(tmpdir(), 'adapterc-cuda-')), 'out');
  const r = await cli(['compile', spec, model, '-o', out]);
  expect(r.stderr).not.toContain('error');
  expect(r.code).toBe(0);
  return out;
}

function synthetic(options: SyntheticBertOptions): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'adapterc-cuda-model-')), 'model.onnx');
  writeSyntheticBertSync(options, file);
  return file;
}

describe('every spec on a synthetic BERT compiles for CUDA with no fallback', () => {
  let model: string;
  beforeAll(() => {
    model = synthetic({ preset: 'tiny', seed: 2 });
  });
  it.each(specs)('%s', async (spec) => {
    const coverage = await coverageOf(await compileFor(path.join(root, 'specs', `${spec}.adp`), model));
    const artifacts = coverage.filter((c) => c.artifact !== 'model.adapted.onnx');
    expect(artifacts.map((c) => c.artifact)).toEqual(['eval_model.onnx', 'optimizer_model.onnx', 'step_eval_model.onnx', 'step_model.onnx', 'training_model.onnx']);
    for (const c of artifacts) expect(c.fallbacks).toEqual([]);
  });
});

describe('houlsby on every synthetic exporter style, for CUDA', () => {
  it.each([
    ['tf (keras2onnx, int32 ids)', { style: 'tf' }],
    ['gemm', { style: 'gemm' }],
    ['LayerNormalization op, opset 17', { style: 'pytorch-layernorm-op' }],
    ['ort-fused, bias in SkipLayerNormalization', { style: 'ort-fused', ortFused: { biasInSkipLayerNorm: true } }],
    ['pytorch, opset 20 (the Gelu op)', { style: 'pytorch', opset: 20 }],
  ] as Array<[string, SyntheticBertOptions]>)('%s', async (_, options) => {
    const coverage = await coverageOf(await compileFor(path.join(root, 'specs/houlsby.adp'), synthetic({ preset: 'tiny', seed: 4, ...options })));
    for (const c of coverage.filter((x) => x.artifact !== 'model.adapted.onnx')) expect(c.fallbacks).toEqual([]);
  });
});

/** A spec beside the shared base, for models houlsby.adp does not fit (no pooler, no FFN site). */
function specFile(name: string, body: string): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'adapterc-cuda-spec-')), `${name}.adp`);
  writeFileSync(file, `import "${path.join(root, 'specs/base/glue.adp').replaceAll('\\', '/')}"\n${body}\n`);
  return file;
}

const firstToken = 'train {\n  trainable adapters, head\n  head classifier(labels 2, from first_token)\n}';

/**
 * The spec each corpus model compiles with. houlsby.adp where it fits; the others say why not:
 * no pooler (first-token classifier), no FFN site in the fragment, and, for torch's
 * TransformerEncoder, adapters in the top layer only (below it, its attention slices q, k, v with
 * starts computed at run time, which has no gradient rule yet).
 */
const corpusSpecs: Record<string, () => string> = {
  'pytorch-1.13/torch_transformer_encoder_opset17.onnx': () => specFile('top-ffn', `${firstToken}\nplace bottleneck after ffn in layers -1`),
  'ort-fused/attention_skiplayernorm_pruned_opset16.onnx': () => specFile('attention', `${firstToken}\nplace bottleneck after attention in layers all`),
};

/** Models that are not valid ONNX (onnxruntime refuses them too): their shapes cannot be inferred (ADP3002), so only the adapted model is built. */
const inferenceOnly: Record<string, () => string> = {
  'ort-testdata/pytorch1.4_bert_squad_opset10.onnx': () => specFile('first-token', `${firstToken}\nplace bottleneck after attention, ffn in layers all`),
};

describeCorpus('every corpus model, for CUDA (default options)', () => {
  const entries = corpusEntries();
  it('has a spec for every model of the manifest', () => {
    expect(entries.length).toBeGreaterThan(10);
  });
  it.each(entries.filter((e) => inferenceOnly[e.path] === undefined).map((e) => [e.path]))('%s', async (file) => {
    const spec = corpusSpecs[file]?.() ?? path.join(root, 'specs/houlsby.adp');
    // The three training artifacts; model.adapted.onnx keeps the source model's own ops (an ORT-optimized
    // export's FusedGemm has no CUDA kernel: it was optimized for the CPU).
    const coverage = (await coverageOf(await compileFor(spec, corpusPath(file)))).filter((c) => c.artifact !== 'model.adapted.onnx');
    expect(coverage.map((c) => c.artifact)).toEqual(['eval_model.onnx', 'optimizer_model.onnx', 'step_eval_model.onnx', 'step_model.onnx', 'training_model.onnx']);
    for (const c of coverage) expect(c.fallbacks).toEqual([]);
  });
  it.each(Object.keys(inferenceOnly).map((f) => [f]))('%s (compile --inference: onnxruntime cannot run it)', async (file) => {
    const out = path.join(mkdtempSync(path.join(tmpdir(), 'adapterc-cuda-')), 'out');
    const r = await cli(['compile', '--inference', inferenceOnly[file]!(), corpusPath(file), '-o', out]);
    expect(r.code).toBe(0);
    const coverage = await coverageOf(out);
    expect(coverage.map((c) => c.artifact)).toEqual(['model.adapted.onnx']);
    expect(coverage[0]!.fallbacks).toEqual([]);
  });
});

describe('a Hugging Face DistilBERT export (torch, opset 11) that masks attention with Where', () => {
  const model = path.join(root, 'test/fixtures/distilbert-where-opset11.onnx');
  it('compiles with default options (target cuda), its Where nodes on CUDA', async () => {
    const spec = specFile('distilbert', 'train {\n  trainable adapters, layernorm\n  head output\n}\nadapter small { size 8 }\nplace small after attention, ffn in layers all');
    const out = await compileFor(spec, model);
    const coverage = (await coverageOf(out)).filter((c) => c.artifact !== 'model.adapted.onnx');
    expect(coverage.map((c) => c.artifact)).toEqual(['eval_model.onnx', 'optimizer_model.onnx', 'step_eval_model.onnx', 'step_model.onnx', 'training_model.onnx']);
    for (const c of coverage) expect(c.fallbacks).toEqual([]);
    // The forward masks and their gradients are Where nodes whose input 0 is the bool condition.
    const training = await readModel(path.join(out, 'training_model.onnx'));
    expect(training.graph.nodes.filter((n) => n.opType === 'Where').length).toBe(4);
    expect(checkCudaCoverage(training, 'training_model.onnx').fallbacks).toEqual([]);
  });
});

function modelWith(nodes: Model['graph']['nodes'], opset: number, inputType: number): Model {
  return {
    irVersion: 8,
    opsetImports: [{ domain: '', version: opset }],
    metadata: [],
    graph: {
      name: 'g',
      nodes,
      initializers: [makeTensor('two', [], new Int8Array([2]))],
      inputs: [makeValueInfo('x', inputType, ['batch', 4])],
      outputs: [makeValueInfo('y', inputType, ['batch', 4])],
      valueInfo: [],
    },
  };
}

describe('nodes without a CUDA kernel are named', () => {
  it('an op ONNX Runtime has no CUDA kernel for', () => {
    const model = modelWith([{ opType: 'Det', name: 'determinant', inputs: ['x'], outputs: ['y'], attributes: [] }], 17, DataType.FLOAT);
    const [fallback] = checkCudaCoverage(model, 'training_model.onnx').fallbacks;
    expect(fallback).toMatchObject({ node: "'determinant' (Det)", op: 'Det', types: ['float'], reason: 'ONNX Runtime has no CUDA kernel for Det' });
    const d = fallbackDiagnostic(fallback!);
    expect(d.code).toBe('ADP3201');
    expect(d.message).toBe("In training_model.onnx, node 'determinant' (Det) (inputs float) would run on the CPU: ONNX Runtime has no CUDA kernel for Det.");
  });

  it('a kernel only for other types (Add of int8)', () => {
    const model = modelWith([{ opType: 'Add', name: 'add8', inputs: ['x', 'two'], outputs: ['y'], attributes: [] }], 14, DataType.INT8);
    const [fallback] = checkCudaCoverage(model, 'eval_model.onnx').fallbacks;
    expect(fallback!.reason).toBe('its CUDA kernel for opsets 14+ takes T in float, double, MLFloat16, BFloat16, int32_t, int64_t, uint32_t, uint64_t; here T = int8_t');
  });

  it('a kernel only for other opsets (OneHot below 11)', () => {
    const model = modelWith([{ opType: 'OneHot', name: 'hot', inputs: ['x', 'two', 'two'], outputs: ['y'], attributes: [attr.int('axis', -1)] }], 10, DataType.INT64);
    expect(checkCudaCoverage(model, 'training_model.onnx').fallbacks[0]!.reason).toBe('its CUDA kernels cover opsets 11+, not 10');
  });

  it('inspect --target cuda shows them for any folder of models', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'adapterc-cuda-folder-'));
    await writeModel(modelWith([{ opType: 'Det', name: 'determinant', inputs: ['x'], outputs: ['y'], attributes: [] }], 17, DataType.FLOAT), path.join(dir, 'training_model.onnx'));
    const r = await cli(['inspect', dir]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('training_model.onnx: 0 of 1 nodes have a CUDA kernel; 1 would fall back to the CPU:');
    expect(r.stdout).toContain("'determinant' (Det) [ai.onnx opset 17; inputs float]: ONNX Runtime has no CUDA kernel for Det");
  });
});

describe('the kernel table', () => {
  it('is read from ONNX Runtime registration macros', () => {
    const source = [
      'BuildKernelCreateInfo<ONNX_OPERATOR_VERSIONED_TYPED_KERNEL_CLASS_NAME(kCudaExecutionProvider, kOnnxDomain, 7, 12, float, Add)>,',
      'BuildKernelCreateInfo<ONNX_OPERATOR_VERSIONED_TYPED_KERNEL_CLASS_NAME(kCudaExecutionProvider, kOnnxDomain, 7, 12, double, Add)>,',
      'BuildKernelCreateInfo<ONNX_OPERATOR_KERNEL_CLASS_NAME(kCudaExecutionProvider, kOnnxDomain, 13, Shape)>,',
      'BuildKernelCreateInfo<ONNX_OPERATOR_TWO_TYPED_KERNEL_CLASS_NAME(kCudaExecutionProvider, kMSDomain, 1, float, float, InPlaceAccumulatorV2)>,',
    ].join('\n');
    expect(rowsFromSource(source)).toEqual([
      { domain: '', op: 'Add', since: 7, until: 12, types: ['float', 'double'] },
      { domain: '', op: 'Shape', since: 13, until: undefined, types: ['*'] },
      { domain: 'com.microsoft', op: 'InPlaceAccumulatorV2', since: 1, until: undefined, types: ['float_float'] },
    ]);
  });

  const reference = path.resolve(root, '../shared/docs/ort-cuda-kernels.tsv');
  let text: string | undefined;
  try {
    text = readFileSync(reference, 'utf8');
  } catch {
    text = undefined;
  }
  if (text === undefined) console.warn(`Skipping the CUDA table comparison: ${reference} is absent.`);
  it.skipIf(text === undefined)(`matches the verified reference table it was generated from (skipped when ${reference} is absent)`, () => {
    expect(withConstraints(rowsFromTsv(text!), readDeclarations()).rows).toEqual(CUDA_KERNELS);
  });
});
