/**
 * Two adapters at one site is an error. Selectors without negative indexes mean the same layers in
 * every model, so overlaps between them are found before any model is read; the rest is checked
 * against the model (ADP2204).
 *
 * Each placement is compared with the layers every earlier placement at its site already covers,
 * not with each earlier placement in turn: a spec that repeats one line n times gets n - 1 errors
 * (each naming the first line that covers it), not n·(n - 1)/2, and is checked in O(n log n).
 */
import { diagnostic, type Diagnostic } from '../diagnostics/index.js';
import { IntervalSet } from './intervals.js';
import { describeSelector, isModelIndependent, staticIntervals } from './layers.js';
import type { Placement } from './plan.js';

export function staticConflicts(placements: readonly Placement[]): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  const covered = new Map<string, IntervalSet<Placement>>();
  for (const b of placements) {
    if (!isModelIndependent(b.layers)) continue;
    let site = covered.get(b.site);
    if (!site) covered.set(b.site, (site = new IntervalSet<Placement>()));
    const intervals = staticIntervals(b.layers);
    // The lowest layer b shares with an earlier placement (intervals ascend, so the first hit).
    let clash: { owner: Placement; at: number } | undefined;
    for (const r of intervals) {
      clash = site.overlap(r.start, r.end);
      if (clash) break;
    }
    if (clash) {
      const a = clash.owner;
      diagnostics.push(
        diagnostic('ADP1108', { site: a.site, layer: `${clash.at}` }, { span: b.span }, `the placement at line ${a.span.start.line} (layers ${describeSelector(a.layers)}) already covers it; use 'except' or separate ranges`),
      );
      continue;
    }
    // Ranges of one list may touch or repeat (ADP1115 reports that); add each once, merged.
    for (const r of merge(intervals)) site.add(r.start, r.end, b);
  }
  return diagnostics;
}

function merge(sorted: ReadonlyArray<{ start: number; end: number }>): Array<{ start: number; end: number }> {
  const out: Array<{ start: number; end: number }> = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r.start <= last.end + 1) last.end = Math.max(last.end, r.end);
    else out.push({ start: r.start, end: r.end });
  }
  return out;
}
