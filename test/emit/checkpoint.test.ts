/** The ORT training checkpoint writer and readers: round trips, determinism, layout rules, refusals. */
import fc from 'fast-check';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AdapterError } from '../../src/diagnostics/index.js';
import { decodeCheckpoint, encodeCheckpoint, encodeCheckpointParts, readCheckpoint, type CheckpointInput } from '../../src/emit/checkpoint/index.js';
import { DataType, makeTensor, tensorBytes, type Tensor } from '../../src/ir/index.js';
import { deferredRange, deferredReads } from '../../src/load/index.js';

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    if (error instanceof AdapterError) return error.diagnostics[0]!.code;
    throw error;
  }
  return undefined;
}

function floats(n: number, seed = 1): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.sin(seed * 1000 + i) * 3;
  return out;
}

function sample(): CheckpointInput {
  return {
    trainable: [makeTensor('adapter.down.weight', [4, 2], floats(8, 1)), makeTensor('adapter.down.bias', [2], floats(2, 2))],
    frozen: [
      makeTensor('encoder.weight', [3, 4], floats(12, 3)),
      makeTensor('encoder.scale', [], new Float32Array([0.5])),
      makeTensor('position_ids', [1, 3], new BigInt64Array([0n, 1n, 2n])),
    ],
    optimizer: {
      learningRate: 1e-4,
      step: 42,
      moments: new Map([
        ['adapter.down.weight', { m0: floats(8, 4), m1: floats(8, 5).map(Math.abs) }],
        ['adapter.down.bias', { m0: floats(2, 6), m1: floats(2, 7).map(Math.abs) }],
      ]),
    },
    properties: { ints: { epoch: 3, big: 2n ** 40n }, floats: { best_accuracy: 0.875 }, strings: { spec: 'specs/houlsby.adp' } },
  };
}

/** What a tensor looks like after a round trip: name, dims, type and bytes. */
function plain(t: Tensor): { name: string | undefined; dims: number[]; dataType: number | undefined; bytes: number[] } {
  return { name: t.name, dims: t.dims, dataType: t.dataType, bytes: [...tensorBytes(t)] };
}

describe('checkpoint round trip', () => {
  it('decodes what it encodes', () => {
    const input = sample();
    const decoded = decodeCheckpoint(encodeCheckpoint(input));
    expect(decoded.version).toBe(2);
    expect(decoded.trainable.map(plain)).toEqual(input.trainable.map(plain));
    expect(decoded.frozen.map(plain)).toEqual(input.frozen.map(plain));
    expect(decoded.nominal).toBe(false);
    expect(decoded.externalData).toBe(false);
    expect(decoded.ignoredOptimizerGroups).toEqual([]);
    expect(decoded.optimizer?.learningRate).toBe(Math.fround(1e-4));
    expect(decoded.optimizer?.step).toBe(42n);
    const given = input.optimizer!.moments as Map<string, { m0: Float32Array; m1: Float32Array }>;
    expect([...decoded.optimizer!.moments.keys()]).toEqual([...given.keys()]);
    for (const [name, pair] of given) {
      expect(decoded.optimizer!.moments.get(name)!.m0).toEqual(pair.m0);
      expect(decoded.optimizer!.moments.get(name)!.m1).toEqual(pair.m1);
    }
    expect(decoded.properties).toEqual({
      ints: { epoch: 3n, big: 2n ** 40n },
      floats: { best_accuracy: 0.875 },
      strings: { spec: 'specs/houlsby.adp' },
    });
  });

  it('writes zero moments for every trainable parameter on request', () => {
    const input = { ...sample(), optimizer: { learningRate: 0.001, step: 0, moments: 'zeros' as const } };
    const optimizer = decodeCheckpoint(encodeCheckpoint(input)).optimizer!;
    expect(optimizer.step).toBe(0n);
    expect([...optimizer.moments.keys()]).toEqual(['adapter.down.weight', 'adapter.down.bias']);
    expect([...optimizer.moments.get('adapter.down.weight')!.m1]).toEqual(new Array(8).fill(0));
  });

  it('keeps float data 4-aligned, so decoded floats are views and not copies', () => {
    const bytes = encodeCheckpoint(sample());
    const decoded = decodeCheckpoint(bytes);
    for (const t of [...decoded.trainable, ...decoded.frozen]) {
      expect(t.rawData!.buffer).toBe(bytes.buffer);
      expect(t.rawData!.byteOffset % 4).toBe(0);
    }
    const m0 = decoded.optimizer!.moments.get('adapter.down.bias')!.m0;
    expect(m0.buffer).toBe(bytes.buffer);
  });

  it('round-trips arbitrary parameter sets, within the size bound it allocates up front', () => {
    const tensor = fc.record({
      dims: fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 3 }),
      seed: fc.integer({ min: 0, max: 1000 }),
    });
    fc.assert(
      fc.property(fc.uniqueArray(fc.string({ minLength: 1, maxLength: 40 }), { minLength: 0, maxLength: 12 }), fc.array(tensor, { minLength: 12, maxLength: 12 }), fc.nat(12), (names, shapes, split) => {
        const tensors = names.map((name, i) => {
          const { dims, seed } = shapes[i]!;
          return makeTensor(name, dims, floats(dims.reduce((a, b) => a * b, 1), seed));
        });
        const input = { trainable: tensors.slice(0, split), frozen: tensors.slice(split) };
        const bytes = encodeCheckpoint({ ...input, optimizer: { learningRate: 0.1, step: 1, moments: 'zeros' } });
        const decoded = decodeCheckpoint(bytes);
        expect(decoded.trainable.map(plain)).toEqual(input.trainable.map(plain));
        expect(decoded.frozen.map(plain)).toEqual(input.frozen.map(plain));
      }),
      { numRuns: 200 },
    );
  });
});

