/**
 * Sets of layer indexes kept as sorted, disjoint closed intervals. A spec may write
 * `0..99999999999`; handling a range as its two ends keeps checking time and memory proportional to
 * the number of ranges written, never to the number of layers they name.
 */

export interface Interval {
  readonly start: number;
  /** Inclusive; may be Infinity (`all except 0..5` reaches every layer above 5). */
  readonly end: number;
}

/** Disjoint intervals in ascending order, each with the owner that added it. */
export class IntervalSet<T> {
  private readonly items: Array<Interval & { readonly owner: T }> = [];

  /** The first interval that shares an index with `[start, end]`, and the lowest shared index. */
  overlap(start: number, end: number): { readonly owner: T; readonly at: number } | undefined {
    const i = this.firstEndingAtOrAfter(start);
    const hit = this.items[i];
    return hit !== undefined && hit.start <= end ? { owner: hit.owner, at: Math.max(start, hit.start) } : undefined;
  }

  /** Adds `[start, end]`, which must not overlap what is there (check with `overlap` first). */
  add(start: number, end: number, owner: T): void {
    this.items.splice(this.firstEndingAtOrAfter(start), 0, { start, end, owner });
  }

  /** Binary search: the index of the first interval whose end is at least `index`. */
  private firstEndingAtOrAfter(index: number): number {
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.items[mid]!.end < index) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/** The non-negative indexes outside `ranges` (the layers `all except …` picks), as intervals. */
export function complement(ranges: readonly Interval[]): Interval[] {
  const sorted = [...ranges].sort((a, b) => a.start - b.start);
  const out: Interval[] = [];
  let next = 0;
  for (const r of sorted) {
    if (r.start > next) out.push({ start: next, end: r.start - 1 });
    next = Math.max(next, r.end + 1);
  }
  if (next !== Infinity) out.push({ start: next, end: Infinity });
  return out;
}
