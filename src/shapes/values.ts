/**
 * Element arithmetic on the small integer tensors that carry shapes (`ValueShape.values`): index
 * mapping for broadcasting, gathering, slicing, concatenating and transposing row-major arrays of
 * symbolic dims. These tensors have constant dims, so plain numbers index them.
 */
import type { Dim } from './dim.js';

/** Values are tracked for tensors up to this many elements (shape vectors, small constants). */
export const MAX_TRACKED = 4096;

export function strides(dims: readonly number[]): number[] {
  const out = new Array<number>(dims.length);
  let step = 1;
  for (let i = dims.length - 1; i >= 0; i--) {
    out[i] = step;
    step *= dims[i]!;
  }
  return out;
}

export function count(dims: readonly number[]): number {
  return dims.reduce((p, d) => p * d, 1);
}

/** Calls `visit` with each multi-index of `dims`, in row-major order. */
function forEachIndex(dims: readonly number[], visit: (index: readonly number[], flat: number) => void): void {
  const n = count(dims);
  const index = new Array<number>(dims.length).fill(0);
  for (let flat = 0; flat < n; flat++) {
    visit(index, flat);
    for (let a = dims.length - 1; a >= 0; a--) {
      if (++index[a]! < dims[a]!) break;
      index[a] = 0;
    }
  }
}

/** `values` (of `from` dims) broadcast to `to` dims (numpy rules, aligned at the right). */
export function broadcastValues<T>(values: readonly T[], from: readonly number[], to: readonly number[]): T[] {
  const s = strides(from);
  const offset = to.length - from.length;
  const out: T[] = [];
  forEachIndex(to, (index) => {
    let at = 0;
    for (let a = 0; a < from.length; a++) at += (from[a] === 1 ? 0 : index[a + offset]!) * s[a]!;
    out.push(values[at]!);
  });
  return out;
}

/** Elementwise `f` over inputs broadcast to `to`. */
export function mapBroadcast(inputs: ReadonlyArray<{ values: readonly Dim[]; dims: readonly number[] }>, to: readonly number[], f: (xs: Dim[]) => Dim | undefined): Dim[] | undefined {
  const expanded = inputs.map((x) => broadcastValues(x.values, x.dims, to));
  const out: Dim[] = [];
  for (let i = 0; i < count(to); i++) {
    const r = f(expanded.map((e) => e[i]!));
    if (r === undefined) return undefined;
    out.push(r);
  }
  return out;
}

/** Gather along `axis` of `data` (dims `dims`) at `indices` (already non-negative, row-major). */
export function gatherValues<T>(data: readonly T[], dims: readonly number[], axis: number, indices: readonly number[]): T[] {
  const outer = count(dims.slice(0, axis));
  const inner = count(dims.slice(axis + 1));
  const out: T[] = [];
  for (let o = 0; o < outer; o++) {
    for (const i of indices) for (let k = 0; k < inner; k++) out.push(data[(o * dims[axis]! + i) * inner + k]!);
  }
  return out;
}

/** Per-axis [start, step, length] of a slice; returns the selected elements. */
export function sliceValues<T>(data: readonly T[], dims: readonly number[], ranges: ReadonlyArray<{ start: number; step: number; length: number }>): T[] {
  const s = strides(dims);
  const out: T[] = [];
  forEachIndex(
    ranges.map((r) => r.length),
    (index) => out.push(data[index.reduce((at, i, a) => at + (ranges[a]!.start + i * ranges[a]!.step) * s[a]!, 0)]!),
  );
  return out;
}

export function concatValues<T>(parts: ReadonlyArray<{ values: readonly T[]; dims: readonly number[] }>, axis: number): T[] {
  const outer = count(parts[0]!.dims.slice(0, axis));
  const out: T[] = [];
  for (let o = 0; o < outer; o++) {
    for (const p of parts) {
      const block = count(p.dims.slice(axis));
      for (let k = 0; k < block; k++) out.push(p.values[o * block + k]!);
    }
  }
  return out;
}

export function transposeValues<T>(data: readonly T[], dims: readonly number[], perm: readonly number[]): T[] {
  const s = strides(dims);
  const out: T[] = [];
  forEachIndex(
    perm.map((p) => dims[p]!),
    (index) => out.push(data[index.reduce((at, i, a) => at + i * s[perm[a]!]!, 0)]!),
  );
  return out;
}