describe('checkpoint layout', () => {
  it('is deterministic: equal inputs give identical bytes', () => {
    expect(Buffer.from(encodeCheckpoint(sample())).equals(Buffer.from(encodeCheckpoint(sample())))).toBe(true);
  });

  it('starts with the root offset and the file identifier ODTC', () => {
    const bytes = encodeCheckpoint(sample());
    expect(Buffer.from(bytes.subarray(4, 8)).toString('latin1')).toBe('ODTC');
  });

  it('writes both parameter vectors even when they are empty', () => {
    // The reader refuses a module state without either vector, so decoding proves they are there.
    const decoded = decodeCheckpoint(encodeCheckpoint({ trainable: [], frozen: [] }));
    expect(decoded.trainable).toEqual([]);
    expect(decoded.frozen).toEqual([]);
    expect(decoded.optimizer).toBeUndefined();
    expect(decoded.properties).toEqual({ ints: {}, floats: {}, strings: {} });
  });

  it('writes dims for scalars', () => {
    const decoded = decodeCheckpoint(encodeCheckpoint({ trainable: [makeTensor('s', [], new Float32Array([2]))], frozen: [] }));
    expect(decoded.trainable[0]!.dims).toEqual([]);
    expect(decoded.trainable[0]!.rawData!.length).toBe(4);
  });

  it('allocates one buffer of about the final size for large parameters (no growth, little slack)', () => {
    const big = makeTensor('big', [4 * 1024 * 1024], new Float32Array(4 * 1024 * 1024).fill(1.5));
    const bytes = encodeCheckpoint({ trainable: [makeTensor('small', [3], floats(3))], frozen: [big] });
    expect(bytes.length).toBeGreaterThan(16 * 1024 * 1024);
    expect(bytes.buffer.byteLength - bytes.length).toBeLessThan(4096);
  });
});

