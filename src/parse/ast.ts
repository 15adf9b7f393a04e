/**
 * The syntax tree of one .adp file: what was written, where, nothing resolved yet. The checker
 * (src/check) gives it meaning; the printer (src/print) writes it back in canonical form.
 */
import type { SourceSpan } from '../diagnostics/index.js';

export interface Located {
  readonly span: SourceSpan;
}

/** A word: a name, or a keyword used as a value (e.g. `layernorm` in `no_decay (bias, layernorm)`). */
export interface Word extends Located {
  readonly kind: 'word';
  readonly text: string;
}
export interface NumberValue extends Located {
  readonly kind: 'number';
  readonly value: number;
  /** As written, so that the printer keeps `1e-4` as `1e-4`. */
  readonly text: string;
  readonly isInteger: boolean;
  readonly percent: boolean;
}
export interface StringValue extends Located {
  readonly kind: 'string';
  readonly value: string;
}
export interface TupleValue extends Located {
  readonly kind: 'tuple';
  readonly items: readonly Value[];
}
export type Value = Word | NumberValue | StringValue | TupleValue;

export interface Argument extends Located {
  readonly name: Word;
  readonly value: Value;
}
/** `normal(std 1e-2, truncate 2)`, `classifier(labels 2)`, `identity`. */
export interface Call extends Located {
  readonly name: Word;
  /** Undefined when written without parentheses. */
  readonly args: readonly Argument[] | undefined;
}

export interface LayerItem extends Located {
  readonly start: NumberValue;
  /** Inclusive end of a range `start..end`. */
  readonly end: NumberValue | undefined;
}
export type LayerSet =
  | (Located & { readonly kind: 'all'; readonly except: readonly LayerItem[] })
  | (Located & { readonly kind: 'list'; readonly items: readonly LayerItem[] });
export interface LayerClause extends Located {
  /** `layer` or `layers`, as written. */
  readonly keyword: 'layer' | 'layers';
  readonly set: LayerSet;
}

export type AdapterSetting =
  | (Located & { readonly kind: 'size'; readonly value: NumberValue })
  | (Located & { readonly kind: 'reduction'; readonly value: NumberValue })
  | (Located & { readonly kind: 'activation'; readonly value: Word })
  | (Located & { readonly kind: 'init'; readonly value: Call })
  | (Located & { readonly kind: 'layernorm' })
  | (Located & { readonly kind: 'hidden_layers'; readonly value: NumberValue })
  /** A parallel adapter (beside the sub-layer, reading its input); `args`: `(scaling S)`. */
  | (Located & { readonly kind: 'parallel'; readonly args: readonly Argument[] | undefined })
  /** A LoRA adapter on a projection; `args`: `(rank R, alpha A)`. */
  | (Located & { readonly kind: 'lora'; readonly args: readonly Argument[] | undefined })
  /** An (IA)³ adapter: a learned vector rescaling a projection's output or the FFN's activation. */
  | (Located & { readonly kind: 'ia3' });

export interface TrainableItem extends Located {
  readonly name: Word;
  readonly layers: LayerClause | undefined;
}
export type TrainSetting =
  | (Located & { readonly kind: 'trainable'; readonly items: readonly TrainableItem[] })
  | (Located & { readonly kind: 'head'; readonly value: Call })
  | (Located & { readonly kind: 'loss'; readonly value: Word })
  | (Located & { readonly kind: 'optimizer'; readonly value: Call })
  | (Located & { readonly kind: 'schedule'; readonly value: Call });

export interface ImportStatement extends Located {
  readonly kind: 'import' | 'use';
  readonly path: StringValue;
}
export interface AdapterDeclaration extends Located {
  readonly kind: 'adapter';
  readonly override: boolean;
  readonly name: Word;
  readonly settings: readonly AdapterSetting[];
}
export interface PlaceStatement extends Located {
  readonly kind: 'place';
  readonly adapter: Word;
  readonly args: readonly Argument[] | undefined;
  /** `after` a sub-layer (bottleneck adapters), `on` a projection (LoRA, (IA)³). */
  readonly preposition: 'after' | 'on';
  readonly sites: readonly Word[];
  readonly layers: LayerClause;
}
export interface TrainBlock extends Located {
  readonly kind: 'train';
  readonly settings: readonly TrainSetting[];
}
export interface TargetStatement extends Located {
  readonly kind: 'target';
  readonly value: Word;
}
export interface SeedStatement extends Located {
  readonly kind: 'seed';
  readonly value: NumberValue;
}
export type Statement = ImportStatement | AdapterDeclaration | PlaceStatement | TrainBlock | TargetStatement | SeedStatement;

export interface CommentToken extends Located {
  /** Including the leading '#'. */
  readonly text: string;
}

export interface SpecFile {
  readonly file: string;
  readonly text: string;
  readonly statements: readonly Statement[];
  readonly comments: readonly CommentToken[];
}
