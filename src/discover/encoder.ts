/**
 * The encoder's residual chain. In a post-LayerNorm transformer (BERT), every sub-block ends with
 * LayerNorm(residual + projection): the residual is the previous LayerNorm's output and the
 * projection is the adapter site. Following "my residual is your output" links from LayerNorm to
 * LayerNorm orders the layers by depth, whatever the node names or the order of the file.
 * A sub-block is attention when a Softmax (or a fused attention op) lies between its projection and
 * the previous LayerNorm; otherwise it is the feed-forward block.
 */
import { isDefaultDomain, type Node } from '../ir/index.js';
import type { AdapterSite, ExistingAdapter, LayerNorm, TransformerLayer } from './types.js';
import type { GraphView } from './view.js';

export const attentionOps: ReadonlySet<string> = new Set(['Softmax', 'Attention', 'MultiHeadAttention', 'PackedAttention', 'GroupQueryAttention']);

/** A LayerNorm fed by a residual sum, with the two operands of that sum. */
interface ResidualNorm {
  readonly layerNorm: LayerNorm;
  readonly node: Node;
  readonly operands: readonly [string, string];
  readonly foldedBias: string | undefined;
}

function residualOf(view: GraphView, ln: LayerNorm): ResidualNorm | undefined {
  if (ln.form === 'SkipLayerNormalization') {
    const node = ln.nodes[0]!;
    const bias = node.inputs[4];
    return { layerNorm: ln, node, operands: [node.inputs[0]!, node.inputs[1]!], foldedBias: bias ? bias : undefined };
  }
  const add = view.producer(ln.input);
  if (!add || add.opType !== 'Add' || !isDefaultDomain(add.domain) || add.inputs.length !== 2) return undefined;
  if (add.inputs.some((i) => view.isConstant(i))) return undefined;
  // The sum must feed only this LayerNorm: otherwise it is not a residual Add + LayerNorm pair.
  if (view.consumers(ln.input).some((c) => !ln.nodes.includes(c)) || view.isGraphOutput(ln.input)) return undefined;
  return { layerNorm: ln, node: add, operands: [add.inputs[0]!, add.inputs[1]!], foldedBias: undefined };
}

export interface EncoderChain {
  /** The LayerNorm before the first layer (BERT's embedding LayerNorm), if any. */
  readonly root: LayerNorm | undefined;
  readonly layers: TransformerLayer[];
  /** LayerNorms that are not part of the chain (e.g. an MLM head's). */
  readonly others: LayerNorm[];
  readonly notes: string[];
}

export function traceEncoder(view: GraphView, layerNorms: readonly LayerNorm[]): EncoderChain {
  const byOutput = new Map(layerNorms.map((ln) => [ln.output, ln]));
  const residuals = new Map<LayerNorm, ResidualNorm>();
  for (const ln of layerNorms) {
    const r = residualOf(view, ln);
    if (r) residuals.set(ln, r);
  }

  // Link each residual LayerNorm to the LayerNorm whose output is its residual operand.
  const predecessor = new Map<LayerNorm, { ln: LayerNorm; operandIndex: number }>();
  const successors = new Map<LayerNorm, LayerNorm[]>();
  for (const [ln, r] of residuals) {
    const matches = r.operands.map((o, i) => ({ ln: byOutput.get(view.source(o)), operandIndex: i })).filter((m) => m.ln !== undefined && m.ln !== ln);
    if (matches.length !== 1) continue;
    predecessor.set(ln, { ln: matches[0]!.ln!, operandIndex: matches[0]!.operandIndex });
    successors.set(matches[0]!.ln!, [...(successors.get(matches[0]!.ln!) ?? []), ln]);
  }

  // Chains start at LayerNorms without a predecessor; take the longest (ties: the first found).
  const chains: LayerNorm[][] = [];
  for (const ln of layerNorms) {
    if (predecessor.has(ln) || !successors.has(ln) && !residuals.has(ln)) continue;
    const chain = [ln];
    let current = ln;
    for (;;) {
      const next = successors.get(current);
      if (!next || next.length !== 1) break;
      current = next[0]!;
      chain.push(current);
    }
    chains.push(chain);
  }
  chains.sort((a, b) => b.length - a.length);
  const chain = chains[0] ?? [];
  const notes: string[] = [];
  for (const other of chains.slice(1)) if (other.length > 1) notes.push(`a second chain of ${other.length} residual LayerNorms (not used)`);

  // The chain's first LayerNorm is a layer's when one of its operands comes out of attention
  // (no embedding LayerNorm, as in torch.nn.TransformerEncoder); otherwise it is the embedding's.
  const inChain = new Set(chain);
  const stopAtOutputs = (ln: LayerNorm | undefined) => new Set(ln ? [ln.output] : []);
  const classify = (value: string, stop: ReadonlySet<string>) => view.upstreamOps(value, stop).some((n) => attentionOps.has(n.opType)) ? 'attention' : 'ffn';

  let root: LayerNorm | undefined;
  const sites: AdapterSite[] = [];
  for (const ln of chain) {
    const r = residuals.get(ln);
    const pred = predecessor.get(ln);
    let siteIndex: number;
    if (pred) siteIndex = 1 - pred.operandIndex;
    else {
      // First in chain: which operand (if any) comes out of an attention block?
      if (!r) {
        root = ln;
        continue;
      }
      const attended = r.operands.map((o) => classify(o, new Set()) === 'attention');
      if (attended[0] === attended[1]) {
        root = ln;
        continue;
      }
      siteIndex = attended[0] ? 0 : 1;
    }
    const value = r!.operands[siteIndex]!;
    const adapter = existingAdapter(view, value);
    const kind = classify(value, stopAtOutputs(pred?.ln));
    sites.push({
      layer: -1,
      site: kind,
      value,
      residualNode: r!.node,
      inputIndex: siteIndex,
      residual: r!.operands[1 - siteIndex]!,
      foldedBias: r!.foldedBias,
      layerNorm: ln,
      projectionWeight: projectionWeight(view, adapter?.input ?? value),
      ...(adapter ? { adapter } : {}),
    });
  }

  // Number the layers: an attention site opens a layer, a feed-forward site closes it.
  const layers: TransformerLayer[] = [];
  let open: { attention?: AdapterSite; ffn?: AdapterSite } | undefined;
  const close = () => {
    if (open) layers.push({ index: layers.length, attention: open.attention, ffn: open.ffn });
    open = undefined;
  };
  for (const s of sites) {
    if (s.site === 'attention') {
      close();
      open = { attention: s };
    } else {
      if (!open || open.ffn) {
        close();
        open = {};
      }
      open.ffn = s;
      close();
    }
  }
  close();
  const numbered = layers.map((l) => ({
    index: l.index,
    attention: l.attention && { ...l.attention, layer: l.index },
    ffn: l.ffn && { ...l.ffn, layer: l.index },
  }));
  // No LayerNorm before the chain's first: the embedding LayerNorm may still feed it, through a
  // projection to the hidden size (ALBERT's 128 → 768) or the padding mask (DeBERTa's).
  if (root === undefined && sites.length > 0) root = normBefore(view, sites[0]!.residual, layerNorms.filter((ln) => !inChain.has(ln)));
  const others = layerNorms.filter((ln) => !inChain.has(ln) && ln !== root);
  return { root, layers: numbered, others, notes };
}

