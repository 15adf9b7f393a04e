/**
 * Reading a model without its large weights' bytes (`readModel(..., { deferTensorsFrom })`, what
 * compile does): the same model as a whole read, bytes read only when asked for, file ranges
 * streamed by the writers, and a file that changes meanwhile refused.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdapterError } from '../../src/diagnostics/index.js';
import { sameCheckpoint, writeArtifacts, type SharedBase, type WriteCheckpointEarly } from '../../src/emit/artifacts.js';
import { decodeCheckpoint, encodeCheckpoint, encodeCheckpointParts } from '../../src/emit/checkpoint/index.js';
import { isParameter } from '../../src/emit/training-graphs.js';
import { tensorBytes, type Model, type Tensor } from '../../src/ir/index.js';
import { copyWorkers, prestartCopyWorker, stopPrestartedCopyWorker } from '../../src/load/copy-worker.js';
import { copySourceFile, deferredRange, deferredReads, isSourceRange, modelSourceFile, readModel, sourceRange, tensorSource, withCopyWorkerAhead, writeFileAtomically, type WritePart } from '../../src/load/index.js';
import { writeSyntheticBertSync } from '../../src/synth/index.js';
import { cli } from '../helpers/cli.js';
import { writeExternalDataModel } from '../helpers/external-model.js';
import { corpusAvailable, corpusEntries, corpusPath, corpusSkipReason } from './corpus.js';

const scratch = mkdtempSync(join(tmpdir(), 'adapterc-deferred-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function synthetic(name: string, seed: number, vocab = 300): string {
  const file = join(scratch, name);
  writeSyntheticBertSync({ layers: 2, hidden: 64, heads: 4, ffn: 128, vocab, seed }, file);
  return file;
}

/** Every tensor of `deferred` has the bytes of the same tensor of `whole`; returns how many were deferred. */
function expectSameTensors(deferred: Model, whole: Model): number {
  expect(deferred.graph.initializers.map((t) => t.name)).toEqual(whole.graph.initializers.map((t) => t.name));
  let count = 0;
  const before = deferredReads();
  const ranges = deferred.graph.initializers.map((t) => deferredRange(t));
  count = ranges.filter((r) => r !== undefined).length;
  // Asking where the bytes are reads none of them.
  expect(deferredReads()).toBe(before);
  deferred.graph.initializers.forEach((t, i) => {
    const w = whole.graph.initializers[i]!;
    expect(Buffer.from(tensorBytes(t)).equals(Buffer.from(tensorBytes(w))), t.name).toBe(true);
  });
  // Each deferred tensor was read once, on its first use, and not again.
  expect(deferredReads()).toBe(before + count);
  deferred.graph.initializers.forEach((t) => tensorBytes(t));
  expect(deferredReads()).toBe(before + count);
  return count;
}

