/** Plan values written back in the spec language's own words, for reports and summaries. */
import { describeSelector } from './layers.js';
import type { AdapterDefinition, BottleneckSize, Head, Initializer, Optimizer, Schedule, TrainableSet } from './plan.js';

/** Small numbers in exponent form (1e-4), others as they are (0.9). */
export function formatNumber(n: number): string {
  return n !== 0 && Math.abs(n) < 1e-3 ? n.toExponential() : String(n);
}

export function describeSize(size: BottleneckSize): string {
  return size.kind === 'absolute' ? `size ${size.units}` : `reduction ${size.factor}`;
}

export function describeInit(init: Initializer): string {
  if (init.kind === 'identity') return `identity(std ${formatNumber(init.std)})`;
  if (init.kind === 'mam') return 'mam (Kaiming-uniform down-projection or LoRA A, zero up-projection or LoRA B)';
  if (init.kind === 'adapterhub') return `adapterhub(folder "${init.folder}")`;
  return `normal(std ${formatNumber(init.std)}${init.truncate === undefined ? '' : `, truncate ${formatNumber(init.truncate)}`})`;
}

export function describeAdapter(a: AdapterDefinition): string {
  if (a.form.kind === 'lora') return `lora(rank ${a.form.rank}, alpha ${formatNumber(a.form.alpha)}), init ${describeInit(a.init)}`;
  if (a.form.kind === 'ia3') return `ia3 (one vector per site, starting at ${a.init.kind === 'normal' ? `1 + N(0, ${formatNumber(a.init.std)}²)` : 'ones'})`;
  const parts = [describeSize(a.size), `activation ${a.activation}`, `init ${describeInit(a.init)}`];
  if (a.layerNorm) parts.push('layernorm');
  if (a.hiddenLayers !== 1) parts.push(`hidden_layers ${a.hiddenLayers}`);
  if (a.form.kind === 'parallel') parts.push(`parallel(scaling ${formatNumber(a.form.scaling)})`);
  return parts.join(', ');
}

export function describeTrainable(t: TrainableSet): string {
  if (t.all) return 'all (full fine-tuning)';
  const parts = ['adapters'];
  if (t.layerNorm) parts.push(`layernorm in layers ${describeSelector(t.layerNorm)}`);
  if (t.head) parts.push('head');
  if (t.embeddings) parts.push('embeddings');
  return parts.join(', ');
}

export function describeHead(h: Head): string {
  if (h.kind === 'output') return h.output === undefined ? 'output (the model\'s own)' : `output(name "${h.output}")`;
  if (h.kind === 'masked_lm') return 'masked_lm (masked-token prediction over the vocabulary)';
  return `classifier(labels ${h.labels}, from ${h.from}${h.adapterhub === undefined ? "" : `, adapterhub "${h.adapterhub.folder}"`})`;
}

export function describeOptimizer(o: Optimizer): string {
  if (o.kind === 'sgd') return `sgd(lr ${formatNumber(o.lr)})`;
  return `adamw(lr ${formatNumber(o.lr)}, betas (${o.betas.map(formatNumber).join(', ')}), eps ${formatNumber(o.eps)}, weight_decay ${formatNumber(o.weightDecay)}, no_decay (${o.noDecay.join(', ')}))`;
}

export function describeSchedule(s: Schedule): string {
  if (s.kind === 'constant') return 'constant';
  return `linear(warmup ${'steps' in s.warmup ? s.warmup.steps : `${formatNumber(s.warmup.fraction * 100)}%`})`;
}