/** Ops between an embedding LayerNorm and the first layer: projections, bias Adds, masks, casts. */
const embeddingPath: ReadonlySet<string> = new Set(['MatMul', 'Gemm', 'Add', 'Mul', 'Reshape', 'Cast', 'Identity', 'Dropout', 'Transpose']);

/** The LayerNorm of `candidates` whose output reaches `value` through at most 4 of those ops. */
function normBefore(view: GraphView, value: string, candidates: readonly LayerNorm[]): LayerNorm | undefined {
  const byOutput = new Map(candidates.map((ln) => [ln.output, ln]));
  let frontier = [value];
  for (let depth = 0; depth <= 4 && frontier.length > 0; depth++) {
    const next: string[] = [];
    for (const v of frontier) {
      const found = byOutput.get(v);
      if (found) return found;
      const p = view.producer(v);
      if (!p || !embeddingPath.has(p.opType) || !isDefaultDomain(p.domain)) continue;
      next.push(...p.inputs.filter((i) => i !== '' && !view.isConstant(i)));
    }
    frontier = next;
  }
  return undefined;
}

/**
 * A bottleneck adapter adapterc inserted (in a model it compiled or exported), recognised by its
 * parameters' names and shape: value = Add(input, Add(MatMul(·, P.up.weight), P.up.bias)) (a
 * parallel one scales the second term) with P.down.weight [hidden, size]. Seen through, the site's
 * projection is `input`.
 */
function existingAdapter(view: GraphView, value: string): ExistingAdapter | undefined {
  const add = view.producer(value);
  if (add?.opType !== 'Add' || add.inputs.length !== 2) return undefined;
  for (const k of [0, 1]) {
    let up = view.producer(add.inputs[k]!);
    // A parallel adapter scales its output: Mul(up, s).
    if (up?.opType === 'Mul') up = view.producer(up.inputs.find((i) => view.constant(i) === undefined) ?? '');
    if (up?.opType !== 'Add') continue;
    const bias = up.inputs.find((i) => i.endsWith('.up.bias') && view.constant(i) !== undefined);
    if (bias === undefined) continue;
    const prefix = bias.slice(0, -'.up.bias'.length);
    const product = view.producer(up.inputs.find((i) => i !== bias) ?? '');
    if (product?.opType !== 'MatMul' || product.inputs[1] !== `${prefix}.up.weight`) continue;
    const down = view.constant(`${prefix}.down.weight`)?.dims;
    if (down?.length !== 2) continue;
    return { prefix, size: down[1]!, input: add.inputs[1 - k]! };
  }
  return undefined;
}

/** The output projection's weight behind a site value, through bias Adds, Reshapes and Transposes. */
function projectionWeight(view: GraphView, value: string): string | undefined {
  let current = value;
  for (let guard = 0; guard < 6; guard++) {
    const p = view.producer(current);
    if (!p) return undefined;
    if (p.opType === 'MatMul' || p.opType === 'Gemm' || p.opType === 'FusedMatMul' || p.opType === 'FusedGemm') {
      return p.inputs.slice(0, 2).find((i) => view.constantDims(i)?.length === 2);
    }
    if (p.opType === 'Add') {
      current = p.inputs.find((i) => !view.isConstant(i)) ?? '';
      continue;
    }
    if (p.opType === 'Reshape' || p.opType === 'Transpose' || p.opType === 'Identity') {
      current = p.inputs[0]!;
      continue;
    }
    return undefined;
  }
  return undefined;
}
