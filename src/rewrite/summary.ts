/** What an adaptation changed, in the terms the paper reports: parameters added and trainable share. */
import type { Adaptation } from './rewrite.js';
import { groupDigits } from '../util/format.js';

export interface AdaptationSummary {
  readonly spec: string;
  readonly model: string;
  readonly layers: number;
  readonly hidden: number;
  readonly adapters: ReadonlyArray<SummaryAdapter>;
  readonly adapterParameters: number;
  /** AdapterHub folders the initial values came from (`init adapterhub`, a classifier's `adapterhub`): trained values, not drawn ones. */
  readonly startsFrom?: readonly string[];
  /** The head the spec adds (absent when the model's own output is kept). */
  readonly head?: { readonly kind: 'classifier'; readonly labels: number; readonly from: 'pooled' | 'first_token' } | { readonly kind: 'masked_lm' };
  readonly classifierParameters: number;
  /** Set when the new head is a masked-LM head (`head masked_lm`): its parameters are `classifierParameters`. */
  readonly newHead?: 'masked_lm';
  readonly extraParameters: ReadonlyArray<{ kind: string; tensors: number; parameters: number }>;
  readonly trainableParameters: number;
  readonly baseParameters: number;
  /** trainable / base, as a fraction. */
  readonly trainableShare: number;
  readonly untied: ReadonlyArray<{ original: string; copy: string }>;
  readonly trainable: readonly string[];
}

/** One inserted adapter: where, which definition, and what it computes (export to other formats reads this). */
export interface SummaryAdapter {
  readonly layer: number;
  readonly site: string;
  readonly adapter: string;
  readonly size: number;
  readonly parameters: number;
  readonly activation: string;
  /** A LayerNorm on the adapter's input (the spec's `layernorm`). */
  readonly layerNorm: boolean;
  readonly hiddenLayers: number;
  /** Parallel adapters only: their scaling (absent: sequential). */
  readonly parallel?: number;
  /** LoRA adapters only: rank (= size) and alpha. */
  readonly lora?: { readonly rank: number; readonly alpha: number };
  /** (IA)³ adapters only. */
  readonly ia3?: true;
}

export function summarize(adaptation: Adaptation, sizes: ReadonlyMap<string, number>, spec: string, model: string): AdaptationSummary {
  const count = (names: readonly string[]) => names.reduce((n, name) => n + (sizes.get(name) ?? 0), 0);
  const adapterParameters = adaptation.adapters.reduce((n, a) => n + a.parameterCount, 0);
  const trainableParameters = count(adaptation.trainable);
  return {
    spec,
    model,
    layers: adaptation.bound.shape.layers,
    hidden: adaptation.bound.shape.hidden,
    adapters: adaptation.adapters.map((a) => {
      const definition = adaptation.bound.instances.find((i) => i.layer === a.layer && i.site === a.site)!.adapter;
      const form = definition.form;
      return { layer: a.layer, site: a.site, adapter: a.adapter, size: a.units, parameters: a.parameterCount, activation: definition.activation, layerNorm: definition.layerNorm, hiddenLayers: definition.hiddenLayers, ...(form.kind === 'parallel' ? { parallel: form.scaling } : {}), ...(form.kind === 'lora' ? { lora: { rank: form.rank, alpha: form.alpha } } : {}), ...(form.kind === 'ia3' ? { ia3: true as const } : {}) };
    }),
    adapterParameters,
    ...(headOf(adaptation.bound.plan.head) ?? {}),
    ...startsFrom(adaptation),
    classifierParameters: adaptation.classifier?.parameterCount ?? 0,
    ...(adaptation.classifier?.kind === 'masked_lm' ? { newHead: 'masked_lm' as const } : {}),
    extraParameters: adaptation.extras.map((e) => ({ kind: e.kind, tensors: e.parameters.length, parameters: count(e.parameters) })),
    trainableParameters,
    baseParameters: adaptation.baseParameters,
    trainableShare: adaptation.baseParameters > 0 ? trainableParameters / adaptation.baseParameters : 0,
    untied: adaptation.untied,
    trainable: adaptation.trainable,
  };
}

function startsFrom(adaptation: Adaptation): Pick<AdaptationSummary, 'startsFrom'> {
  const head = adaptation.bound.plan.head;
  const folders = [...adaptation.bound.instances.map((i) => (i.adapter.init.kind === 'adapterhub' ? i.adapter.init.folder : undefined)), head.kind === 'classifier' ? head.adapterhub?.folder : undefined];
  const unique = [...new Set(folders.filter((f): f is string => f !== undefined))];
  return unique.length > 0 ? { startsFrom: unique } : {};
}

function headOf(head: Adaptation['bound']['plan']['head']): Pick<AdaptationSummary, 'head'> | undefined {
  if (head.kind === 'classifier') return { head: { kind: 'classifier', labels: head.labels, from: head.from } };
  if (head.kind === 'masked_lm') return { head: { kind: 'masked_lm' } };
  return undefined;
}

function millions(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : groupDigits(n);
}

function percent(share: number): string {
  return `${(share * 100).toFixed(share < 0.001 ? 3 : share < 0.1 ? 2 : 1)}%`;
}

export function renderSummary(s: AdaptationSummary): string {
  const rows = [['layer', 'site', 'adapter', 'size', 'parameters'], ...s.adapters.map((a) => [`${a.layer}`, a.site, a.adapter, `${a.size}`, groupDigits(a.parameters)])];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const lines = [`${s.spec} on ${s.model} (${s.layers} layers, hidden size ${s.hidden})`, ''];
  if (s.adapters.length > 0) lines.push(...rows.map((r) => `  ${r.map((cell, c) => (c >= 3 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ')}`.trimEnd()), '');
  else lines.push('  no adapters inserted', '');
  const row = (label: string, text: string) => lines.push(`  ${label.padEnd(20)} ${text}`);
  row('adapters', `${millions(s.adapterParameters)} parameters (${percent(s.adapterParameters / Math.max(1, s.baseParameters))} of the base model)`);
  if (s.classifierParameters > 0) row(s.newHead === 'masked_lm' ? 'new masked_lm head' : 'new classifier', `${groupDigits(s.classifierParameters)} parameters`);
  for (const e of s.extraParameters) row(`${e.kind} (model's)`, `${groupDigits(e.parameters)} parameters in ${e.tensors} tensors`);
  // The share is of the base model as it came (the paper's denominator), not of the adapted one.
  row('trainable', `${millions(s.trainableParameters)} parameters, ${percent(s.trainableShare)} of the base model's ${millions(s.baseParameters)}`);
  if (s.untied.length > 0) row('untied', `${s.untied.length} shared tensors copied so each trainable one belongs to one place (${s.untied.map((u) => `${u.original} → ${u.copy}`).slice(0, 3).join(', ')}${s.untied.length > 3 ? ', …' : ''})`);
  return lines.join('\n');
}
