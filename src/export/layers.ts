/**
 * The layer list of `--drop-layers`, in the spec language's layer syntax: `3`, `0..4`, `0, 2, 4`,
 * `-1` (the last layer), `1..-1`, `all`, `all except 0..5`. Parsed without the model, resolved
 * against its depth.
 */
import { AdapterError, diagnostic } from '../diagnostics/index.js';

export interface LayerList {
  readonly text: string;
  readonly all: boolean;
  /** The listed ranges (for `all except …`, the exceptions), inclusive, possibly negative. */
  readonly ranges: ReadonlyArray<{ readonly start: number; readonly end: number }>;
}

const hint = "write layers as in a spec: '3', '0..4', '0, 2, 4', '-1' (the last), 'all except 0..5'";

function invalid(text: string, reason: string): AdapterError {
  return new AdapterError([diagnostic('ADP5060', { text, reason }, undefined, hint)]);
}

/** Reads `0..4, 6` and friends; throws ADP5060 naming what is wrong. */
export function parseLayerList(text: string): LayerList {
  const trimmed = text.trim();
  if (trimmed === '') throw invalid(text, 'it is empty');
  let rest = trimmed;
  let all = false;
  const allMatch = /^all\b\s*/.exec(rest);
  if (allMatch) {
    all = true;
    rest = rest.slice(allMatch[0].length);
    if (rest === '') return { text, all, ranges: [] };
    const except = /^except\b\s*/.exec(rest);
    if (!except) throw invalid(text, `'all' may only be followed by 'except', not '${rest}'`);
    rest = rest.slice(except[0].length);
    if (rest === '') throw invalid(text, "'all except' needs layers after it");
  }
  const ranges: Array<{ start: number; end: number }> = [];
  for (const part of rest.split(',')) {
    const item = part.trim();
    const m = /^(-?\d+)(?:\s*\.\.\s*(-?\d+))?$/.exec(item);
    if (!m) throw invalid(text, item === '' ? 'it has an empty item between commas' : `'${item}' is neither a layer index nor a range like 0..4`);
    const start = Number(m[1]);
    const end = m[2] === undefined ? start : Number(m[2]);
    if (start < 0 === end < 0 && start > end) throw invalid(text, `the range ${start}..${end} is empty (ranges go upwards: ${end}..${start})`);
    ranges.push({ start, end });
  }
  return { text, all, ranges };
}

/** The layers of a model with `depth` layers that `list` names, ascending; throws ADP5061/ADP5060. */
export function resolveLayerList(list: LayerList, depth: number): number[] {
  const named = new Set<number>();
  for (const r of list.ranges) {
    for (const index of [r.start, r.end]) {
      if (index >= depth || index < -depth) {
        throw new AdapterError([diagnostic('ADP5061', { layer: index, depth }, undefined, depth > 0 ? `use indexes from 0 to ${depth - 1}, or -1 to -${depth} from the top` : undefined)]);
      }
    }
    const start = r.start < 0 ? depth + r.start : r.start;
    const end = r.end < 0 ? depth + r.end : r.end;
    if (start > end) throw invalid(list.text, `with ${depth} layers the range ${r.start}..${r.end} is ${start}..${end}, which is empty`);
    for (let i = start; i <= end; i++) named.add(i);
  }
  const layers: number[] = [];
  for (let i = 0; i < depth; i++) if (list.all ? !named.has(i) : named.has(i)) layers.push(i);
  return layers;
}

/** `0..3, 5` for [0, 1, 2, 3, 5]. */
export function describeLayers(layers: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < layers.length; ) {
    let j = i;
    while (j + 1 < layers.length && layers[j + 1] === layers[j]! + 1) j++;
    parts.push(j === i ? `${layers[i]}` : `${layers[i]}..${layers[j]}`);
    i = j + 1;
  }
  return parts.join(', ');
}
