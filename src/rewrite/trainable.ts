/**
 * Which of the model's own parameters train besides the adapters, as the spec's `trainable` says:
 * LayerNorms (per layer), the head, the embeddings, or everything. Shared tensors are untied first
 * (see rules/untie.ts), so each trainable parameter belongs to one place in the model.
 */
import type { BoundPlan } from '../check/bind.js';
import type { Discovery, LayerNorm } from '../discover/index.js';
import { DataType, elementCount, indexGraph, type Graph, type Node } from '../ir/index.js';
import { untie, type Untied } from './rules/untie.js';

export interface TrainableExtra {
  readonly kind: 'layernorm' | 'head' | 'embeddings' | 'all';
  readonly parameters: readonly string[];
}

export interface TrainableExtras {
  readonly extras: readonly TrainableExtra[];
  readonly untied: readonly Untied[];
}

/** The node and input index through which a LayerNorm reads a parameter value. */
function readerOf(ln: LayerNorm, value: string): { node: Node; index: number } | undefined {
  for (const node of ln.nodes) {
    const index = node.inputs.indexOf(value);
    if (index >= 0) return { node, index };
  }
  return undefined;
}

function isFloatParameter(graph: Graph, name: string): boolean {
  const t = graph.initializers.find((i) => i.name === name);
  return t !== undefined && t.dataType === DataType.FLOAT && t.dims.length >= 1 && elementCount(t) >= 2;
}

export function markTrainable(graph: Graph, discovery: Discovery, bound: BoundPlan, newHead: boolean): TrainableExtras {
  const { trainable } = bound.plan;
  const extras: TrainableExtra[] = [];
  const untied: Untied[] = [];

  const layerNorms: Array<{ ln: LayerNorm; label: string }> = [];
  if (trainable.all || trainable.layerNorm) {
    const everyLayer = trainable.all || (trainable.layerNorm?.kind === 'all' && trainable.layerNorm.except.length === 0);
    if (everyLayer && discovery.embeddingLayerNorm) layerNorms.push({ ln: discovery.embeddingLayerNorm, label: 'embeddings' });
    const layers = trainable.all ? discovery.layers.map((l) => l.index) : bound.layerNormLayers;
    for (const index of layers) {
      const layer = discovery.layers[index]!;
      for (const site of [layer.attention, layer.ffn]) if (site) layerNorms.push({ ln: site.layerNorm, label: `layer.${index}.${site.site}` });
    }
  }
  const lnParameters: string[] = [];
  // One index for every untie below; untie keeps it current.
  const index = indexGraph(graph);
  for (const { ln, label } of layerNorms) {
    for (const [value, role] of [
      [ln.scale, 'weight'],
      [ln.bias, 'bias'],
    ] as const) {
      if (!value) continue;
      const reader = readerOf(ln, value);
      if (!reader) continue;
      const done = untie(graph, reader.node, reader.index, `layernorm.${label}.${role}`, index);
      if (done) untied.push(done);
      lnParameters.push(reader.node.inputs[reader.index]!);
    }
  }

  if (trainable.all) {
    // Every float parameter; shared ones untied per reader so each trains for one place.
    const names: string[] = [...lnParameters];
    for (const tensor of [...graph.initializers]) {
      const name = tensor.name!;
      if (!isFloatParameter(graph, name) || names.includes(name)) continue;
      const readers = (index.consumers.get(name) ?? []).filter((n) => n.opType !== 'Identity');
      names.push(name);
      readers.slice(1).forEach((reader, k) => {
        const done = untie(graph, reader, reader.inputs.indexOf(name), `${name}.untied.${k + 1}`, index);
        if (done) {
          untied.push(done);
          names.push(done.copy);
        }
      });
    }
    extras.push({ kind: 'all', parameters: [...new Set(names)] });
    return { extras, untied };
  }

  if (lnParameters.length > 0) extras.push({ kind: 'layernorm', parameters: [...new Set(lnParameters)] });
  if (trainable.head && !newHead) extras.push({ kind: 'head', parameters: headParameters(graph, discovery) });
  if (trainable.embeddings) extras.push({ kind: 'embeddings', parameters: embeddingTables(graph, discovery) });
  return { extras, untied };
}

/** The model's own head: float parameters between the last hidden state and the outputs. */
function headParameters(graph: Graph, discovery: Discovery): string[] {
  const index = indexGraph(graph);
  const found = new Set<string>();
  const seen = new Set<Node>();
  const queue = graph.outputs.map((o) => o.name);
  while (queue.length > 0) {
    const value = queue.pop()!;
    if (value === discovery.lastHiddenState) continue;
    const p = index.producer.get(value);
    if (!p || seen.has(p)) continue;
    seen.add(p);
    for (const input of p.inputs) {
      if (isFloatParameter(graph, input)) found.add(input);
      else if (input) queue.push(input);
    }
  }
  return [...found].sort();
}

/** Embedding tables: float matrices of the hidden width that a Gather looks rows up in. */
function embeddingTables(graph: Graph, discovery: Discovery): string[] {
  const tables = new Set<string>();
  for (const node of graph.nodes) {
    if (node.opType !== 'Gather') continue;
    const data = node.inputs[0]!;
    const t = graph.initializers.find((i) => i.name === data);
    if (t && t.dataType === DataType.FLOAT && t.dims.length === 2 && t.dims[1] === discovery.hidden) tables.add(data);
  }
  return [...tables].sort();
}
