/** Lazy tensor bytes: computed on first read, handed to writers uncomputed, computed as they are written. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeTensor } from '../../src/ir/index.js';
import { joinWriteParts } from '../../src/load/wire.js';
import { tensorSource, writeFileAtomically } from '../../src/load/index.js';
import { makeLazy } from '../../src/load/lazy.js';
import { normalTensor } from '../../src/rewrite/init.js';
import { fillNormal, streamFor } from '../../src/util/prng.js';

function lazyTensor() {
  const values = new Float32Array(4);
  const t = makeTensor('w', [4], values);
  let computations = 0;
  makeLazy(t, t.rawData!, () => {
    computations++;
    values.set([1, 2, 3, 4]);
  });
  return { t, computations: () => computations };
}

describe('lazy tensor bytes', () => {
  it('are handed to writers uncomputed, and computed once, as they are written', async () => {
    const { t, computations } = lazyTensor();
    const part = tensorSource(t) as Uint8Array;
    expect(computations()).toBe(0);
    expect([...new Float32Array(part.buffer, part.byteOffset, 4)]).toEqual([0, 0, 0, 0]);
    const dir = mkdtempSync(path.join(tmpdir(), 'adapterc-lazy-'));
    try {
      const file = path.join(dir, 'out.bin');
      await writeFileAtomically(file, [new Uint8Array([9]), part], false);
      expect(computations()).toBe(1);
      expect(readFileSync(file).equals(Buffer.concat([Buffer.from([9]), Buffer.from(new Float32Array([1, 2, 3, 4]).buffer)]))).toBe(true);
      expect([...new Float32Array(t.rawData!.buffer, t.rawData!.byteOffset, 4)]).toEqual([1, 2, 3, 4]);
      expect(computations()).toBe(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('are computed when read as a tensor, or joined as write parts', () => {
    const a = lazyTensor();
    expect([...new Float32Array(a.t.rawData!.buffer, a.t.rawData!.byteOffset, 4)]).toEqual([1, 2, 3, 4]);
    const b = lazyTensor();
    const joined = joinWriteParts([tensorSource(b.t) as Uint8Array], 16);
    expect(joined.equals(Buffer.from(new Float32Array([1, 2, 3, 4]).buffer))).toBe(true);
    expect(b.computations()).toBe(1);
  });

  it('hold what drawing at once holds: a truncated normal tensor', () => {
    const drawn = normalTensor(7, 'adapters.layer.0.down.weight', [64, 8], 0.01, 2);
    const eager = new Float32Array(64 * 8);
    const rng = streamFor(7, 'adapters.layer.0.down.weight');
    fillNormal(eager, rng, 0.01);
    const one = new Float32Array(1);
    for (let i = 0; i < eager.length; i++) {
      while (Math.abs(eager[i]!) > 0.02) {
        fillNormal(one, rng, 0.01);
        eager[i] = one[0]!;
      }
    }
    expect(Buffer.from(drawn.rawData!).equals(Buffer.from(eager.buffer))).toBe(true);
  });
});
