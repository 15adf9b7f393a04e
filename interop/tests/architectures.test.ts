/**
 * Every BERT-family architecture transformers 4.45.2 builds from a config, small and with random
 * weights (interop/architectures.py: 2 layers, hidden 128), exported by torch's TorchScript and dynamo
 * exporters and by optimum: `inspect` finds 2 layers with both sites each and names the
 * architecture and the spec of specs/ that fits; `check --model` passes that spec and, given
 * BERT-base's, names it (ADP2211, ADP2206); `compile` with that spec and default options
 * succeeds; the spec with identity init leaves the encoder's outputs unchanged (within 1e-5); and 10
 * training steps of `adapterc train` lower the loss. What adapterc cannot adapt is refused with a
 * catalogued diagnostic. The results are written into the README's architecture matrix.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adapterc, model as pretrained, outDir, readJson, root, runPython, sst2, STYLES, work } from './tier.js';

const EXPORTERS = ['torchscript', 'dynamo', 'optimum'] as const;
type Exporter = (typeof EXPORTERS)[number];

interface Case {
  /** interop/architectures.py's name. */
  readonly key: string;
  readonly model: string;
  /** The spec under specs/ that fits, per exporter where they differ (optimum drops the pooler output). */
  readonly spec?: string | Partial<Record<Exporter, string>> & { default: string };
  /** What inspect calls it. */
  readonly recognized?: string | Partial<Record<Exporter, string>> & { default: string };
  /** Exporters that fail on it, with a piece of their error. */
  readonly exportFails?: Partial<Record<Exporter, string>>;
  /** The diagnostic adapterc refuses it with, at which command, and for which exporters' graphs (default all). */
  readonly refused?: { readonly code: string; readonly at: 'inspect' | 'compile'; readonly why: string; readonly only?: readonly Exporter[] };
}

const NO_POOLER = 'ELECTRA, or BERT exported without its pooler output';
const CASES: readonly Case[] = [
  { key: 'bert', model: 'BertModel', spec: { default: 'bert-base/houlsby.adp', optimum: 'bert-base/first-token.adp' }, recognized: { default: 'BERT', optimum: NO_POOLER } },
  { key: 'distilbert', model: 'DistilBertModel', spec: 'distilbert/houlsby.adp', recognized: 'DistilBERT' },
  { key: 'roberta', model: 'RobertaModel', spec: 'roberta-base/houlsby.adp', recognized: 'RoBERTa or XLM-RoBERTa' },
  { key: 'xlm-roberta', model: 'XLMRobertaModel', spec: 'xlm-roberta-base/houlsby.adp', recognized: 'RoBERTa or XLM-RoBERTa' },
  { key: 'albert', model: 'AlbertModel', spec: { default: 'albert-base/houlsby.adp', optimum: 'albert-base/first-token.adp' }, recognized: 'ALBERT' },
  { key: 'electra', model: 'ElectraModel', spec: 'electra-base/houlsby.adp', recognized: NO_POOLER },
  { key: 'mpnet', model: 'MPNetModel', spec: 'mpnet-base/houlsby.adp', recognized: 'MPNet' },
  {
    key: 'deberta-v2', model: 'DebertaV2Model', spec: 'deberta-v3-base/houlsby.adp', recognized: 'DeBERTa-v2/v3',
    exportFails: { dynamo: 'does not agree with type promotion rule' },
    // optimum writes DeBERTa-v2 at opset 12, where Sign on int64 (its log-bucket positions) has no CUDA kernel.
    refused: { code: 'ADP3201', at: 'compile', why: "with target cuda: the export's opset-12 Sign (relative-position buckets) has no CUDA kernel", only: ['optimum'] },
  },
  {
    key: 'megatron-bert', model: 'MegatronBertModel (pre-LayerNorm)',
    exportFails: { optimum: 'megatron-bert model, that is a custom or unsupported architecture' },
    refused: { code: 'ADP2103', at: 'inspect', why: 'pre-LayerNorm: no LayerNorm after the residual sum' },
  },
];

const pick = (v: Case['spec'], exporter: Exporter): string | undefined => (v === undefined || typeof v === 'string' ? v : v[exporter] ?? v.default);

