/** `adapterc inspect`: what adapterc sees in a model — layers, sites, inputs, outputs. */
import { discover, type AdapterSite, type Discovery, type LayerNorm } from '../../discover/index.js';
import { formatValueType, type Model } from '../../ir/index.js';
import { readModel } from '../../load/index.js';
import { AdapterError, diagnostic } from '../../diagnostics/index.js';
import { checkCudaCoverage, CUDA_KERNELS_RELEASE, type Coverage } from '../../target/cuda.js';
import { coverageText } from '../../target/report.js';
import { existsSync, readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { expectPositionals, inputPath, parseCommandArgs } from '../args.js';
import { ExitCode, type CliIo, type Command } from '../io.js';

const help = `Usage: adapterc inspect <model.onnx> [--json] [--target cuda]
       adapterc inspect <artifacts folder> [--json]

Reads an exported BERT-style ONNX model and prints what adapterc finds in it: producer and
opsets, the number of layers, hidden size, attention heads and FFN size where the graph states
them, a table of the two adapter sites of every layer (the tensor, and the LayerNorm it feeds),
the model's inputs and outputs, its parameter count, and anything it could not classify.

A graph that is not a post-LayerNorm transformer encoder gets a message saying what adapterc
looked for and what it found instead.

Given a folder (training artifacts from 'adapterc compile' or from Python's generate_artifacts),
it reports CUDA kernel coverage of every .onnx file in it: which nodes would fall back to the CPU
in ONNX Runtime's CUDA execution provider, and why.

Options:
  --json         print the findings as JSON
  --target cuda  also report the model's CUDA kernel coverage
  -h, --help     show this help

Exit codes: 0 ok, 1 the file is missing, unreadable, not ONNX or not a BERT-style encoder, 2 internal error.`;

export const inspectCommand: Command = {
  name: 'inspect',
  summary: 'show the layers, adapter sites, inputs and outputs adapterc finds in a model',
  help,
  async run(argv: readonly string[], io: CliIo): Promise<ExitCode> {
    const { values, positionals } = parseCommandArgs('inspect', argv, { json: { type: 'boolean' }, target: { type: 'string' } });
    const [given] = expectPositionals('inspect', positionals, ['model.onnx']);
    const target = values['target'];
    if (target !== undefined && target !== 'cuda') {
      throw new AdapterError([diagnostic('ADP4001', { text: `Unknown target '${String(target)}'.` }, undefined, 'the only target with a kernel table is cuda')]);
    }
    const file = inputPath(io.cwd, given!);
    if (existsSync(file) && statSync(file).isDirectory()) {
      const coverages = await folderCoverage(file);
      io.stdout(values['json'] ? JSON.stringify({ release: CUDA_KERNELS_RELEASE, coverage: coverages }, null, 2) : coverageText(coverages));
      return ExitCode.ok;
    }
    const model = await readModel(file);
    const found = discover(model, given!);
    const coverage = target === 'cuda' ? checkCudaCoverage(model, path.basename(file)) : undefined;
    if (values['json']) io.stdout(JSON.stringify({ ...inspectJson(model, found), ...(coverage ? { cuda: { release: CUDA_KERNELS_RELEASE, ...coverage } } : {}) }, null, 2));
    else io.stdout(inspectText(given!, model, found) + (coverage ? `\n\n${coverageText([coverage])}` : ''));
    return ExitCode.ok;
  },
};

/** Coverage of every .onnx file in a folder (training artifacts), in name order. */
async function folderCoverage(folder: string): Promise<Coverage[]> {
  const files = readdirSync(folder).filter((f) => f.endsWith('.onnx')).sort();
  if (files.length === 0) {
    throw new AdapterError([diagnostic('ADP4001', { text: `The folder '${folder}' holds no .onnx files.` }, { file: folder }, 'pass an artifacts folder or a model file')]);
  }
  const coverages: Coverage[] = [];
  for (const f of files) coverages.push(checkCudaCoverage(await readModel(path.join(folder, f)), f));
  return coverages;
}

function describeLayerNorm(ln: LayerNorm): string {
  return `${ln.form} → '${ln.output}'`;
}

function siteJson(s: AdapterSite | undefined) {
  if (!s) return null;
  return {
    tensor: s.value,
    foldedBias: s.foldedBias ?? null,
    residualNode: s.residualNode.name ?? null,
    residualOp: s.residualNode.opType,
    residual: s.residual,
    layerNorm: { form: s.layerNorm.form, output: s.layerNorm.output, scale: s.layerNorm.scale ?? null, bias: s.layerNorm.bias ?? null },
    projectionWeight: s.projectionWeight ?? null,
  };
}

function producer(model: Model): string {
  return [model.producerName, model.producerVersion].filter((p) => p).join(' ') || 'unknown';
}

function opsets(model: Model): string {
  return model.opsetImports.map((o) => `${o.domain || 'ai.onnx'} ${o.version}`).join(', ');
}

export function inspectJson(model: Model, d: Discovery) {
  const valueType = (name: string) => {
    const v = [...model.graph.inputs, ...model.graph.outputs].find((i) => i.name === name);
    return v ? formatValueType(v) : null;
  };
  return {
    producer: producer(model),
    irVersion: model.irVersion ?? null,
    opsets: Object.fromEntries(model.opsetImports.map((o) => [o.domain || 'ai.onnx', o.version ?? null])),
    layers: d.layers.length,
    hidden: d.hidden,
    heads: d.heads ?? null,
    ffn: d.ffn ?? null,
    parameters: d.parameterCount,
    sites: d.layers.map((l) => ({ layer: l.index, attention: siteJson(l.attention), ffn: siteJson(l.ffn) })),
    embeddingLayerNorm: d.embeddingLayerNorm ? { form: d.embeddingLayerNorm.form, output: d.embeddingLayerNorm.output } : null,
    lastHiddenState: d.lastHiddenState,
    pooledOutput: d.pooledOutput ?? null,
    inputs: d.inputs.map((i) => ({ ...i, type: valueType(i.name) })),
    outputs: d.outputs.map((o) => ({ ...o, type: valueType(o.name) })),
    notes: d.notes,
  };
}

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => `  ${r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  ')}`.trimEnd());
}