describe('readModel with deferTensorsFrom', () => {
  it('gives the same model as a whole read, reading large tensors only when asked', async () => {
    const file = synthetic('bert.onnx', 3);
    const whole = await readModel(file);
    const deferred = await readModel(file, { deferTensorsFrom: 4096 });
    const count = expectSameTensors(deferred, whole);
    expect(count).toBe(whole.graph.initializers.filter((t) => (t.rawData?.length ?? 0) >= 4096).length);
    expect(count).toBeGreaterThan(5);
    // The rest of the model decodes the same.
    expect(deferred.graph.nodes).toEqual(whole.graph.nodes);
  });

  it('defers external data too, at its place in the side file', async () => {
    const { model } = await writeExternalDataModel(mkdtempSync(join(scratch, 'external-')), 5);
    const whole = await readModel(model);
    const deferred = await readModel(model, { deferTensorsFrom: 1 });
    const count = expectSameTensors(deferred, whole);
    expect(count).toBe(deferred.graph.initializers.length);
    for (const t of deferred.graph.initializers) expect(sourceRange(deferred, t)).toEqual(deferredRange(t));
  });

  it.skipIf(!corpusAvailable)(`reads every corpus model the same as a whole read${corpusAvailable ? '' : ` (skipped: ${corpusSkipReason})`}`, async () => {
    for (const entry of corpusEntries()) {
      const whole = await readModel(corpusPath(entry));
      const deferred = await readModel(corpusPath(entry), { deferTensorsFrom: 16 });
      expectSameTensors(deferred, whole);
      expect(deferred.graph.nodes, entry.path).toEqual(whole.graph.nodes);
    }
  });

  it('setting rawData replaces the deferred bytes and ends the deferral', async () => {
    const model = await readModel(synthetic('set.onnx', 4), { deferTensorsFrom: 4096 });
    const t = model.graph.initializers.find((x) => deferredRange(x) !== undefined)!;
    const replacement = new Uint8Array(t.rawData!.length).fill(7);
    t.rawData = replacement;
    expect(deferredRange(t)).toBeUndefined();
    expect(t.rawData).toBe(replacement);
    expect(tensorSource(t)).toBe(replacement);
  });

  it('copies a source file only into a new file (exclusive creation: no truncation, which ext4 answers with a flush on close)', async () => {
    const file = synthetic('copied.onnx', 5);
    const model = await readModel(file);
    const source = modelSourceFile(model)!;
    const target = join(scratch, 'copied-base.data');
    await copySourceFile(source, target);
    expect(readFileSync(target).equals(readFileSync(file))).toBe(true);
    await expect(copySourceFile(source, target)).rejects.toMatchObject({ code: 'EEXIST' });
  });

  it('refuses (ADP2002) to read bytes from a file that changed since the model was read', async () => {
    const file = synthetic('changing.onnx', 6);
    const model = await readModel(file, { deferTensorsFrom: 4096 });
    const t = model.graph.initializers.find((x) => deferredRange(x) !== undefined)!;
    writeFileSync(file, Buffer.concat([readFileSync(file), Buffer.from([0])]));
    expect(() => t.rawData).toThrow(AdapterError);
    try {
      void t.rawData;
    } catch (error) {
      expect((error as AdapterError).diagnostics[0]!.code).toBe('ADP2002');
      expect((error as AdapterError).diagnostics[0]!.message).toContain('changed while adapterc was using it');
    }
  });
});

