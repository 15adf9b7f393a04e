/**
 * `inspect`: what adapterc finds in a model (layers, adapter sites, inputs, outputs, parameters), or
 * the CUDA kernel coverage of every graph in an artifacts folder. Returns it as plain data (the
 * shape `adapterc inspect --json` prints); prints nothing.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { AdapterError, diagnostic } from '../diagnostics/index.js';
import { recognizeArchitecture } from '../discover/architecture.js';
import { projectionSites } from '../check/plan.js';
import { discover, type AdapterSite, type Discovery, type LayerProjections } from '../discover/index.js';
import { formatValueType, type Model } from '../ir/index.js';
import { readModel } from '../load/index.js';
import { checkCudaCoverage, type Coverage } from '../target/cuda.js';
import { inputPath } from './paths.js';

export interface InspectOptions {
  /** Also check the model's nodes against ONNX Runtime's CUDA kernels. */
  readonly target?: 'cuda';
  /** What a relative path is resolved against (default: the process's working directory). */
  readonly cwd?: string;
}

export type InspectResult =
  | {
      readonly kind: 'model';
      readonly file: string;
      readonly model: Model;
      readonly discovery: Discovery;
      /** The findings as plain data (`adapterc inspect --json`). */
      readonly findings: ReturnType<typeof inspectJson>;
      readonly cuda?: Coverage;
    }
  | { readonly kind: 'artifacts'; readonly folder: string; readonly coverage: readonly Coverage[] };

/** `file`: a model (.onnx), or a folder of artifacts. */
export async function inspect(file: string, options: InspectOptions = {}): Promise<InspectResult> {
  if (options.target !== undefined && options.target !== 'cuda') {
    throw new AdapterError([diagnostic('ADP4001', { text: `Unknown target '${String(options.target)}'.` }, undefined, 'the only target with a kernel table is cuda')]);
  }
  const where = inputPath(options.cwd, file);
  if (existsSync(where) && statSync(where).isDirectory()) return { kind: 'artifacts', folder: where, coverage: await folderCoverage(where) };
  const model = await readModel(where);
  const discovery = discover(model, file);
  const cuda = options.target === 'cuda' ? checkCudaCoverage(model, path.basename(where)) : undefined;
  return { kind: 'model', file: where, model, discovery, findings: inspectJson(model, discovery), ...(cuda ? { cuda } : {}) };
}

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
    adapter: s.adapter ? { prefix: s.adapter.prefix, size: s.adapter.size, input: s.adapter.input } : null,
  };
}

export function producer(model: Model): string {
  return [model.producerName, model.producerVersion].filter((p) => p).join(' ') || 'unknown';
}

export function opsets(model: Model): string {
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
    // Where LoRA and (IA)³ go: each layer's projections ([in, out]; a packed one's column offset) and FFN activation.
    projections: d.projections.map(projectionsJson),
    embeddingLayerNorm: d.embeddingLayerNorm ? { form: d.embeddingLayerNorm.form, output: d.embeddingLayerNorm.output } : null,
    lastHiddenState: d.lastHiddenState,
    pooledOutput: d.pooledOutput ?? null,
    inputs: d.inputs.map((i) => ({ ...i, type: valueType(i.name) })),
    outputs: d.outputs.map((o) => ({ ...o, type: valueType(o.name) })),
    notes: d.notes,
    // Which BERT-family architecture the graph computes, and which of adapterc's specs/ fit it.
    architecture: recognizeArchitecture(model, d),
  };
}


function projectionsJson(p: LayerProjections, layer: number): Record<string, unknown> {
  const out: Record<string, unknown> = { layer };
  for (const site of projectionSites) {
    const v = p[site];
    if (v) out[site] = { node: v.node.name ?? v.node.opType, weight: v.weight, inFeatures: v.inFeatures, outFeatures: v.outFeatures, packedOffset: v.packed?.offset ?? null };
  }
  if (p.intermediate) out['intermediate'] = { value: p.intermediate.value, width: p.intermediate.width };
  return out;
}
