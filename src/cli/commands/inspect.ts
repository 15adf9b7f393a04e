/** `adapterc inspect`: what adapterc sees in a model — layers, sites, inputs, outputs. */
import { inspect, opsets, producer } from '../../api/inspect.js';
import { projectionSites as PROJECTION_SITES } from '../../check/plan.js';
import { architectureText, fittingSpecsText, recognizeArchitecture } from '../../discover/architecture.js';
import type { AdapterSite, Discovery, LayerNorm } from '../../discover/index.js';
import { formatValueType, type Model } from '../../ir/index.js';
import { CUDA_KERNELS_RELEASE } from '../../target/cuda.js';
import { coverageText } from '../../target/report.js';
import { expectPositionals, parseCommandArgs } from '../args.js';
import { ExitCode, type CliIo, type Command } from '../io.js';
import { okJson } from '../json.js';
import { groupDigits } from '../../util/format.js';

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
    const result = await inspect(given!, { cwd: io.cwd, ...(values['target'] === undefined ? {} : { target: values['target'] as 'cuda' }) });
    if (result.kind === 'artifacts') {
      io.stdout(values['json'] ? okJson({ release: CUDA_KERNELS_RELEASE, coverage: result.coverage }) : coverageText(result.coverage));
      return ExitCode.ok;
    }
    const { cuda } = result;
    if (values['json']) io.stdout(okJson({ ...result.findings, ...(cuda ? { cuda: { release: CUDA_KERNELS_RELEASE, ...cuda } } : {}) }));
    else io.stdout(inspectText(given!, result.model, result.discovery) + (cuda ? `\n\n${coverageText([cuda])}` : ''));
    return ExitCode.ok;
  },
};

function describeLayerNorm(ln: LayerNorm): string {
  return `${ln.form} → '${ln.output}'`;
}

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => `  ${r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  ')}`.trimEnd());
}

function adapted(d: Discovery): AdapterSite[] {
  return d.layers.flatMap((l) => [l.attention, l.ffn]).filter((s): s is AdapterSite => s?.adapter !== undefined);
}

/** A model adapterc compiled or exported: its adapters, said as such (not taken for the model's own layers). */
function adaptedRow(d: Discovery): string[][] {
  const sites = adapted(d);
  if (sites.length === 0) return [];
  const sizes = [...new Set(sites.map((s) => s.adapter!.size))].sort((a, b) => a - b);
  return [['adapted by adapterc', `${sites.length} bottleneck adapter${sites.length === 1 ? '' : 's'} of size ${sizes.join(', ')} (listed below); a new compile adds its adapters after them`]];
}

/**
 * Where LoRA and (IA)³ can go: the projection sites found in every layer (others per layer), and
 * whether the query, key and value share one packed weight.
 */
function projectionRows(d: Discovery): string[][] {
  const sites = [...PROJECTION_SITES, 'intermediate'] as const;
  const found = (i: number) => sites.filter((s) => d.projections[i]?.[s] !== undefined);
  const everywhere = sites.filter((s) => d.layers.every((_, i) => found(i).includes(s)));
  const partly = d.layers.flatMap((_, i) => found(i).filter((s) => !everywhere.includes(s)).map((s) => `${s} in layer ${i}`));
  const packed = d.projections.find((p) => p.query?.packed)?.query;
  const parts = [everywhere.length > 0 ? `${everywhere.join(', ')} in every layer` : 'none in every layer', ...partly];
  if (packed) parts.push(`query, key and value packed in one weight per layer (${packed.node.opType}${packed.node.name ? `, e.g. '${packed.node.name}'` : ''})`);
  return [['LoRA / (IA)³ sites', parts.join('; ')]];
}

/** The architecture the graph computes, and adapterc's specs that fit it. */
function architectureRows(model: Model, d: Discovery): string[][] {
  const a = recognizeArchitecture(model, d);
  return [['architecture', architectureText(a)], ['spec that fits', fittingSpecsText(a)]];
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
      ['parameters', groupDigits(d.parameterCount)],
      ['inputs', d.inputs.map((i) => `${i.name} (${i.role}, ${types.get(i.name) ?? '?'})`).join('; ') || '(none)'],
      ['outputs', d.outputs.map((o) => `${o.name} (${o.role}, ${types.get(o.name) ?? '?'})`).join('; ')],
      ['embedding LayerNorm', d.embeddingLayerNorm ? describeLayerNorm(d.embeddingLayerNorm) : '(none)'],
      ['pooled output', d.pooledOutput ?? '(none)'],
      ...architectureRows(model, d),
      ...projectionRows(d),
      ...adaptedRow(d),
    ]),
    '',
    'Adapter sites (each before its residual Add + LayerNorm)',
    ...table([
      ['layer', 'site', 'tensor', 'residual added by', 'LayerNorm', ...(adapted(d).length > 0 ? ['adapter already there'] : [])],
      ...d.layers.flatMap((l) =>
        [l.attention, l.ffn]
          .filter((s): s is AdapterSite => s !== undefined)
          .map((s) => [
            `${l.index}`,
            s.site,
            s.foldedBias ? `${s.value} + bias '${s.foldedBias}' (folded; made explicit when adapted)` : s.value,
            `${s.residualNode.opType}${s.residualNode.name ? ` '${s.residualNode.name}'` : ''}`,
            describeLayerNorm(s.layerNorm),
            s.adapter ? `size ${s.adapter.size} ('${s.adapter.prefix}')` : '',
          ]),
      ),
    ]),
  ];
  const missing = d.layers.flatMap((l) => [!l.attention ? `layer ${l.index} has no attention site` : '', !l.ffn ? `layer ${l.index} has no FFN site` : '']).filter((m) => m);
  if (missing.length > 0 || d.notes.length > 0) lines.push('', 'Not classified', ...[...missing, ...d.notes].map((n) => `  ${n}`));
  return lines.join('\n');
}