describe('writing file ranges', () => {
  it('streams ranges between bytes, in order (a range over several copy pieces too)', async () => {
    // 10,000 x 64 word embeddings: 2.56 MB, copied in three pieces.
    const file = synthetic('stream.onnx', 7, 10_000);
    const model = await readModel(file, { deferTensorsFrom: 4096 });
    const deferred = model.graph.initializers.filter((t) => deferredRange(t) !== undefined);
    const parts: WritePart[] = [];
    const expected: Uint8Array[] = [];
    deferred.forEach((t, i) => {
      const marker = new Uint8Array([i, 255 - i, 42]);
      parts.push(marker, tensorSource(t));
      expected.push(marker);
      expected.push(new Uint8Array(readFileSync(file).subarray(deferredRange(t)!.offset, deferredRange(t)!.offset + deferredRange(t)!.length)));
    });
    const before = deferredReads();
    expect(Math.max(...deferred.map((t) => deferredRange(t)!.length))).toBeGreaterThan(2 * 1024 * 1024);
    const out = join(scratch, 'streamed.bin');
    await writeFileAtomically(out, parts, false);
    expect(deferredReads()).toBe(before);
    expect(readFileSync(out).equals(Buffer.concat(expected))).toBe(true);
  });

  describe('over 32 MiB of ranges: copied by a worker thread while the bytes between are written', () => {
    // 140,000 x 64 word embeddings: 35.8 MB, one range over the worker's threshold.
    let file: string;
    let model: Model;
    beforeAll(async () => {
      file = synthetic('worker.onnx', 12, 140_000);
      model = await readModel(file, { deferTensorsFrom: 4096 });
    });

    it('writes the same file as the bytes read whole', async () => {
      const deferred = model.graph.initializers.filter((t) => deferredRange(t) !== undefined);
      expect(deferred.reduce((n, t) => n + deferredRange(t)!.length, 0)).toBeGreaterThan(32 * 1024 * 1024);
      const source = readFileSync(file);
      const parts: WritePart[] = [];
      const expected: Uint8Array[] = [];
      deferred.forEach((t, i) => {
        const marker = new Uint8Array(i + 1).fill(i);
        const range = deferredRange(t)!;
        parts.push(marker, tensorSource(t));
        expected.push(marker, source.subarray(range.offset, range.offset + range.length));
      });
      // The file ends with a range: the worker's writes give the file its length.
      const last = deferred[deferred.length - 1]!;
      parts.push(tensorSource(last));
      expected.push(source.subarray(deferredRange(last)!.offset, deferredRange(last)!.offset + deferredRange(last)!.length));
      const before = deferredReads();
      const out = join(scratch, 'worker.bin');
      await writeFileAtomically(out, parts, false);
      expect(deferredReads()).toBe(before);
      expect(readFileSync(out).equals(Buffer.concat(expected))).toBe(true);
    });

    it('uses a worker started ahead (withCopyWorkerAhead) for the copy, and ends one nothing used', async () => {
      const big = model.graph.initializers.find((t) => (deferredRange(t)?.length ?? 0) > 32 * 1024 * 1024)!;
      const source = readFileSync(file);
      const range = deferredRange(big)!;
      const out = join(scratch, 'ahead.bin');
      const before = copyWorkers().started;
      const seen: { started: number; waiting: boolean }[] = [];
      await withCopyWorkerAhead(file, async () => {
        seen.push(copyWorkers());
        await writeFileAtomically(out, [new Uint8Array(8).fill(7), tensorSource(big)], false);
        seen.push(copyWorkers());
      });
      // One worker: waiting before the copy, then taken by it.
      expect(seen).toEqual([{ started: before + 1, waiting: true }, { started: before + 1, waiting: false }]);
      expect(readFileSync(out).equals(Buffer.concat([new Uint8Array(8).fill(7), source.subarray(range.offset, range.offset + range.length)]))).toBe(true);
      // Unused: ended when the body ends, also when it fails.
      await expect(withCopyWorkerAhead(file, () => Promise.reject(new Error('failed early')))).rejects.toThrow('failed early');
      expect(copyWorkers()).toEqual({ started: before + 2, waiting: false });
      prestartCopyWorker();
      expect(copyWorkers().waiting).toBe(true);
      await stopPrestartedCopyWorker();
      expect(copyWorkers().waiting).toBe(false);
      // A small source (under the worker's threshold) starts none.
      await withCopyWorkerAhead(synthetic('small-ahead.onnx', 3), async () => seen.push(copyWorkers()));
      expect(seen[2]).toEqual({ started: before + 3, waiting: false });
    });

    /** Blocks this thread (as compile's stages do) until `file`'s size reaches `size` or 20 s pass; returns its size then. */
    const spinUntilSize = (file: () => string | undefined, size: number): number => {
      const until = Date.now() + 20_000;
      let seen = 0;
      while (Date.now() < until) {
        const name = file();
        seen = name === undefined ? 0 : statSync(name, { throwIfNoEntry: false })?.size ?? 0;
        if (seen >= size) break;
      }
      return seen;
    };

    it('calls `started` once the worker copies: the copy then proceeds while this thread computes without yielding', async () => {
      const big = model.graph.initializers.find((t) => (deferredRange(t)?.length ?? 0) > 32 * 1024 * 1024)!;
      const dir = mkdtempSync(join(scratch, 'worker-started-'));
      let grewTo = -1;
      const written = writeFileAtomically(join(dir, 'out.bin'), [new Uint8Array(8), tensorSource(big)], false, () => {
        const temporary = () => readdirSync(dir).find((n) => n.endsWith('.tmp'));
        grewTo = spinUntilSize(() => (temporary() === undefined ? undefined : join(dir, temporary()!)), 8 + deferredRange(big)!.length);
      });
      await written;
      // The worker wrote the whole range while `started` held this thread.
      expect(grewTo).toBe(8 + deferredRange(big)!.length);
      expect(statSync(join(dir, 'out.bin')).size).toBe(8 + deferredRange(big)!.length);
    });

    /**
     * writeArtifacts into a new folder `out`, with a build that runs `during` (which holds this
     * thread, as compile's build does) and then fails: what `during` measured, once the failure
     * has been reported and has left nothing behind. `staging` finds the folder being filled.
     */
    async function measureDuringBuild(during: (staging: () => string | undefined, writeCheckpointEarly: WriteCheckpointEarly) => Promise<number>, base?: SharedBase): Promise<number> {
      const parent = mkdtempSync(join(scratch, 'artifacts-'));
      const staging = () => {
        const name = readdirSync(parent).find((n) => n.startsWith('.out.tmp-'));
        return name === undefined ? undefined : join(parent, name);
      };
      let measured = -1;
      const stop = new Error('built nothing: the test ends here');
      const result = await writeArtifacts(
        join(parent, 'out'),
        async (writeCheckpointEarly) => {
          measured = await during(staging, writeCheckpointEarly);
          throw stop;
        },
        base,
      ).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(result).toBe(stop);
      expect(readdirSync(parent)).toEqual([]);
      return measured;
    }

    it("writeArtifacts: the early checkpoint's copy is under way once `build` has started it, and proceeds while build computes without yielding", async () => {
      const frozen = model.graph.initializers.filter(isParameter);
      const checkpoint = encodeCheckpointParts({ trainable: [], frozen });
      // The worker writes the file ranges; this thread writes the bytes between them once `build` yields.
      let rangesEnd = 0;
      let at = 0;
      for (const part of checkpoint.parts) {
        at += part.length;
        if (isSourceRange(part)) rangesEnd = at;
      }
      expect(rangesEnd).toBeGreaterThan(32 * 1024 * 1024);
      const grewTo = await measureDuringBuild(async (staging, writeCheckpointEarly) => {
        await writeCheckpointEarly(checkpoint);
        // The checkpoint's temporary file, inside the output folder's temporary folder.
        const temporary = () => {
          const folder = staging();
          const inside = folder === undefined ? undefined : readdirSync(folder).find((n) => n.startsWith('.checkpoint.'));
          return folder === undefined || inside === undefined ? undefined : join(folder, inside);
        };
        return spinUntilSize(temporary, rangesEnd);
      });
      expect(grewTo).toBe(rangesEnd);
    });

    it('writeArtifacts (shared-base): base.data is being copied before `build` starts, and proceeds while build computes without yielding', async () => {
      const size = statSync(file).size;
      const grewTo = await measureDuringBuild(
        async (staging) =>
          spinUntilSize(() => {
            const folder = staging();
            return folder === undefined ? undefined : join(folder, 'base.data');
          }, size),
        { model, tensors: model.graph.initializers.filter(isParameter) },
      );
      expect(grewTo).toBe(size);
    });

    it('refuses (ADP2002) a source that changed, and leaves nothing behind', async () => {
      const big = model.graph.initializers.find((t) => (deferredRange(t)?.length ?? 0) > 32 * 1024 * 1024)!;
      const handle = await open(file, 'a');
      await handle.write(Buffer.from([1]));
      await handle.close();
      const dir = mkdtempSync(join(scratch, 'worker-refused-'));
      const error = await writeFileAtomically(join(dir, 'out.bin'), [new Uint8Array(8), tensorSource(big)], false).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(AdapterError);
      expect((error as AdapterError).diagnostics[0]!.code).toBe('ADP2002');
      expect(readdirSync(dir)).toEqual([]);
    });
  });

  it('a checkpoint of deferred tensors is the checkpoint of the same tensors read whole', async () => {
    const file = synthetic('checkpoint.onnx', 8);
    const frozen = (m: Model): Tensor[] => m.graph.initializers.filter(isParameter);
    const whole = encodeCheckpoint({ trainable: [], frozen: frozen(await readModel(file)) });
    const deferred = await readModel(file, { deferTensorsFrom: 1024 });
    const before = deferredReads();
    const out = join(scratch, 'checkpoint');
    await writeFileAtomically(out, encodeCheckpointParts({ trainable: [], frozen: frozen(deferred) }).parts, false);
    expect(deferredReads()).toBe(before);
    expect(readFileSync(out).equals(Buffer.from(whole))).toBe(true);
    expect(decodeCheckpoint(readFileSync(out)).frozen.length).toBe(frozen(deferred).length);
  });

  it('refuses (ADP2002) a range of a file that changed since it was read, and leaves nothing behind', async () => {
    const file = synthetic('changed-before-write.onnx', 9);
    const model = await readModel(file, { deferTensorsFrom: 4096 });
    const t = model.graph.initializers.find((x) => deferredRange(x) !== undefined)!;
    const handle = await open(file, 'a');
    await handle.write(Buffer.from([1, 2, 3]));
    await handle.close();
    const out = join(mkdtempSync(join(scratch, 'refused-')), 'out.bin');
    const error = await writeFileAtomically(out, [tensorSource(t)], false).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AdapterError);
    expect((error as AdapterError).diagnostics[0]!.code).toBe('ADP2002');
    expect(readFileSync.bind(undefined, out)).toThrow();
  });
});

