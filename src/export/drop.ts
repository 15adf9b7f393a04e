/**
 * Removing adapters from an adapted model (the paper's ablation, and faster inference).
 *
 *   pattern   a = Add(h, up(f(down(h))))  named `adapters.layer.L.SITE.output`, read by the residual node
 *   rewrite   every reader of a reads h again; what only fed a (the adapter's nodes, weights and
 *             constants no other adapter shares) is pruned
 *
 * The result computes what an adapted model without adapters in those layers computes.
 */
import { replaceUses, type Model } from '../ir/index.js';
import { pruneUnused } from '../rewrite/prune.js';
import { foldProjectionAdapters } from './fold-projections.js';

const ADAPTER_OUTPUT = /^adapters\.layer\.(\d+)\.(attention|ffn)\.output$/;

export interface AdapterInModel {
  readonly layer: number;
  readonly site: string;
  /** The adapter's output value, which the residual node reads (for LoRA and (IA)³: the adapted value). */
  readonly output: string;
  /** The site value: the adapter's input, and its skip connection. */
  readonly input: string;
}

/** The adapters inserted into `model`, found by the names the rewrite gives their outputs. */
export function adaptersIn(model: Model): AdapterInModel[] {
  const found: AdapterInModel[] = [];
  for (const node of model.graph.nodes) {
    if (node.opType !== 'Add' || node.outputs.length !== 1 || node.inputs.length !== 2) continue;
    const m = ADAPTER_OUTPUT.exec(node.outputs[0]!);
    if (!m) continue;
    found.push({ layer: Number(m[1]), site: m[2] as AdapterInModel['site'], output: node.outputs[0]!, input: node.inputs[0]! });
  }
  return found.sort((a, b) => a.layer - b.layer || (a.site === b.site ? 0 : a.site === 'attention' ? -1 : 1));
}

/** Whether a parameter name belongs to an adapter (of any family, at any site) in one of `layers`. */
export function inDroppedLayer(name: string, layers: ReadonlySet<number>): boolean {
  const m = /^adapters\.layer\.(\d+)\./.exec(name);
  return m !== null && layers.has(Number(m[1]));
}

export interface DropResult {
  readonly dropped: readonly AdapterInModel[];
  /** Requested layers that had no adapter. */
  readonly empty: readonly number[];
  readonly removedInitializers: number;
}

/** Removes the adapters of `layers` from `model` (in place). */
export function dropAdapters(model: Model, layers: readonly number[]): DropResult {
  const wanted = new Set(layers);
  const present = adaptersIn(model);
  const dropped = present.filter((a) => wanted.has(a.layer));
  const producers = new Set(model.graph.nodes.filter((n) => dropped.some((a) => n.outputs[0] === a.output)));
  for (const adapter of dropped) {
    replaceUses(model.graph, adapter.output, adapter.input, { except: producers });
    // An adapter's output is never a graph output; if a caller made it one, the site value stands in.
    for (const o of model.graph.outputs) if (o.name === adapter.output) o.name = adapter.input;
  }
  const initializersBefore = model.graph.initializers.length;
  if (dropped.length > 0) pruneUnused(model.graph);
  // LoRA and (IA)³ of those layers go too (fold-projections.ts).
  const projections = foldProjectionAdapters(model, false, wanted).removed.map((at) => {
    const [layer, site] = at.split('/');
    return { layer: Number(layer), site: site!, output: '', input: '' };
  });
  const all = [...dropped, ...projections].sort((a, b) => a.layer - b.layer);
  const empty = layers.filter((l) => !all.some((a) => a.layer === l));
  return { dropped: all, empty, removedInitializers: initializersBefore - model.graph.initializers.length };
}
