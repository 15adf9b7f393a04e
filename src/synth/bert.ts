/**
 * BERT, once: embeddings, then per layer self-attention -> output projection + residual + LayerNorm
 * -> FFN (dense, GELU) -> output projection + residual + LayerNorm, then the pooler and classifier.
 * The style decides how each piece looks; this file decides what the pieces are and records the
 * manifest.
 */
import type { BuiltGraph, ValueInfo } from './builder.js';
import type { SiteDescription, SyntheticBertManifest, TensorDescription } from './manifest.js';
import { SyntheticOptionsError, type ResolvedOptions } from './options.js';
import { createStyle } from './styles/index.js';
import { DataType } from './tensors.js';

export interface SyntheticGraph {
  readonly options: ResolvedOptions;
  readonly graph: BuiltGraph;
  readonly producer: { readonly name: string; readonly version: string };
  readonly irVersion: number;
  readonly manifest: SyntheticBertManifest;
}

/** Protobuf messages (and so single-file ONNX models) must stay below 2 GiB. */
const PROTOBUF_LIMIT = 2 ** 31;

/** Symbolic axis names for dynamic shapes (Hugging Face Optimum's). */
export const DYNAMIC_AXES = { batch: 'batch_size', seq: 'sequence_length' } as const;

/** `externalData`: the weights will go to a side file, so the single-file 2 GiB limit does not apply. */
export function buildBertGraph(o: ResolvedOptions, externalData = false): SyntheticGraph {
  const { builder: b, style, producer } = createStyle(o);
  const batch = o.batch ?? DYNAMIC_AXES.batch;
  const seq = o.seqLen ?? DYNAMIC_AXES.seq;
  const inputType = o.inputType === 'int32' ? DataType.INT32 : DataType.INT64;

  const inputInfos = style.orderInputs([o.inputNames.inputIds, o.inputNames.attentionMask, o.inputNames.tokenTypeIds].map((name) => ({ name, elemType: inputType, dims: [batch, seq] })));
  for (const info of inputInfos) b.input(info);
  const inputs = o.inputNames;

  // torch traces the extended attention mask before the embeddings; order matters only for realism.
  const mask = style.attentionMask(inputs);
  let hidden = style.embeddings(inputs);
  const sites: SiteDescription[] = [];
  const exposeHidden = o.head === 'none';
  for (let layer = 0; layer < o.layers; layer++) {
    const context = style.selfAttention(layer, hidden, mask);
    const attention = style.outputSublayer(layer, 'attention', context, hidden);
    sites.push({ layer, kind: 'attention', ...attention.site });
    const intermediate = style.intermediate(layer, attention.output);
    const last = layer === o.layers - 1;
    const ffn = style.outputSublayer(layer, 'ffn', intermediate, attention.output, last && exposeHidden ? o.outputNames.lastHiddenState : undefined);
    sites.push({ layer, kind: 'ffn', ...ffn.site });
    hidden = ffn.output;
  }

  const outputs: ValueInfo[] = [];
  if (o.head === 'pooled-classifier') {
    style.classifier(style.pooler(hidden), o.outputNames.logits);
    outputs.push({ name: o.outputNames.logits, elemType: DataType.FLOAT, dims: [batch, o.labels] });
  } else {
    style.pooler(hidden, o.outputNames.poolerOutput);
    outputs.push({ name: o.outputNames.lastHiddenState, elemType: DataType.FLOAT, dims: [batch, seq, o.hidden] });
    outputs.push({ name: o.outputNames.poolerOutput, elemType: DataType.FLOAT, dims: [batch, o.hidden] });
  }
  for (const output of outputs) b.output(output);

  const graph = b.build();
  const irVersion = irVersionFor(o.opset);
  const manifest = describe(o, graph, irVersion, sites);
  if (!externalData && manifest.initializerBytes >= PROTOBUF_LIMIT) {
    throw new SyntheticOptionsError(
      `synthetic BERT: ${manifest.initializerBytes} bytes of weights exceed the 2 GiB protobuf limit of a single-file ONNX model (write it with its weights in a side file: writeSyntheticBertExternal)`,
    );
  }
  return { options: o, graph, producer, irVersion, manifest };
}

/** The IR version torch.onnx writes for an opset (ONNX's versioning table). */
export function irVersionFor(opset: number): number {
  if (opset <= 11) return 6;
  if (opset <= 14) return 7;
  if (opset <= 18) return 8;
  if (opset <= 20) return 9;
  return 10;
}

function describe(o: ResolvedOptions, graph: BuiltGraph, irVersion: number, siteDetails: SiteDescription[]): SyntheticBertManifest {
  const operators: Record<string, number> = {};
  for (const node of graph.nodes) {
    const key = node.domain ? `${node.domain}.${node.opType}` : `${node.opType}`;
    operators[key] = (operators[key] ?? 0) + 1;
  }
  let parameterCount = 0;
  let initializerBytes = 0;
  for (const plan of graph.initializers) {
    initializerBytes += plan.byteLength;
    if (plan.isParameter) parameterCount += plan.dims.reduce((n, d) => n * d, 1);
  }
  return {
    generator: 'adapterc-synth',
    preset: o.preset,
    style: o.style,
    opset: o.opset,
    irVersion,
    seed: o.seed,
    layers: o.layers,
    hidden: o.hidden,
    heads: o.heads,
    ffn: o.ffn,
    vocab: o.vocab,
    maxPositions: o.maxPositions,
    typeVocab: o.typeVocab,
    head: o.head,
    labels: o.head === 'pooled-classifier' ? o.labels : null,
    sites: {
      attention: siteDetails.filter((s) => s.kind === 'attention').length,
      ffn: siteDetails.filter((s) => s.kind === 'ffn').length,
    },
    siteDetails,
    inputNames: graph.inputs.map((i) => i.name),
    inputRoles: o.inputNames,
    outputNames: graph.outputs.map((i) => i.name),
    inputs: graph.inputs.map(tensorDescription),
    outputs: graph.outputs.map(tensorDescription),
    parameterCount,
    initializerBytes,
    initializerCount: graph.initializers.length,
    nodeCount: graph.nodes.length,
    operators: Object.fromEntries(Object.entries(operators).sort(([a], [b]) => (a < b ? -1 : 1))),
  };
}

function tensorDescription(info: ValueInfo): TensorDescription {
  const elemType = info.elemType === DataType.FLOAT ? 'float32' : info.elemType === DataType.INT32 ? 'int32' : 'int64';
  return { name: info.name, elemType, shape: [...info.dims] };
}