/** [batch, sequence] to run the model at: its static sizes (dynamo fixes some exports to the sample's), else 3 × 12. */
function batchShape(found: Inspected): [number, number] {
  const dims = /\[(.*)\]/.exec(found.inputs.find((i) => i.role === 'input_ids')?.type ?? '')?.[1]?.split(', ').map(Number) ?? [];
  return [Number.isInteger(dims[0]) ? dims[0]! : 3, Number.isInteger(dims[1]) ? dims[1]! : 12];
}

/**
 * Runs both models in onnxruntime-node on the same token ids (ids 5..199 of the vocabulary, the last
 * row padded after 3/4 of its tokens): the largest absolute difference per output they share.
 */
async function maxDifference(base: string, adapted: string, [rows, length]: [number, number]): Promise<{ outputs: Record<string, number>; max: number }> {
  let state = 7;
  const next = () => (state = (state * 1103515245 + 12345) % 2 ** 31);
  const ids = BigInt64Array.from({ length: rows * length }, () => BigInt(5 + (next() % 195)));
  const mask = BigInt64Array.from({ length: rows * length }, (_, i) => (i >= (rows - 1) * length + Math.ceil((length * 3) / 4) ? 0n : 1n));
  const values: Record<string, BigInt64Array> = { input_ids: ids, attention_mask: mask, token_type_ids: new BigInt64Array(rows * length) };
  const results: Array<Record<string, Float32Array>> = [];
  for (const file of [base, adapted]) {
    const session = await ort.InferenceSession.create(file, { logSeverityLevel: 3 });
    const feeds = Object.fromEntries(session.inputNames.map((n) => [n, new ort.Tensor('int64', values[n]!, [rows, length])]));
    const outputs = await session.run(feeds);
    results.push(Object.fromEntries(Object.entries(outputs).map(([n, t]) => [n, t.data as Float32Array])));
    await session.release();
  }
  const outputs: Record<string, number> = {};
  for (const [name, a] of Object.entries(results[0]!)) {
    const b = results[1]![name];
    if (b === undefined) continue;
    outputs[name] = a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);
  }
  return { outputs, max: Math.max(...Object.values(outputs)) };
}

interface ExportRecord { how?: string; error?: string }
interface Architecture { name: string; evidence: string[]; specs: string[] }
interface Inspected { layers: number; hidden: number; sites: Array<{ attention: unknown; ffn: unknown }>; inputs: Array<{ name: string; role: string; type: string | null }>; architecture: Architecture }
interface Row { architecture: string; exporter: Exporter; inspect: string; recognized: string; spec: string; check: string; compile: string; identity: string; training: string }

const folder = path.join(work, 'architectures');
const rows = new Map<string, Row>();
let records: Record<string, ExportRecord>;
let trainFile: string;

