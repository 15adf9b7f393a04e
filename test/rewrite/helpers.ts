/**
 * Shared by the rewrite tests: the spec files, plans with a forced initializer or head, models
 * (synthetic and corpus) decoded fresh for every adaptation (the rewrite mutates its model), and
 * running models in onnxruntime-node.
 */
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { checkSpecFile } from '../../src/check/check.js';
import type { AdapterDefinition, Head, Initializer, Plan, Site } from '../../src/check/plan.js';
import { AdapterError } from '../../src/diagnostics/index.js';
import { discover, type Discovery } from '../../src/discover/index.js';
import { DataType, makeValueInfo, type Model } from '../../src/ir/index.js';
import { decodeModel, encodeModel } from '../../src/load/index.js';
import { adaptModel, bindToModel, type Adaptation } from '../../src/rewrite/rewrite.js';
import { encodeSyntheticBert, type SyntheticBertOptions } from '../../src/synth/index.js';

export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const specsDir = path.join(projectRoot, 'specs');

/** Every spec in specs/ (not specs/base/), by name without `.adp`, sorted. */
export function specNames(): string[] {
  return readdirSync(specsDir)
    .filter((f) => f.endsWith('.adp'))
    .map((f) => f.slice(0, -'.adp'.length))
    .sort();
}

export function specPath(name: string): string {
  return path.join(specsDir, `${name}.adp`);
}

export interface CheckedSpec {
  readonly plan: Plan;
  readonly sources: ReadonlyMap<string, string>;
}

const checkedCache = new Map<string, CheckedSpec>();

/** The checked plan of specs/<name>.adp (which must check without errors). */
export function checkedSpec(name: string): CheckedSpec {
  let result = checkedCache.get(name);
  if (!result) {
    const checked = checkSpecFile(specPath(name));
    if (!checked.plan) throw new Error(`specs/${name}.adp does not check: ${checked.diagnostics.map((d) => d.message).join(' ')}`);
    result = { plan: checked.plan, sources: checked.sources };
    checkedCache.set(name, result);
  }
  return result;
}

/** The plan with every adapter's initializer replaced (the plan is plain data; placements hold their own adapter copies). */
export function withInit(plan: Plan, init: Initializer): Plan {
  const replace = (a: AdapterDefinition): AdapterDefinition => ({ ...a, init });
  return { ...plan, adapters: plan.adapters.map(replace), placements: plan.placements.map((p) => ({ ...p, adapter: replace(p.adapter) })) };
}

export function withHead(plan: Plan, head: Head): Plan {
  return { ...plan, head };
}

/**
 * The spec's head, or `classifier(from first_token)` with the same labels when the model has no
 * pooler to classify from (what ADP2206's hint tells the user to write).
 */
export function headFor(plan: Plan, discovery: Discovery): Plan {
  if (plan.head.kind === 'classifier' && plan.head.from === 'pooled' && discovery.pooledOutput === undefined) {
    return withHead(plan, { ...plan.head, from: 'first_token' });
  }
  return plan;
}

/** The codes of the AdapterError `fn` throws (sorted, unique), or [] when it throws none. */
export function errorCodes(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    if (error instanceof AdapterError) return [...new Set(error.diagnostics.filter((d) => d.severity === 'error').map((d) => d.code))].sort();
    throw error;
  }
  return [];
}

/**
 * What each spec needs of a model, written down from the spec files (a new spec must be added
 * here): the sites it places at, the depth its layer lists need, and the lowest layer it places in.
 */
export const SPEC_NEEDS: Readonly<Record<string, { sites: readonly Site[]; minLayers: number; firstLayer: number }>> = {
  'adapter-layernorm': { sites: ['attention', 'ffn'], minLayers: 1, firstLayer: 0 },
  'attention-only': { sites: ['attention'], minLayers: 1, firstLayer: 0 },
  'ffn-only': { sites: ['ffn'], minLayers: 1, firstLayer: 0 },
  'full-finetune': { sites: [], minLayers: 1, firstLayer: 0 },
  houlsby: { sites: ['attention', 'ffn'], minLayers: 1, firstLayer: 0 },
  'init-1e-3': { sites: ['attention', 'ffn'], minLayers: 1, firstLayer: 0 },
  'init-identity': { sites: ['attention', 'ffn'], minLayers: 1, firstLayer: 0 },
  // `layer 0` and `layers 1..-1`: layer 1 must exist.
  'per-layer-sizes': { sites: ['attention', 'ffn'], minLayers: 2, firstLayer: 0 },
  parallel: { sites: ['ffn'], minLayers: 1, firstLayer: 0 },
  lora: { sites: ['query', 'value'], minLayers: 1, firstLayer: 0 },
  ia3: { sites: ['key', 'value', 'intermediate'], minLayers: 1, firstLayer: 0 },
  'regression-stsb': { sites: ['attention', 'ffn'], minLayers: 1, firstLayer: 0 },
  relu: { sites: ['attention', 'ffn'], minLayers: 1, firstLayer: 0 },
  'size-256': { sites: ['attention', 'ffn'], minLayers: 1, firstLayer: 0 },
  'size-64': { sites: ['attention', 'ffn'], minLayers: 1, firstLayer: 0 },
  'size-8': { sites: ['attention', 'ffn'], minLayers: 1, firstLayer: 0 },
  tanh: { sites: ['attention', 'ffn'], minLayers: 1, firstLayer: 0 },
  // `layers 6..11`: the top half of a 12-layer BERT.
  'top-layers': { sites: ['attention', 'ffn'], minLayers: 12, firstLayer: 6 },
};

