/**
 * Tensor bytes computed on first use. New parameters' initial values (rewrite/init.ts) are drawn
 * when something first needs them, not when the adapters are inserted: the default layout's
 * checkpoint is laid out as soon as the model is adapted, and its 440 MB copy then starts before
 * the values are drawn (0.06 s on BERT-base) instead of after.
 *
 * A lazy tensor is still a normal tensor: reading its `rawData` computes the bytes, so code that
 * does not know about laziness gets the right ones. Writers that do know take the bytes by
 * reference, not yet computed (`tensorSource`), and compute them just before reading them
 * (`computed`: `writeAll` in files.ts, and whatever else reads a write part's bytes).
 */
import type { Tensor } from '../ir/types.js';

const viewOf = new WeakMap<Tensor, Uint8Array>();
const computeOf = new WeakMap<Uint8Array, () => void>();

/**
 * Makes `t.rawData` an accessor: reading it calls `read`; setting it makes it a plain property with
 * the value set, after `replaced` is called. Deferred (deferred.ts) and lazy tensors are made so.
 */
export function rawDataOnRead(t: Tensor, read: () => Uint8Array, replaced: () => void): void {
  Object.defineProperty(t, 'rawData', {
    configurable: true,
    enumerable: true,
    get: read,
    set(value: Uint8Array | undefined): void {
      replaced();
      Object.defineProperty(t, 'rawData', { configurable: true, enumerable: true, writable: true, value });
    },
  });
}

/** Makes `t.rawData` (the bytes `view`) computed by `compute` the first time anything reads it. Setting `rawData` replaces them. */
export function makeLazy(t: Tensor, view: Uint8Array, compute: () => void): void {
  const once = (): void => {
    if (!computeOf.delete(view)) return;
    compute();
  };
  viewOf.set(t, view);
  computeOf.set(view, once);
  rawDataOnRead(
    t,
    () => {
      once();
      return view;
    },
    () => {
      viewOf.delete(t);
      computeOf.delete(view);
    },
  );
}

/** The bytes of a lazy tensor, computed or not yet: for writers, which call `computed` before reading them. */
export function lazyView(t: Tensor): Uint8Array | undefined {
  return viewOf.get(t);
}

/** `part`, its bytes computed now if they are a lazy tensor's not computed yet. */
export function computed(part: Uint8Array): Uint8Array {
  computeOf.get(part)?.();
  return part;
}
