/**
 * Bounds on what a spec may ask for, checked before anything is allocated: a typo such as
 * `size 99999999999` must be a diagnostic at its line, not an `Invalid typed array length` (or
 * 100 MB of artifacts) from a later stage. The bounds are far above any real use: BERT-large's
 * hidden size is 1,024 and the largest vocabularies have about 250,000 tokens.
 */
import { diagnostic, type Diagnostic } from '../diagnostics/index.js';
import type * as A from '../parse/ast.js';
import { positiveInteger, type Reader } from './values.js';

/** The widest bottleneck `size` (and the widest a reduction may resolve to). */
export const MAX_ADAPTER_SIZE = 65_536;
/** The most labels a classifier head may have. */
export const MAX_LABELS = 262_144;
/** The most hidden layers an adapter may have. */
export const MAX_HIDDEN_LAYERS = 16;
/** The adapters and head may have at most this many times the parameters of the encoder's layers… */
export const MAX_PARAMETER_FACTOR = 4;
/** …or this many parameters, whichever is more (so that tiny test models still take real adapters). */
export const MIN_PARAMETER_LIMIT = 1 << 20;
/** The hidden size memory is shown for before a model is known (BERT-base's). */
const SHOWN_HIDDEN = 768;

/** Bytes as people read them: 1.5 GiB, 320 MiB, 12 KiB. */
export function describeBytes(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} bytes` : `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** A positive integer of at most `limit`; above it, ADP1121 with what it would cost (`bytesAt768`). */
function boundedInteger(limit: number, bytesAt768: (n: number) => number | undefined): Reader<number> {
  return (v: A.Value, name: string, report: (d: Diagnostic) => void) => {
    const n = positiveInteger(v, name, report);
    if (n === undefined || n <= limit) return n;
    const bytes = bytesAt768(n);
    const cost = bytes === undefined ? '' : `its float32 weights alone would take ${describeBytes(bytes)} at hidden size ${SHOWN_HIDDEN}; `;
    report(diagnostic('ADP1121', { name, value: v.kind === 'number' ? v.text : `${n}`, limit }, { span: v.span }, `${cost}use at most ${limit}`));
    return undefined;
  };
}

/** `size N`: a down- and an up-projection of hidden × N weights each. */
export const adapterSize = boundedInteger(MAX_ADAPTER_SIZE, (n) => 2 * SHOWN_HIDDEN * n * 4);
/** `labels N`: a hidden × N weight matrix. */
export const labelCount = boundedInteger(MAX_LABELS, (n) => SHOWN_HIDDEN * n * 4);
/** `hidden_layers N`: N - 1 inner size × size layers. */
export const hiddenLayerCount = boundedInteger(MAX_HIDDEN_LAYERS, () => undefined);

/** An estimate of the parameters of `layers` BERT layers of width `hidden` (attention 4d², FFN 8d²). */
export function encoderParameters(layers: number, hidden: number): number {
  return layers * 12 * hidden * hidden;
}

/** The most parameters the adapters and head may add to a model of this shape. */
export function parameterLimit(layers: number, hidden: number): number {
  return Math.max(MIN_PARAMETER_LIMIT, MAX_PARAMETER_FACTOR * encoderParameters(layers, hidden));
}