/** The ADP22xx codes binding the spec's own plan to the model must give (sorted). */
export function expectedErrors(spec: string, model: TestModel): string[] {
  const needs = SPEC_NEEDS[spec]!;
  const codes: string[] = [];
  // ADP2201: a layer index past the model's depth.
  if (model.layers < needs.minLayers) codes.push('ADP2201');
  // ADP2205: a layer that exists but lacks a site the spec places at.
  const ffnSites: readonly Site[] = ['ffn', 'ffn_in', 'ffn_out', 'intermediate'];
  if (needs.sites.some((s) => ffnSites.includes(s)) && !model.ffn && model.layers > needs.firstLayer) codes.push('ADP2205');
  // ADP2206: `head classifier(from pooled)` on a model without a pooler.
  const head = checkedSpec(spec).plan.head;
  if (head.kind === 'classifier' && head.from === 'pooled' && !model.pooler) codes.push('ADP2206');
  return codes.sort();
}

export interface Adapted {
  readonly model: Model;
  readonly discovery: Discovery;
  readonly adaptation: Adaptation;
}

/** Binds `plan` (after `adjust`) to the model without changing it; throws AdapterError when the plan does not fit. */
export function bindOnly(model: Model, discovery: Discovery, file: string, spec: CheckedSpec, adjust: (plan: Plan, discovery: Discovery) => Plan = (p) => p): void {
  bindToModel(adjust(spec.plan, discovery), discovery, spec.sources, file);
}

/** Decodes `bytes` afresh, discovers, binds `plan` (after `adjust`) and adapts. Throws AdapterError when the plan does not fit. */
export function adaptBytes(bytes: Uint8Array, file: string, spec: CheckedSpec, adjust: (plan: Plan, discovery: Discovery) => Plan = (p) => p): Adapted {
  const model = decodeModel(bytes, file);
  const discovery = discover(model, file);
  const bound = bindToModel(adjust(spec.plan, discovery), discovery, spec.sources, file);
  const adaptation = adaptModel(model, discovery, bound);
  return { model, discovery, adaptation };
}

/** A model under test: its bytes (decoded afresh for every adaptation) and facts known independently of discovery. */
export interface TestModel {
  readonly name: string;
  readonly file: string;
  readonly bytes: () => Uint8Array;
  readonly layers: number;
  /** Whether every layer has an FFN site (the ort-fused corpus fragment has none). */
  readonly ffn: boolean;
  /** Whether the model has a pooler (tanh of a dense layer on the first token). */
  readonly pooler: boolean;
}

function memo<T>(make: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= make());
}

export function syntheticModel(name: string, options: SyntheticBertOptions): TestModel {
  return {
    name,
    file: `${name}.onnx`,
    bytes: memo(() => encodeSyntheticBert(options)),
    layers: options.layers ?? 2,
    ffn: true,
    pooler: (options.head ?? 'pooled-classifier') === 'pooled-classifier',
  };
}

export function fileModel(name: string, file: string, facts: { layers: number; ffn: boolean; pooler: boolean }): TestModel {
  return { name, file, bytes: memo(() => new Uint8Array(readFileSync(file))), ...facts };
}

/** Adds `names` as extra float graph outputs (values inside the graph, e.g. the last hidden state). */
export function exposeOutputs(model: Model, names: readonly string[]): void {
  for (const name of names) {
    if (!model.graph.outputs.some((o) => o.name === name)) model.graph.outputs.push(makeValueInfo(name, DataType.FLOAT));
  }
}

export type OptimizationLevel = 'disabled' | 'all';

/**
 * Runs the model once in onnxruntime-node and returns the named float outputs. One thread, so
 * results repeat bit for bit; no memory arena or pattern planning, which only slow down creating a
 * session for one run.
 */
export async function runOutputs(model: Model, feeds: Record<string, ort.Tensor>, names: readonly string[], level: OptimizationLevel = 'disabled'): Promise<Float32Array[]> {
  const session = await ort.InferenceSession.create(encodeModel(model), {
    graphOptimizationLevel: level,
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    enableCpuMemArena: false,
    enableMemPattern: false,
  });
  try {
    const results = await session.run(feeds, [...names]);
    return names.map((n) => results[n]!.data as Float32Array);
  } finally {
    await session.release();
  }
}

export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}