function run(args: readonly string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [path.join(root, 'bin/adapterc.js'), ...args], { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function firstCode(stdout: string): string | undefined {
  return (JSON.parse(stdout) as { diagnostics?: Array<{ code: string }> }).diagnostics?.[0]?.code;
}

beforeAll(() => {
  runPython([path.join(root, 'interop/architectures.py'), 'export', folder, sst2.train]);
  records = readJson(path.join(folder, 'exports.json'));
  // 8 sentences, one batch: 10 steps over the same batch must lower its loss.
  trainFile = path.join(folder, 'sst2-train-8.tsv');
  writeFileSync(trainFile, readFileSync(sst2.train, 'utf8').split('\n').slice(0, 9).join('\n') + '\n');
});

describe.each(CASES)('$model', (c) => {
  it.each(EXPORTERS)('%s', async (exporter) => {
    const name = `${c.key}-${exporter}`;
    const refused = c.refused && (c.refused.only ?? EXPORTERS).includes(exporter) ? c.refused : undefined;
    const row: Row = { architecture: c.model, exporter, inspect: '', recognized: '', spec: '', check: '', compile: '', identity: '', training: '' };
    rows.set(name, row);
    const record = records[name]!;
    const failure = c.exportFails?.[exporter];
    if (failure !== undefined) {
      expect(record.error, 'the exporter still fails as recorded').toContain(failure);
      row.inspect = `export fails: ${record.error!.replace(/\|/g, '\\|').slice(0, 140)}`;
      return;
    }
    expect(record.error, 'the export succeeds').toBeUndefined();
    const model = path.join(folder, `${name}.onnx`);

    const inspected = run(['inspect', model, '--json']);
    if (refused?.at === 'inspect') {
      expect(inspected.code).toBe(1);
      expect(firstCode(inspected.stdout)).toBe(refused.code);
      row.inspect = `refused: ${refused.code} (${refused.why})`;
      return;
    }
    expect(inspected.code, inspected.stderr).toBe(0);
    const found = JSON.parse(inspected.stdout) as Inspected;
    expect(found.layers).toBe(2);
    expect(found.hidden).toBe(128);
    expect(found.sites.every((s) => s.attention !== null && s.ffn !== null)).toBe(true);
    row.inspect = `${found.layers} layers, ${found.sites.length * 2} sites, hidden ${found.hidden}`;
    expect(found.architecture.name).toBe(pick(c.recognized, exporter));
    row.recognized = found.architecture.name;
    const spec = pick(c.spec, exporter)!;
    expect(found.architecture.specs, 'inspect names the spec that fits').toContain(spec);
    row.spec = `specs/${spec}`;

    // check --model: the matching spec fits; BERT-base's (another architecture's, or a pooled head
    // where the export has no pooler) is told which spec fits.
    const matching = run(['check', path.join(root, 'specs', spec), '--model', model, '--json']);
    expect(matching.code, matching.stderr).toBe(0);
    expect((JSON.parse(matching.stdout) as { diagnostics: Array<{ code: string }> }).diagnostics.map((d) => d.code)).toEqual([]);
    if (!spec.startsWith('bert-base/')) {
      const other = run(['check', path.join(root, 'specs/bert-base/houlsby.adp'), '--model', model, '--json']);
      const said = (JSON.parse(other.stdout) as { diagnostics: Array<{ code: string; hint: string }> }).diagnostics.filter((d) => d.code === 'ADP2206' || d.code === 'ADP2211');
      expect(said.length, other.stderr).toBeGreaterThan(0);
      for (const d of said) expect(d.hint).toContain(`specs/${spec}`);
      row.check = `${said.map((d) => d.code).join(', ')}: use specs/${spec}`;
    } else row.check = 'fits';

    const out = outDir(`arch-${name}`);
    let specFile = path.join(root, 'specs', spec);
    let compiled = run(['compile', specFile, model, '-o', out, '--json']);
    let said = '';
    if (refused?.at === 'compile') {
      expect(compiled.code).toBe(1);
      expect(firstCode(compiled.stdout)).toBe(refused.code);
      row.compile = `refused: ${refused.code} (${refused.why})`;
      // A node without a CUDA kernel is refused for target cuda only: the rest goes on with target cpu.
      if (refused.code !== 'ADP3201') return;
      specFile = `${out}-cpu.adp`;
      writeFileSync(specFile, `import "${path.join(root, 'specs', spec)}"\n\ntarget cpu\n`);
      compiled = run(['compile', specFile, model, '-o', out, '--json']);
      said = `${row.compile}; with \`target cpu\`: `;
    }
    expect(compiled.code, compiled.stderr).toBe(0);
    const summary = (JSON.parse(compiled.stdout) as { summary: { layers: number; trainableParameters: number } }).summary;
    expect(summary.layers).toBe(2);
    row.compile = `${said}ok, ${summary.trainableParameters.toLocaleString('en-US')} parameters train`;

    // The same spec with identity init, keeping the model's own outputs as the head.
    const identitySpec = path.join(out + '-identity.adp');
    writeFileSync(identitySpec, `import "${specFile}"\n\noverride adapter bottleneck {\n  init identity(std 1e-2)\n}\n\ntrain {\n  head output\n}\n`);
    adapterc(['compile', identitySpec, model, '-o', `${out}-identity`, '--inference']);
    const identity = await maxDifference(model, path.join(`${out}-identity`, 'model.adapted.onnx'), batchShape(found));
    expect(Object.keys(identity.outputs)).toContain('last_hidden_state');
    expect(identity.max).toBeLessThanOrEqual(1e-5);
    row.identity = identity.max === 0 ? '0 (exact)' : `≤ ${identity.max.toExponential(0)}`;

    adapterc(['train', out, '--train', trainFile, '--vocab', path.join(folder, 'vocab.txt'), '--max-steps', '10', '--batch-size', '8', '--max-length', '32', '--epochs', '10', '-o', path.join(out, 'trained')]);
    const losses = readJson<{ steps: Array<{ loss: number }> }>(path.join(out, 'trained/train-log.json')).steps.map((s) => s.loss);
    expect(losses).toHaveLength(10);
    expect(losses[9]!).toBeLessThan(losses[0]!);
    row.training = `${losses[0]!.toFixed(3)} → ${losses[9]!.toFixed(3)}`;
  });
});

describe('the pretrained MiniLM of the other interop tests (interop/export.py), in every export style', () => {
  it.each(STYLES)('%s: recognized as MiniLM, and specs/minilm/houlsby.adp fits it', (style) => {
    const found = JSON.parse(adapterc(['inspect', pretrained(style), '--json'])) as Inspected;
    expect(found.architecture.name).toMatch(/^BERT \(MiniLM\)/);
    expect(found.architecture.specs).toEqual(['minilm/houlsby.adp']);
    const checked = run(['check', path.join(root, 'specs/minilm/houlsby.adp'), '--model', pretrained(style), '--json']);
    expect(checked.code, checked.stderr).toBe(0);
    expect((JSON.parse(checked.stdout) as { diagnostics: unknown[] }).diagnostics).toEqual([]);
  });
});

describe('the identity check', () => {
  it('can fail: the default init (normal, std 1e-2) changes the outputs by more than 1e-5', async () => {
    const model = path.join(folder, 'bert-torchscript.onnx');
    const out = outDir('arch-bert-torchscript-normal');
    const spec = path.join(`${out}.adp`);
    writeFileSync(spec, `import "${path.join(root, 'specs/bert-base/houlsby.adp')}"\n\ntrain {\n  head output\n}\n`);
    adapterc(['compile', spec, model, '-o', out, '--inference']);
    const compared = await maxDifference(model, path.join(out, 'model.adapted.onnx'), [3, 12]);
    expect(compared.max).toBeGreaterThan(1e-5);
  });
});

const BEGIN = '<!-- architecture matrix: written by interop/tests/architectures.test.ts -->';
const END = '<!-- end of the architecture matrix -->';

afterAll(() => {
  // Only a complete run rewrites the README's matrix.
  if (rows.size !== CASES.length * EXPORTERS.length) return;
  const versions = (records['versions'] ?? {}) as { transformers?: string; torch?: string };
  const lines = [
    BEGIN,
    '',
    `Measured by \`bash interop/run.sh interop/tests/architectures.test.ts\` (transformers ${versions.transformers ?? '?'}, torch ${versions.torch ?? '?'}; models of 2 layers, hidden 128, random weights, from \`interop/architectures.py\`). Identity: the largest difference of the encoder's outputs with identity-initialized adapters; training: the loss of steps 1 and 10 of \`adapterc train\` on one batch of 8 SST-2 sentences.`,
    '',
    '| architecture | exporter | inspect | recognized as | spec | `check specs/bert-base/houlsby.adp --model` | compile (default options) | identity | training loss |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...CASES.flatMap((c) => EXPORTERS.map((e) => rows.get(`${c.key}-${e}`)!)).map((r) => `| ${r.architecture} | ${r.exporter} | ${r.inspect} | ${r.recognized} | ${r.spec} | ${r.check} | ${r.compile} | ${r.identity} | ${r.training} |`),
    '',
    END,
  ];
  const readme = path.join(root, 'README.md');
  const text = readFileSync(readme, 'utf8');
  const start = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  if (start < 0 || end < start) throw new Error(`README.md has no architecture matrix markers (${BEGIN} … ${END})`);
  writeFileSync(readme, text.slice(0, start) + lines.join('\n') + text.slice(end + END.length));
});
