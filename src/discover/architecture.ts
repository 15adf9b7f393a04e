/**
 * Which BERT-family architecture a discovered encoder is, from what its graph computes (exporters
 * rename everything, so names are not evidence), and which of adapterc's own specs (specs/<folder>/)
 * fits it:
 *
 *   ALBERT           every layer multiplies by the same projection weights (one shared layer)
 *   MPNet            relative-position buckets (a Log of position distances) and position ids
 *                    counted from the token ids (a CumSum over the non-padding tokens)
 *   DeBERTa-v2/v3    relative-position buckets and no position ids from the tokens
 *   RoBERTa, XLM-R   position ids counted from the token ids; XLM-R when the vocabulary has 250k rows
 *   BERT             token types and a pooler (MiniLM and BERT-large by their hidden size)
 *   ELECTRA          token types and no pooler (as is a BERT exported without its pooler output)
 *   DistilBERT       no token types, no pooler, absolute positions
 *
 * A model's architecture decides the head its spec can use (pooled needs a pooler) and which layer
 * numbers exist; the specs per architecture say so. What adapterc does not adapt (pre-LayerNorm
 * encoders) never gets here: discovery refuses it (ADP2103).
 */
import type { Model } from '../ir/index.js';
import type { Discovery } from './types.js';
import { GraphView } from './view.js';
import { groupDigits } from '../util/format.js';

/** adapterc's specs per architecture: the folder under specs/ and what it is for. */
export interface ArchitectureSpecs {
  /** The folder under adapterc's specs/. */
  readonly folder: string;
  /** The architecture, as its paper and Hugging Face name it. */
  readonly architecture: string;
  /** The size it is written for: layers and hidden size of the pretrained checkpoint. */
  readonly layers: number;
  readonly hidden: number;
  /** The head its houlsby.adp uses. */
  readonly head: 'pooled' | 'first_token';
}

export const architectureSpecs: readonly ArchitectureSpecs[] = [
  { folder: 'bert-base', architecture: 'BERT', layers: 12, hidden: 768, head: 'pooled' },
  { folder: 'bert-large', architecture: 'BERT', layers: 24, hidden: 1024, head: 'pooled' },
  { folder: 'minilm', architecture: 'BERT (MiniLM)', layers: 6, hidden: 384, head: 'first_token' },
  { folder: 'distilbert', architecture: 'DistilBERT', layers: 6, hidden: 768, head: 'first_token' },
  { folder: 'roberta-base', architecture: 'RoBERTa', layers: 12, hidden: 768, head: 'first_token' },
  { folder: 'xlm-roberta-base', architecture: 'XLM-RoBERTa', layers: 12, hidden: 768, head: 'first_token' },
  { folder: 'albert-base', architecture: 'ALBERT', layers: 12, hidden: 768, head: 'pooled' },
  { folder: 'electra-base', architecture: 'ELECTRA', layers: 12, hidden: 768, head: 'first_token' },
  { folder: 'mpnet-base', architecture: 'MPNet', layers: 12, hidden: 768, head: 'first_token' },
  { folder: 'deberta-v3-base', architecture: 'DeBERTa-v2/v3', layers: 12, hidden: 768, head: 'first_token' },
];

export interface Architecture {
  /** What the model is, e.g. 'ALBERT' or 'ELECTRA, or BERT exported without its pooler output'. */
  readonly name: string;
  /** What in the graph says so. */
  readonly evidence: readonly string[];
  /** The specs that fit, relative to adapterc's specs/ folder, best first. */
  readonly specs: readonly string[];
}

/** The specs that fit, as paths from the repository root: 'specs/bert-base/houlsby.adp or …'. */
export function fittingSpecsText(a: Architecture): string {
  return a.specs.map((s) => `specs/${s}`).join(' or ');
}

/** The architecture with what says so: 'ALBERT (one layer's weights in every layer, …)'. */
export function architectureText(a: Architecture): string {
  return `${a.name} (${a.evidence.join(', ')})`;
}

