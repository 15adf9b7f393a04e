/** Named model sizes. */

export type PresetName = 'tiny' | 'base' | 'large';

export interface ModelDimensions {
  readonly layers: number;
  readonly hidden: number;
  readonly heads: number;
  /** Intermediate (FFN) size. */
  readonly ffn: number;
  readonly vocab: number;
  readonly maxPositions: number;
  readonly typeVocab: number;
}

export const PRESETS: Readonly<Record<PresetName, ModelDimensions>> = {
  /** Small enough to build and run in milliseconds; same shape family as the corpus's minibert. */
  tiny: { layers: 2, hidden: 32, heads: 4, ffn: 64, vocab: 512, maxPositions: 64, typeVocab: 2 },
  /** bert-base-uncased: 109,482,240 parameters (~438 MB of float32) with the pooler. */
  base: { layers: 12, hidden: 768, heads: 12, ffn: 3072, vocab: 30522, maxPositions: 512, typeVocab: 2 },
  /** bert-large-uncased: 335,141,888 parameters (~1.34 GB) with the pooler. */
  large: { layers: 24, hidden: 1024, heads: 16, ffn: 4096, vocab: 30522, maxPositions: 512, typeVocab: 2 },
};

export function isPresetName(value: string): value is PresetName {
  return Object.hasOwn(PRESETS, value);
}