describe('checkpoint refusals', () => {
  it('leaves large tensors in place: the parts hold their own bytes, and joined they are the encoded checkpoint', () => {
    const big = makeTensor('encoder.big', [300, 100], floats(30_000, 8));
    const huge = makeTensor('encoder.huge', [70_000], floats(70_000, 9));
    const input: CheckpointInput = { ...sample(), frozen: [...sample().frozen, big, huge] };
    const encoded = encodeCheckpointParts(input);
    const { size, dataOffsets } = encoded;
    // Tensors built in memory: every part is bytes (file ranges come only from deferred tensors).
    expect(encoded.parts.every((p) => p instanceof Uint8Array)).toBe(true);
    const parts = encoded.parts as Uint8Array[];
    // By reference: the very same byte arrays, not copies.
    expect(parts).toContain(big.rawData);
    expect(parts).toContain(huge.rawData);
    expect(parts.filter((p) => p.length < 64 * 1024).length).toBe(parts.length - 2);
    const joined = new Uint8Array(size);
    let at = 0;
    for (const p of parts) joined.set(p, (at += p.length) - p.length);
    expect(at).toBe(size);
    expect(Buffer.from(joined).equals(Buffer.from(encodeCheckpoint(input)))).toBe(true);
    // dataOffsets say where each parameter's bytes are in the file.
    const decoded = decodeCheckpoint(joined);
    for (const t of [...decoded.trainable, ...decoded.frozen]) {
      const where = dataOffsets.get(t.name!)!;
      expect(where).toEqual({ offset: t.rawData!.byteOffset - joined.byteOffset, length: t.rawData!.byteLength });
    }
    expect([...dataOffsets.keys()].sort()).toEqual([...decoded.trainable, ...decoded.frozen].map((t) => t.name!).sort());
    expect([...new Float32Array(tensorBytes(decoded.frozen.find((t) => t.name === 'encoder.huge')!).slice().buffer)]).toEqual([...floats(70_000, 9)]);
  });

  it('refuses a name given twice, within or across the two lists', () => {
    const w = makeTensor('w', [1], new Float32Array([1]));
    expect(codeOf(() => encodeCheckpoint({ trainable: [w, w], frozen: [] }))).toBe('ADP3101');
    expect(codeOf(() => encodeCheckpoint({ trainable: [w], frozen: [makeTensor('w', [1], new Float32Array([2]))] }))).toBe('ADP3101');
  });

  it('refuses trainable parameters that are not float32, and accepts other frozen types', () => {
    expect(codeOf(() => encodeCheckpoint({ trainable: [makeTensor('ids', [2], new BigInt64Array([1n, 2n]))], frozen: [] }))).toBe('ADP3102');
    expect(codeOf(() => encodeCheckpoint({ trainable: [], frozen: [makeTensor('ids', [2], new BigInt64Array([1n, 2n]))] }))).toBeUndefined();
  });

  it('refuses tensors it cannot store', () => {
    const unnamed: Tensor = { dims: [1], dataType: DataType.FLOAT, rawData: new Uint8Array(4) };
    expect(codeOf(() => encodeCheckpoint({ trainable: [unnamed], frozen: [] }))).toBe('ADP3103');
    const text: Tensor = { name: 'vocab', dims: [1], dataType: DataType.STRING, stringData: [new Uint8Array([65])] };
    expect(codeOf(() => encodeCheckpoint({ trainable: [], frozen: [text] }))).toBe('ADP3103');
    const external: Tensor = { name: 'e', dims: [1], dataType: DataType.FLOAT, dataLocation: 1, externalData: [{ key: 'location', value: 'x.data' }] };
    expect(codeOf(() => encodeCheckpoint({ trainable: [], frozen: [external] }))).toBe('ADP3103');
    const short: Tensor = { name: 'short', dims: [4], dataType: DataType.FLOAT, rawData: new Uint8Array(8) };
    expect(codeOf(() => encodeCheckpoint({ trainable: [short], frozen: [] }))).toBe('ADP2017');
  });

  it('refuses checkpoints over the size limit before allocating them', () => {
    const input = { trainable: [makeTensor('w', [1024], floats(1024))], frozen: [] };
    expect(codeOf(() => encodeCheckpoint(input, { maxBytes: 4096 }))).toBe('ADP3104');
    expect(codeOf(() => encodeCheckpoint(input, { maxBytes: 8192 }))).toBeUndefined();
  });

  it('refuses missing, unknown or misshapen moments', () => {
    const base = sample();
    const moments = base.optimizer!.moments as Map<string, { m0: Float32Array; m1: Float32Array }>;
    const without = new Map(moments);
    without.delete('adapter.down.bias');
    const withOptimizer = (m: Map<string, { m0: Float32Array; m1: Float32Array }>): CheckpointInput => ({ ...base, optimizer: { learningRate: 1, step: 0, moments: m } });
    expect(codeOf(() => encodeCheckpoint(withOptimizer(without)))).toBe('ADP3105');
    expect(codeOf(() => encodeCheckpoint(withOptimizer(new Map([...moments, ['encoder.weight', { m0: floats(12), m1: floats(12) }]]))))).toBe('ADP3105');
    expect(codeOf(() => encodeCheckpoint(withOptimizer(new Map([...moments, ['adapter.down.bias', { m0: floats(3), m1: floats(2) }]]))))).toBe('ADP3105');
    expect(codeOf(() => encodeCheckpoint({ ...base, optimizer: { learningRate: 1, step: -1, moments: 'zeros' } }))).toBe('ADP3105');
  });

  it('refuses a property name used by two kinds', () => {
    expect(codeOf(() => encodeCheckpoint({ trainable: [], frozen: [], properties: { ints: { epoch: 1 }, floats: { epoch: 1.5 } } }))).toBe('ADP3106');
  });
});