export function recognizeArchitecture(model: Model, discovery: Discovery): Architecture {
  const view = new GraphView(model.graph);
  const ops = new Set(model.graph.nodes.map((n) => n.opType));
  const tokenTypes = discovery.inputs.some((i) => i.role === 'token_type_ids');
  const pooler = discovery.pooledOutput !== undefined;
  const positionsFromIds = ops.has('CumSum');
  const relativeBuckets = ops.has('Log');
  const shared = sharedLayers(view, discovery);
  const vocabulary = vocabularyRows(view, discovery);

  const evidence: string[] = [];
  evidence.push(tokenTypes ? 'token type ids' : 'no token type ids');
  evidence.push(pooler ? 'a pooler' : 'no pooler output');
  if (shared) evidence.push(`one layer's weights shared by all ${discovery.layers.length} layers`);
  if (relativeBuckets) evidence.push('relative-position buckets (Log of distances)');
  if (positionsFromIds) evidence.push('position ids counted from the token ids (CumSum)');
  if (vocabulary !== undefined) evidence.push(`a vocabulary of ${groupDigits(vocabulary)}`);

  // BERT's sizes: MiniLM's spec reads the first token either way; BERT-base's and BERT-large's the pooler, if any.
  const bert = (): string => {
    if (discovery.hidden === 384) return 'minilm/houlsby.adp';
    if (discovery.hidden === 1024) return pooler ? 'bert-large/houlsby.adp' : 'bert-large/first-token.adp';
    return pooler ? 'bert-base/houlsby.adp' : 'bert-base/first-token.adp';
  };
  if (shared) return { name: 'ALBERT', evidence, specs: [pooler ? 'albert-base/houlsby.adp' : 'albert-base/first-token.adp'] };
  if (relativeBuckets && positionsFromIds) return { name: 'MPNet', evidence, specs: ['mpnet-base/houlsby.adp'] };
  if (relativeBuckets) return { name: 'DeBERTa-v2/v3', evidence, specs: ['deberta-v3-base/houlsby.adp'] };
  if (positionsFromIds) {
    if (vocabulary !== undefined && vocabulary >= 250_000) return { name: 'XLM-RoBERTa', evidence, specs: ['xlm-roberta-base/houlsby.adp'] };
    return { name: 'RoBERTa or XLM-RoBERTa', evidence, specs: ['roberta-base/houlsby.adp', 'xlm-roberta-base/houlsby.adp'] };
  }
  if (tokenTypes && pooler) return { name: discovery.hidden === 384 ? 'BERT (MiniLM)' : 'BERT', evidence, specs: [bert()] };
  if (tokenTypes) {
    if (discovery.hidden === 384) return { name: 'BERT (MiniLM) exported without its pooler output', evidence, specs: [bert()] };
    // ELECTRA's encoder is BERT's without the pooler: at ELECTRA's sizes either spec fits.
    const specs = discovery.hidden === 1024 ? [bert()] : ['electra-base/houlsby.adp', bert()];
    return { name: 'ELECTRA, or BERT exported without its pooler output', evidence, specs };
  }
  if (pooler) return { name: 'BERT-style, without token types', evidence, specs: [bert()] };
  return { name: 'DistilBERT', evidence, specs: ['distilbert/houlsby.adp'] };
}

/** Whether every layer's two projections are the same weights (ALBERT's one shared layer). */
function sharedLayers(view: GraphView, discovery: Discovery): boolean {
  if (discovery.layers.length < 2) return false;
  const weights = discovery.layers.map((l) => [l.attention?.projectionWeight, l.ffn?.projectionWeight].map((w) => (w === undefined ? undefined : origin(view, w))));
  if (weights.some((pair) => pair.some((w) => w === undefined))) return false;
  return weights.every((pair) => pair[0] === weights[0]![0] && pair[1] === weights[0]![1]);
}

/** The stored tensor behind a weight, through the Identity, Cast and Transpose nodes exporters add per use. */
function origin(view: GraphView, value: string): string {
  let current = view.source(value, true);
  for (let guard = 0; guard < 4; guard++) {
    const p = view.producer(current);
    if (!p || !['Transpose', 'Identity', 'Cast'].includes(p.opType)) break;
    current = view.source(p.inputs[0]!, true);
  }
  return current;
}

/** Rows of the table the token ids index. */
function vocabularyRows(view: GraphView, discovery: Discovery): number | undefined {
  const ids = discovery.inputs.find((i) => i.role === 'input_ids');
  if (!ids) return undefined;
  const queue = [ids.name];
  const seen = new Set<string>();
  // Through the Casts and Reshapes an exporter puts between the input and its Gather.
  while (queue.length > 0 && seen.size < 16) {
    const value = queue.shift()!;
    if (seen.has(value)) continue;
    seen.add(value);
    for (const c of view.consumers(value)) {
      if (c.opType === 'Gather' && c.inputs[1] === value) {
        const dims = view.constantDims(c.inputs[0]!);
        if (dims?.length === 2) return dims[0];
      }
      if (c.opType === 'Cast' || c.opType === 'Reshape' || c.opType === 'Unsqueeze' || c.opType === 'Identity') queue.push(c.outputs[0]!);
    }
  }
  return undefined;
}
