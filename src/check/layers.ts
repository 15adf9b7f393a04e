/**
 * Layer selectors: `all`, `3`, `6..11`, `-1`, `0, 2, 4`, `all except 0..5`. Negative indexes count
 * from the top (-1 is the last layer), so a selector is only fully known once the model's depth is.
 */
import { diagnostic, type Diagnostic } from '../diagnostics/index.js';
import type * as A from '../parse/ast.js';
import { complement, IntervalSet, type Interval } from './intervals.js';
import type { LayerRange, LayerSelector } from './plan.js';

export function describeRange(r: Pick<LayerRange, 'start' | 'end'>): string {
  return r.start === r.end ? `${r.start}` : `${r.start}..${r.end}`;
}

export function describeSelector(s: LayerSelector): string {
  if (s.kind === 'all') return s.except.length === 0 ? 'all' : `all except ${s.except.map(describeRange).join(', ')}`;
  return s.items.map(describeRange).join(', ');
}

/**
 * Builds a selector, reporting what is wrong regardless of the model: empty ranges, repeated indexes.
 * Ranges stay ranges (see intervals.ts), so `0..99999999999` costs what `0..3` does.
 */
export function readLayerSet(set: A.LayerSet, report: (d: Diagnostic) => void): LayerSelector {
  const items = set.kind === 'all' ? set.except : set.items;
  const ranges: LayerRange[] = [];
  // Indexes of one sign are compared with each other; -1 and 11 may or may not be the same layer.
  const seen = { positive: new IntervalSet<A.LayerItem>(), negative: new IntervalSet<A.LayerItem>() };
  for (const item of items) {
    const range = { start: item.start.value, end: (item.end ?? item.start).value, span: item.span };
    const sameSign = range.start < 0 === range.end < 0;
    if (sameSign && range.start > range.end) {
      report(diagnostic('ADP1109', { range: describeRange(range) }, { span: item.span }, `ranges go upwards; write ${range.end}..${range.start}`));
      continue;
    }
    if (sameSign) {
      const set = range.start < 0 ? seen.negative : seen.positive;
      const repeated = set.overlap(range.start, range.end);
      if (repeated) report(diagnostic('ADP1115', { layer: `${repeated.at}` }, { span: item.span }, 'list each layer once'));
      else set.add(range.start, range.end, item);
    }
    ranges.push(range);
  }
  return set.kind === 'all' ? { kind: 'all', except: ranges, span: set.span } : { kind: 'list', items: ranges, span: set.span };
}

/** Whether a selector uses no negative index, so it means the same layers for every model. */
export function isModelIndependent(s: LayerSelector): boolean {
  const items = s.kind === 'all' ? s.except : s.items;
  return items.every((r) => r.start >= 0 && r.end >= 0);
}

/** The layers a model-independent selector picks, as ascending intervals (the last may end at Infinity). */
export function staticIntervals(s: LayerSelector): Interval[] {
  if (s.kind === 'all') return complement(s.except);
  return [...s.items].sort((a, b) => a.start - b.start).map((r) => ({ start: r.start, end: r.end }));
}

export interface ResolvedLayers {
  readonly layers: readonly number[];
  readonly diagnostics: readonly Diagnostic[];
}

/** Resolves a selector for a model with `depth` layers: indexes in range, ranges non-empty. */
export function resolveLayers(s: LayerSelector, depth: number): ResolvedLayers {
  const diagnostics: Diagnostic[] = [];
  const picked = new Set<number>();
  const ranges = s.kind === 'all' ? s.except : s.items;
  const absolute: Array<{ start: number; end: number }> = [];
  for (const r of ranges) {
    const outside = [r.start, r.end].find((index) => index >= depth || index < -depth);
    if (outside !== undefined) {
      diagnostics.push(diagnostic('ADP2201', { layer: outside, depth }, { span: r.span }, depth > 0 ? `use an index from 0 to ${depth - 1}, or -1 to -${depth} from the top` : undefined));
      continue;
    }
    const start = r.start < 0 ? depth + r.start : r.start;
    const end = r.end < 0 ? depth + r.end : r.end;
    if (start > end) {
      diagnostics.push(diagnostic('ADP2203', { range: describeRange(r), depth }, { span: r.span }, `with ${depth} layers this is ${start}..${end}`));
      continue;
    }
    absolute.push({ start, end });
  }
  for (let i = 0; i < depth; i++) {
    const named = absolute.some((r) => i >= r.start && i <= r.end);
    if (s.kind === 'all' ? !named : named) picked.add(i);
  }
  return { layers: [...picked].sort((a, b) => a - b), diagnostics };
}