describe('checkpoint reader refusals', () => {
  const good = (): Uint8Array => new Uint8Array(encodeCheckpoint(sample()));

  it('refuses bytes without the identifier', () => {
    const bytes = good();
    bytes[4] = 'X'.charCodeAt(0);
    expect(() => decodeCheckpoint(bytes, 'ckpt')).toThrow(/ADP3107: 'ckpt' is not an ONNX Runtime training checkpoint: its file identifier/);
    expect(codeOf(() => decodeCheckpoint(new Uint8Array(3)))).toBe('ADP3107');
  });

  it('refuses versions other than 2', () => {
    for (const version of [1, 3]) {
      const bytes = good();
      // The version is the root table's first field: find it through the vtable.
      const view = new DataView(bytes.buffer, bytes.byteOffset);
      const root = view.getUint32(0, true);
      const vtable = root - view.getInt32(root, true);
      const at = root + view.getUint16(vtable + 4, true);
      expect(view.getInt32(at, true)).toBe(2);
      view.setInt32(at, version, true);
      expect(() => decodeCheckpoint(bytes)).toThrow(new RegExp(`its version is ${version}`));
    }
  });

  it('refuses truncated and damaged files with a message, never a crash', () => {
    const bytes = good();
    for (const cut of [8, 64, bytes.length / 2, bytes.length - 1]) {
      const code = codeOf(() => decodeCheckpoint(bytes.subarray(0, Math.floor(cut))));
      // A cut may happen to leave a readable (if different) prefix; it must never be anything but ADP3107.
      if (code !== undefined) expect(code).toBe('ADP3107');
    }
    fc.assert(
      fc.property(fc.nat(bytes.length - 1), fc.integer({ min: 0, max: 255 }), (at, value) => {
        const damaged = new Uint8Array(bytes);
        damaged[at] = value;
        const code = codeOf(() => decodeCheckpoint(damaged));
        if (code !== undefined) expect(code).toBe('ADP3107');
      }),
      { numRuns: 300 },
    );
  });
});

describe('readCheckpoint: from a file, large tensors left in it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'adapterc-read-checkpoint-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** The sample plus a frozen tensor of 300 KB, so that the structure spans several 64 KiB pages. */
  function withLarge(): CheckpointInput {
    const input = sample();
    return { ...input, frozen: [...input.frozen, makeTensor('embeddings.weight', [300, 256], floats(300 * 256, 9))] };
  }

  it('reads what decodeCheckpoint decodes, reading tensors from `deferFrom` bytes up only when asked', () => {
    const bytes = encodeCheckpoint(withLarge());
    const file = join(dir, 'checkpoint');
    writeFileSync(file, bytes);
    const whole = decodeCheckpoint(bytes);
    const before = deferredReads();
    const read = readCheckpoint(file, 1024);
    expect(deferredReads()).toBe(before);
    const large = read.frozen.find((t) => t.name === 'embeddings.weight')!;
    expect(deferredRange(large)).toMatchObject({ length: 300 * 256 * 4 });
    expect(read.frozen.filter((t) => deferredRange(t) !== undefined).length).toBe(1);
    const strip = (c: typeof whole) => ({ ...c, trainable: c.trainable.map((t) => ({ ...t, rawData: Buffer.from(tensorBytes(t)) })), frozen: c.frozen.map((t) => ({ ...t, rawData: Buffer.from(tensorBytes(t)) })) });
    expect(strip(read)).toEqual(strip(whole));
    expect(deferredReads()).toBe(before + 1);
  });

  it('reads structures that straddle its 64 KiB pages: 4,000 small tensors with long names', () => {
    const frozen = Array.from({ length: 4000 }, (_, i) => makeTensor(`encoder.layer.${i}.a.rather.long.parameter.name.weight`, [3], floats(3, i)));
    const bytes = encodeCheckpoint({ trainable: [], frozen });
    expect(bytes.length).toBeGreaterThan(4 * 64 * 1024);
    const file = join(dir, 'many');
    writeFileSync(file, bytes);
    const read = readCheckpoint(file, 1024);
    expect(read.frozen.map((t) => t.name)).toEqual(frozen.map((t) => t.name));
    read.frozen.forEach((t, i) => expect(Buffer.from(tensorBytes(t)).equals(Buffer.from(tensorBytes(frozen[i]!)))).toBe(true));
  });

  it('refuses a truncated file with ADP3107 naming it, like decodeCheckpoint', () => {
    const bytes = encodeCheckpoint(withLarge());
    for (const cut of [8, 100, Math.floor(bytes.length / 2), bytes.length - 1]) {
      const file = join(dir, `cut-${cut}`);
      writeFileSync(file, bytes.subarray(0, cut));
      const code = codeOf(() => readCheckpoint(file, 1024));
      if (code !== undefined) expect(code).toBe('ADP3107');
      expect(code).toBe(codeOf(() => decodeCheckpoint(bytes.subarray(0, cut))));
    }
    expect(() => readCheckpoint(join(dir, 'cut-8'), 1024)).toThrow(/cut-8/);
  });
});