/** `written` (read whole, external data resolved) holds every weight of `source` from 64 KiB up, byte for byte. */
async function expectLargeWeightsOf(source: string, written: string): Promise<void> {
  const whole = await readModel(source);
  const byName = new Map((await readModel(written)).graph.initializers.map((t) => [t.name, t]));
  const weights = whole.graph.initializers.filter((t) => (t.rawData?.length ?? 0) >= 64 * 1024);
  expect(weights.length).toBeGreaterThan(0);
  for (const t of weights) expect(Buffer.from(tensorBytes(byName.get(t.name)!)).equals(Buffer.from(tensorBytes(t))), t.name).toBe(true);
}

describe('export reads no large weight into memory', () => {
  it('from a shared-base folder: copies the base weights from base.data into the exported model', async () => {
    const file = synthetic('export.onnx', 14);
    const out = join(mkdtempSync(join(scratch, 'out-export-')), 'out');
    expect((await cli(['compile', join(process.cwd(), 'specs/houlsby.adp'), file, '-o', out, '--layout', 'shared-base'])).code).toBe(0);
    const exported = join(scratch, 'exported.onnx');
    const before = deferredReads();
    const r = await cli(['export', out, '-o', exported]);
    expect(r.code, r.stderr).toBe(0);
    expect(deferredReads()).toBe(before);
    await expectLargeWeightsOf(file, exported);
  });

  describe('from a default folder: the frozen weights are compared with the checkpoint in the files, a chunk at a time', () => {
    let file: string;
    let out: string;
    beforeAll(async () => {
      // A vocabulary of 20,000: the word embeddings (5 MB) span two of the comparison's 4 MiB chunks.
      file = synthetic('export-default.onnx', 15, 20_000);
      out = join(mkdtempSync(join(scratch, 'out-export-default-')), 'out');
      expect((await cli(['compile', join(process.cwd(), 'specs/houlsby.adp'), file, '-o', out])).code).toBe(0);
    });

    it('the compiled checkpoint, and a trained one beside it (another file with the same frozen weights)', async () => {
      for (const trained of [false, true]) {
        if (trained) {
          mkdirSync(join(out, 'trained'), { recursive: true });
          copyFileSync(join(out, 'checkpoint'), join(out, 'trained', 'checkpoint'));
        }
        const exported = join(scratch, `exported-default-${trained}.onnx`);
        const before = deferredReads();
        const r = await cli(['export', out, '-o', exported]);
        expect(r.code, r.stderr).toBe(0);
        expect(r.stdout).toContain(trained ? join('trained', 'checkpoint') : 'checkpoint');
        expect(deferredReads()).toBe(before);
        await expectLargeWeightsOf(file, exported);
      }
    });

    it('a checkpoint whose frozen weights differ in one byte, past the first chunk, is refused (ADP5055)', async () => {
      const changed = join(scratch, 'changed-checkpoint');
      const bytes = readFileSync(join(out, 'checkpoint'));
      const frozen = decodeCheckpoint(bytes).frozen.find((t) => t.name === 'bert.embeddings.word_embeddings.weight')!;
      bytes[frozen.rawData!.byteOffset - bytes.byteOffset + frozen.rawData!.length - 1]! ^= 1;
      writeFileSync(changed, bytes);
      const r = await cli(['export', out, '-o', join(scratch, 'refused.onnx'), '--checkpoint', changed]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('ADP5055');
      expect(r.stderr).toContain('bert.embeddings.word_embeddings.weight');
    });

    it('--adapters-only hashes the base from the files, and attaching copies it from the base model', async () => {
      const adapters = join(scratch, 'task.adapters');
      const before = deferredReads();
      const r = await cli(['export', out, '--adapters-only', '-o', adapters]);
      expect(r.code, r.stderr).toBe(0);
      const attached = join(scratch, 'attached.onnx');
      const a = await cli(['export', '--base', file, '--adapters', adapters, '-o', attached]);
      expect(a.code, a.stderr).toBe(0);
      expect(deferredReads()).toBe(before);
      await expectLargeWeightsOf(file, attached);
    });
  });
});

describe('compile reads no large weight into memory', () => {
  it('--inference: the adapted model holds the weights, copied from the model file', async () => {
    const file = synthetic('compile-inference.onnx', 13);
    const out = join(mkdtempSync(join(scratch, 'out-inference-')), 'out');
    const before = deferredReads();
    const r = await cli(['compile', join(process.cwd(), 'specs/houlsby.adp'), file, '-o', out, '--inference']);
    expect(r.code, r.stderr).toBe(0);
    expect(deferredReads()).toBe(before);
    await expectLargeWeightsOf(file, join(out, 'model.adapted.onnx'));
  });

  for (const layout of ['default', 'shared-base']) {
    it(`--layout ${layout}: the artifacts hold the model's weights, copied from its file`, async () => {
      const file = synthetic(`compile-${layout}.onnx`, 10);
      const out = join(mkdtempSync(join(scratch, `out-${layout}-`)), 'out');
      const before = deferredReads();
      const r = await cli(['compile', join(process.cwd(), 'specs/houlsby.adp'), file, '-o', out, '--layout', layout, '--timings']);
      expect(r.code, r.stderr).toBe(0);
      expect(deferredReads()).toBe(before);
      // The big file is written while the gradients are built, and is the right one the first time.
      expect(r.stderr).toContain(layout === 'default' ? 'wait for the checkpoint' : 'wait for base.data');
      expect(r.stderr).not.toContain('it differed');
      // The frozen weights arrived intact: in the checkpoint (default) or base.data (shared-base).
      await expectLargeWeightsOf(file, join(out, 'model.adapted.onnx'));
    });
  }
});

describe('the checkpoint written early', () => {
  it('is kept only if the built checkpoint is the same file (bytes, and the same ranges of the same file)', async () => {
    const file = synthetic('same.onnx', 11);
    const model = await readModel(file, { deferTensorsFrom: 4096 });
    const frozen = model.graph.initializers.filter(isParameter);
    const encode = (tensors: Tensor[]) => encodeCheckpointParts({ trainable: [], frozen: tensors });
    expect(sameCheckpoint(encode(frozen), encode(frozen))).toBe(true);
    // One weight fewer, or two swapped: another file.
    expect(sameCheckpoint(encode(frozen), encode(frozen.slice(1)))).toBe(false);
    const swapped = [frozen[1]!, frozen[0]!, ...frozen.slice(2)];
    expect(sameCheckpoint(encode(frozen), encode(swapped))).toBe(false);
    // The same names and sizes with other bytes (a weight replaced in memory by zeros): another file.
    const big = frozen.findIndex((t) => deferredRange(t) !== undefined);
    const zeroed: Tensor = { name: frozen[big]!.name!, dims: [...frozen[big]!.dims], dataType: frozen[big]!.dataType!, rawData: new Uint8Array(deferredRange(frozen[big]!)!.length) };
    const changed = frozen.map((t, i) => (i === big ? zeroed : t));
    expect(sameCheckpoint(encode(frozen), encode(changed))).toBe(false);
  });
});