export function inspectText(file: string, model: Model, d: Discovery): string {
  const types = new Map([...model.graph.inputs, ...model.graph.outputs].map((v) => [v.name, formatValueType(v)]));
  const dims = [`${d.layers.length} layer${d.layers.length === 1 ? '' : 's'}`, `hidden size ${d.hidden}`];
  if (d.heads !== undefined) dims.push(`${d.heads} attention heads`);
  if (d.ffn !== undefined) dims.push(`FFN size ${d.ffn}`);
  const lines = [
    file,
    ...table([
      ['producer', `${producer(model)} (IR version ${model.irVersion ?? '?'}; opsets: ${opsets(model)})`],
      ['encoder', dims.join(', ')],
      ['parameters', d.parameterCount.toLocaleString('en-US')],
      ['inputs', d.inputs.map((i) => `${i.name} (${i.role}, ${types.get(i.name) ?? '?'})`).join('; ') || '(none)'],
      ['outputs', d.outputs.map((o) => `${o.name} (${o.role}, ${types.get(o.name) ?? '?'})`).join('; ')],
      ['embedding LayerNorm', d.embeddingLayerNorm ? describeLayerNorm(d.embeddingLayerNorm) : '(none)'],
      ['pooled output', d.pooledOutput ?? '(none)'],
    ]),
    '',
    'Adapter sites (each before its residual Add + LayerNorm)',
    ...table([
      ['layer', 'site', 'tensor', 'residual added by', 'LayerNorm'],
      ...d.layers.flatMap((l) =>
        [l.attention, l.ffn]
          .filter((s): s is AdapterSite => s !== undefined)
          .map((s) => [
            `${l.index}`,
            s.site,
            s.foldedBias ? `${s.value} + bias '${s.foldedBias}' (folded; made explicit when adapted)` : s.value,
            `${s.residualNode.opType}${s.residualNode.name ? ` '${s.residualNode.name}'` : ''}`,
            describeLayerNorm(s.layerNorm),
          ]),
      ),
    ]),
  ];
  const missing = d.layers.flatMap((l) => [!l.attention ? `layer ${l.index} has no attention site` : '', !l.ffn ? `layer ${l.index} has no FFN site` : '']).filter((m) => m);
  if (missing.length > 0 || d.notes.length > 0) lines.push('', 'Not classified', ...[...missing, ...d.notes].map((n) => `  ${n}`));
  return lines.join('\n');
}
