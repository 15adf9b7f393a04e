/**
 * discover: the stage after load. Finds, in any exported BERT-style encoder, the layers in depth
 * order and their two adapter sites, the hidden size, the LayerNorms, and the model's inputs and
 * outputs. A graph that is not such an encoder is an AdapterError (ADP2101) saying what was found.
 */
import { AdapterError, diagnostic } from '../diagnostics/index.js';
import { DataType, elementCount, type Model } from '../ir/index.js';
import { findFfnSize, findHeads } from './dimensions.js';
import { traceEncoder } from './encoder.js';
import { classifyInputs, classifyOutputs, findPooledOutput } from './interface.js';
import { findLayerNorms } from './layernorm.js';
import { findPreLayerNormBlocks } from './prelayernorm.js';
import { findProjections } from './projections.js';
import type { Discovery } from './types.js';
import { GraphView } from './view.js';

const floatTypes = new Set<number>([DataType.FLOAT, DataType.FLOAT16, DataType.BFLOAT16, DataType.DOUBLE]);

/** `file` only names the model in messages. */
export function discover(model: Model, file: string): Discovery {
  const graph = model.graph;
  const view = new GraphView(graph);
  const layerNorms = findLayerNorms(view);
  const chain = traceEncoder(view, layerNorms);
  const sites = chain.layers.flatMap((l) => [l.attention, l.ffn].filter((s) => s !== undefined));

  if (sites.length === 0) {
    const preLayerNorm = findPreLayerNormBlocks(view, layerNorms);
    if (preLayerNorm.attention > 0 && preLayerNorm.ffn > 0) {
      throw new AdapterError([
        diagnostic('ADP2103', { file, layers: preLayerNorm.attention }, { file }, "export a post-LayerNorm encoder (BERT, RoBERTa, DistilBERT, ALBERT, ELECTRA, MPNet, DeBERTa: see the README's architecture matrix for the spec that fits each)"),
      ]);
    }
    const counts = new Map<string, number>();
    for (const n of graph.nodes) counts.set(n.opType, (counts.get(n.opType) ?? 0) + 1);
    const ops = [...counts].sort((a, b) => b[1] - a[1]).slice(0, 6).map(([op, n]) => `${n} ${op}`).join(', ');
    const found = `it has ${layerNorms.length} LayerNorm${layerNorms.length === 1 ? '' : 's'} and no LayerNorm fed by a residual Add of an attention or feed-forward output (its nodes: ${ops || 'none'})`;
    throw new AdapterError([
      diagnostic('ADP2101', { file, found }, { file }, 'adapterc needs a post-LayerNorm transformer encoder (BERT, RoBERTa, torch.nn.TransformerEncoder) exported to ONNX'),
    ]);
  }

  const widths = new Set(sites.map((s) => s.layerNorm.width).filter((w): w is number => w !== undefined));
  if (widths.size > 1) throw new AdapterError([diagnostic('ADP2102', { file, widths: [...widths].join(', ') }, { file })]);
  const hidden = [...widths][0] ?? projectionWidth(view, sites[0]!.projectionWeight);
  if (hidden === undefined) {
    throw new AdapterError([diagnostic('ADP2101', { file, found: 'the hidden size cannot be read from its LayerNorm scales or projection weights' }, { file })]);
  }

  const lastSite = sites[sites.length - 1]!;
  const lastHiddenState = lastSite.layerNorm.output;
  const pooledOutput = findPooledOutput(view, lastHiddenState);
  const notes = [...chain.notes];
  for (const ln of chain.others) notes.push(`a LayerNorm outside the encoder layers (output '${ln.output}'), e.g. a prediction head's`);

  const seen = new Set<string>();
  let parameterCount = 0;
  for (const t of graph.initializers) {
    if (t.name === undefined || seen.has(t.name) || !floatTypes.has(t.dataType ?? 0)) continue;
    seen.add(t.name);
    parameterCount += elementCount(t);
  }

  const firstLayer = chain.layers[0];
  return {
    hidden,
    layers: chain.layers,
    projections: findProjections(view, chain.layers),
    heads: findHeads(view, hidden, firstLayer),
    ffn: findFfnSize(view, hidden, chain.layers.find((l) => l.ffn)),
    embeddingLayerNorm: chain.root,
    layerNorms,
    lastHiddenState,
    pooledOutput,
    inputs: classifyInputs(view, graph.inputs),
    outputs: classifyOutputs(view, graph.outputs, lastHiddenState, pooledOutput),
    parameterCount,
    notes,
  };
}

function projectionWidth(view: GraphView, weight: string | undefined): number | undefined {
  const dims = weight ? view.constantDims(weight) : undefined;
  return dims?.length === 2 && dims[0] === dims[1] ? dims[0] : undefined;
}
