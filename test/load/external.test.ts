/** Tensors whose data lives in a side file: reading, writing (kept external or inlined), errors. */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { AdapterError } from '../../src/diagnostics/index.js';
import { DataLocation, DataType, makeTensor, makeValueInfo, readFloat32, type Model, type StringEntry } from '../../src/ir/index.js';
import { encodeModel, externalTensors, readModel, writeModel } from '../../src/load/index.js';
import { runModel } from './ort-inputs.js';

const scratch = mkdtempSync(join(tmpdir(), 'adapterc-external-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

let folders = 0;
function folder(): string {
  return mkdtempSync(join(scratch, `case${folders++}-`));
}

const WEIGHTS = Float32Array.from({ length: 6 }, (_, i) => i * 0.5 - 1);

/** y = x + w, with w (float32[2, 3]) as an initializer. */
function addModel(): Model {
  return {
    irVersion: 8,
    opsetImports: [{ domain: '', version: 13 }],
    producerName: 'adapterc-test',
    metadata: [],
    graph: {
      name: 'add',
      nodes: [{ opType: 'Add', inputs: ['x', 'w'], outputs: ['y'], attributes: [], name: 'add' }],
      initializers: [makeTensor('w', [2, 3], WEIGHTS)],
      inputs: [makeValueInfo('x', DataType.FLOAT, [2, 3])],
      outputs: [makeValueInfo('y', DataType.FLOAT, [2, 3])],
      valueInfo: [],
    },
  };
}

/** The add model with `w` pointing at a side file through the given external_data entries. */
function withExternalWeights(entries: StringEntry[]): Model {
  const model = addModel();
  const w = model.graph.initializers[0]!;
  delete w.rawData;
  w.dataLocation = DataLocation.EXTERNAL;
  w.externalData = entries;
  return model;
}

async function runAdd(path: string): Promise<number[]> {
  const x = new ort.Tensor('float32', new Float32Array(6).fill(1), [2, 3]);
  const { y } = await runModel(path, { x });
  return [...new Float32Array(y!.buffer, y!.byteOffset, 6)];
}

/** The code of the AdapterError `promise` rejects with. */
async function errorCode(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AdapterError);
  return (error as AdapterError).diagnostics[0]!.code;
}

describe('external data', () => {
  it('reads a side file at an offset, relative to the model folder', async () => {
    const dir = folder();
    const padding = Buffer.alloc(100, 0xee);
    writeFileSync(join(dir, 'weights.bin'), Buffer.concat([padding, Buffer.from(WEIGHTS.buffer), padding]));
    const entries = [
      { key: 'location', value: 'weights.bin' },
      { key: 'offset', value: '100' },
      { key: 'length', value: '24' },
    ];
    writeFileSync(join(dir, 'model.onnx'), encodeModel(withExternalWeights(entries)));

    const model = await readModel(join(dir, 'model.onnx'));
    const w = model.graph.initializers[0]!;
    expect([...readFloat32(w)]).toEqual([...WEIGHTS]);
    // The reference stays as it was until the model is written.
    expect(w.externalData).toEqual(entries);
    expect(await runAdd(join(dir, 'model.onnx'))).toEqual([...WEIGHTS].map((v) => v + 1));
  });

  it('reads to the end of the file when there is no length', async () => {
    const dir = folder();
    writeFileSync(join(dir, 'w.bin'), Buffer.concat([Buffer.alloc(8), Buffer.from(WEIGHTS.buffer)]));
    writeFileSync(join(dir, 'm.onnx'), encodeModel(withExternalWeights([{ key: 'location', value: 'w.bin' }, { key: 'offset', value: '8' }])));
    const model = await readModel(join(dir, 'm.onnx'));
    expect([...readFloat32(model.graph.initializers[0]!)]).toEqual([...WEIGHTS]);
  });

  it("writes external tensors to '<model>.data' next to the model, and ONNX Runtime reads them", async () => {
    const source = folder();
    writeFileSync(join(source, 'weights.bin'), Buffer.from(WEIGHTS.buffer));
    writeFileSync(join(source, 'model.onnx'), encodeModel(withExternalWeights([{ key: 'location', value: 'weights.bin' }])));
    const model = await readModel(join(source, 'model.onnx'));

    const target = folder();
    await writeModel(model, join(target, 'out.onnx'));
    expect(statSync(join(target, 'out.onnx.data')).size).toBe(24);
    const reread = await readModel(join(target, 'out.onnx'));
    const w = reread.graph.initializers[0]!;
    expect(w.externalData).toEqual([
      { key: 'location', value: 'out.onnx.data' },
      { key: 'offset', value: '0' },
      { key: 'length', value: '24' },
    ]);
    expect([...readFloat32(w)]).toEqual([...WEIGHTS]);
    expect(await runAdd(join(target, 'out.onnx'))).toEqual([...WEIGHTS].map((v) => v + 1));
  });

  it('inlines external tensors on request', async () => {
    const source = folder();
    writeFileSync(join(source, 'weights.bin'), Buffer.from(WEIGHTS.buffer));
    writeFileSync(join(source, 'model.onnx'), encodeModel(withExternalWeights([{ key: 'location', value: 'weights.bin' }])));
    const model = await readModel(join(source, 'model.onnx'));

    const target = folder();
    await writeModel(model, join(target, 'inline.onnx'), { externalData: 'inline' });
    expect(existsSync(join(target, 'inline.onnx.data'))).toBe(false);
    const reread = await readModel(join(target, 'inline.onnx'));
    expect(externalTensors(reread)).toEqual([]);
    expect(reread.graph.initializers[0]!.dataLocation).toBeUndefined();
    expect(await runAdd(join(target, 'inline.onnx'))).toEqual([...WEIGHTS].map((v) => v + 1));
  });

  it('can overwrite the model and side file it was read from', async () => {
    const dir = folder();
    const path = join(dir, 'm.onnx');
    const model = addModel();
    const w = model.graph.initializers[0]!;
    w.dataLocation = DataLocation.EXTERNAL;
    w.externalData = [{ key: 'location', value: 'ignored' }];
    await writeModel(model, path);
    const first = readFileSync(`${path}.data`);
    await writeModel(await readModel(path), path);
    expect(readFileSync(`${path}.data`)).toEqual(first);
    expect([...readFloat32((await readModel(path)).graph.initializers[0]!)]).toEqual([...WEIGHTS]);
  });

  it('aligns large tensors to 4096 bytes in the side file', async () => {
    const dir = folder();
    const model = addModel();
    const big = makeTensor('big', [300_000], new Float32Array(300_000).fill(2));
    model.graph.initializers.push(big);
    for (const t of model.graph.initializers) {
      t.dataLocation = DataLocation.EXTERNAL;
      t.externalData = [{ key: 'location', value: 'x' }];
    }
    await writeModel(model, join(dir, 'm.onnx'));
    const reread = await readModel(join(dir, 'm.onnx'));
    const offset = reread.graph.initializers[1]!.externalData!.find((e) => e.key === 'offset')!.value;
    expect(Number(offset) % 4096).toBe(0);
    expect(readFloat32(reread.graph.initializers[1]!)[299_999]).toBe(2);
  });

  describe('errors', () => {
    async function modelWith(entries: StringEntry[], sideFile?: Buffer): Promise<string> {
      const dir = folder();
      if (sideFile) writeFileSync(join(dir, 'weights.bin'), sideFile);
      writeFileSync(join(dir, 'model.onnx'), encodeModel(withExternalWeights(entries)));
      return join(dir, 'model.onnx');
    }

    it('ADP2007 when the side file is missing', async () => {
      const path = await modelWith([{ key: 'location', value: 'weights.bin' }]);
      expect(await errorCode(readModel(path))).toBe('ADP2007');
      const error = await readModel(path).catch((e: AdapterError) => e);
      expect((error as AdapterError).diagnostics[0]!.message).toBe("Tensor 'w' keeps its data in 'weights.bin', which does not exist.");
    });

    it('ADP2008 when the side file is too short', async () => {
      const path = await modelWith(
        [
          { key: 'location', value: 'weights.bin' },
          { key: 'offset', value: '4' },
          { key: 'length', value: '24' },
        ],
        Buffer.alloc(20),
      );
      expect(await errorCode(readModel(path))).toBe('ADP2008');
    });

    it('ADP2009 for locations outside the model folder and malformed numbers', async () => {
      for (const entries of [
        [{ key: 'location', value: '../weights.bin' }],
        [{ key: 'location', value: '/etc/passwd' }],
        [{ key: 'offset', value: '0' }],
        [
          { key: 'location', value: 'weights.bin' },
          { key: 'offset', value: 'twelve' },
        ],
      ]) {
        expect(await errorCode(readModel(await modelWith(entries, Buffer.from(WEIGHTS.buffer))))).toBe('ADP2009');
      }
    });

    it('leaves external data unread when asked to', async () => {
      const path = await modelWith([{ key: 'location', value: 'weights.bin' }]);
      const model = await readModel(path, { externalData: false });
      expect(model.graph.initializers[0]!.rawData).toBeUndefined();
    });
  });
});
