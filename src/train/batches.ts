/**
 * Batches of tokenized examples as feeds for the training and eval models: token ids padded with
 * `[PAD]` to the longest example of the batch (or to the model's static sequence length), an
 * attention mask of 1s over the real tokens, token types 0 (one sentence), position ids 0…n−1 when
 * the model takes them, and the labels (int64 class indexes, or float values [batch, width]). Each
 * input gets the element type the training model declares.
 */
import type { Feeds, FeedTensor } from '../runtime/ort-training.js';
import { streamFor, uniformInt, type Uint32Source } from '../util/prng.js';
import type { ModelInput } from './artifacts.js';
import type { TaskKind } from './data.js';

export interface EncodedExample {
  readonly ids: readonly number[];
  readonly label: number;
}

export interface BatchShape {
  /** Pad every batch to this sequence length (a static model input); else to its longest example. */
  readonly sequence?: number;
  /** Pad the batch to this many rows (a static model input) by repeating its last example. */
  readonly rows?: number;
  /** Width of float labels (regression): labels are [batch, width]. Default 1. */
  readonly labelWidth?: number;
  /** Masked-LM batches: the masked positions (flat, row · sequence + token) and their original ids. */
  readonly masked?: MaskedTokens;
}

export interface MaskedTokens {
  readonly positions: readonly number[];
  readonly labels: readonly number[];
}

export interface MaskingVocabulary {
  readonly mask: number;
  /** Ids never masked: [CLS], [SEP], [PAD]. */
  readonly special: ReadonlySet<number>;
  /** Ids a masked token may be replaced by (the 10% random replacements). */
  readonly replacements: readonly number[];
}

/** BERT's masking rates: 15% of the tokens are predicted; of those 80% become [MASK], 10% a random token, 10% stay. */
export const MASKING = { rate: 0.15, mask: 0.8, random: 0.1 } as const;

/**
 * BERT's masking for one batch: picks max(1, round(15%)) of the batch's non-special tokens
 * uniformly from `rng`; 80% of them become [MASK], 10% a random token, 10% stay as they are.
 * Returns the examples with those ids replaced, and the positions (flat indices into batch ×
 * `sequence`) with the original ids as labels, in position order.
 */
export function maskBatch(examples: readonly EncodedExample[], sequence: number, vocabulary: MaskingVocabulary, rng: Uint32Source): { examples: EncodedExample[]; masked: MaskedTokens } {
  const candidates: number[] = [];
  examples.forEach((e, r) => e.ids.forEach((id, t) => {
    if (t < sequence && !vocabulary.special.has(id)) candidates.push(r * sequence + t);
  }));
  const count = candidates.length === 0 ? 0 : Math.max(1, Math.round(MASKING.rate * candidates.length));
  // A partial Fisher–Yates shuffle: the first `count` entries are a uniform sample without replacement.
  for (let i = 0; i < count; i++) {
    const j = i + uniformInt(rng, candidates.length - i);
    [candidates[i], candidates[j]] = [candidates[j]!, candidates[i]!];
  }
  const positions = candidates.slice(0, count).sort((a, b) => a - b);
  const ids = examples.map((e) => [...e.ids]);
  const labels = positions.map((p) => {
    const row = ids[Math.floor(p / sequence)]!;
    const t = p % sequence;
    const original = row[t]!;
    const u = uniformInt(rng, 1000) / 1000;
    if (u < MASKING.mask) row[t] = vocabulary.mask;
    else if (u < MASKING.mask + MASKING.random && vocabulary.replacements.length > 0) row[t] = vocabulary.replacements[uniformInt(rng, vocabulary.replacements.length)]!;
    return original;
  });
  return { examples: examples.map((e, r) => ({ ...e, ids: ids[r]! })), masked: { positions, labels } };
}

function integers(type: ModelInput['type'], count: number, value: (i: number) => number): FeedTensor['data'] {
  if (type === 'int32') return Int32Array.from({ length: count }, (_, i) => value(i));
  if (type === 'float32') return Float32Array.from({ length: count }, (_, i) => value(i));
  const out = new BigInt64Array(count);
  for (let i = 0; i < count; i++) out[i] = BigInt(value(i));
  return out;
}

/** The feeds for one batch; `pad` is the `[PAD]` id. */
export function batchFeeds(examples: readonly EncodedExample[], inputs: readonly ModelInput[], task: TaskKind, pad: number, shape: BatchShape = {}): Feeds {
  const rows = Math.max(shape.rows ?? examples.length, examples.length);
  const row = (r: number) => examples[Math.min(r, examples.length - 1)]!;
  const sequence = shape.sequence ?? Math.max(...examples.map((e) => e.ids.length));
  const feeds: Record<string, FeedTensor> = {};
  for (const input of inputs) {
    const type = input.type;
    const cell = (i: number) => ({ r: Math.floor(i / sequence), t: i % sequence });
    const count = rows * sequence;
    switch (input.role) {
      case 'input_ids':
        feeds[input.name] = { data: integers(type, count, (i) => row(cell(i).r).ids[cell(i).t] ?? pad), dims: [rows, sequence], type };
        break;
      case 'attention_mask':
        feeds[input.name] = { data: integers(type, count, (i) => (cell(i).t < row(cell(i).r).ids.length ? 1 : 0)), dims: [rows, sequence], type };
        break;
      case 'token_type_ids':
        feeds[input.name] = { data: integers(type, count, () => 0), dims: [rows, sequence], type };
        break;
      case 'position_ids':
        feeds[input.name] = input.dims.length === 1 ? { data: integers(type, sequence, (i) => i), dims: [sequence], type } : { data: integers(type, count, (i) => cell(i).t), dims: [rows, sequence], type };
        break;
      case 'mlm_positions':
        feeds[input.name] = { data: integers(type, shape.masked?.positions.length ?? 0, (i) => shape.masked!.positions[i]!), dims: [shape.masked?.positions.length ?? 0], type };
        break;
      case 'labels':
        if (task === 'masked_lm') feeds[input.name] = { data: integers(type, shape.masked?.labels.length ?? 0, (i) => shape.masked!.labels[i]!), dims: [shape.masked?.labels.length ?? 0], type };
        else if (task === 'classification') feeds[input.name] = { data: integers(type, rows, (r) => row(r).label), dims: [rows], type };
        else {
          const width = shape.labelWidth ?? 1;
          feeds[input.name] = { data: Float32Array.from({ length: rows * width }, (_, i) => row(Math.floor(i / width)).label), dims: input.dims.length === 1 ? [rows] : [rows, width], type: 'float32' };
        }
        break;
    }
  }
  return feeds;
}

/** Splits `order` into batches of `size` (the last one may be smaller; `dropLast` drops it). */
export function chunk<T>(items: readonly T[], size: number, dropLast = false): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) {
    const part = items.slice(i, i + size);
    if (part.length === size || !dropLast) out.push(part);
  }
  return out;
}

/** A seeded shuffler: each call returns a fresh permutation of 0…n−1 (Fisher–Yates). */
export function shuffler(seed: number): (n: number) => number[] {
  const rng = streamFor(seed, 'adapterc train: shuffle');
  return (n) => {
    const order = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor((rng.nextUint32() / 0x100000000) * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    return order;
  };
}
