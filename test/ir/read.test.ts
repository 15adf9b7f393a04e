/** Reading attributes, tensors, value types and opsets. */
import { readFileSync } from 'node:fs';
import { onnx } from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { AdapterError } from '../../src/diagnostics/index.js';
import {
  attr,
  attrFloat,
  attrInt,
  attrInts,
  attrString,
  attrTensor,
  contentHash,
  DataType,
  formatValueType,
  makeTensor,
  makeValueInfo,
  opset,
  readFloat32,
  readInt32,
  readNumbers,
  requireOpset,
  shapeOf,
  tensorBytes,
  type Node,
  type Tensor,
} from '../../src/ir/index.js';
import { decodeModel } from '../../src/load/index.js';
import { corpusEntries, corpusPath, describeCorpus } from '../load/corpus.js';
import { node } from './helpers.js';

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    return error instanceof AdapterError ? error.diagnostics[0]!.code : String(error);
  }
}

describe('attributes', () => {
  const n: Node = {
    ...node('Thing', ['x'], ['y'], 'thing'),
    attributes: [attr.int('axis', -1), attr.ints('perm', [0, 2, 1]), attr.float('epsilon', 1e-5), attr.string('mode', 'constant')],
  };

  it('reads each kind, with defaults for absent ones', () => {
    expect(attrInt(n, 'axis')).toBe(-1);
    expect(attrInts(n, 'perm')).toEqual([0, 2, 1]);
    expect(attrFloat(n, 'epsilon')).toBe(Math.fround(1e-5));
    expect(attrString(n, 'mode')).toBe('constant');
    expect(attrInt(n, 'keepdims', 1)).toBe(1);
    expect(attrInts(n, 'axes', [])).toEqual([]);
  });

  it('reports missing required attributes (ADP2015) and wrong kinds (ADP2016)', () => {
    expect(codeOf(() => attrInt(n, 'keepdims'))).toBe('ADP2015');
    expect(codeOf(() => attrFloat(n, 'axis'))).toBe('ADP2016');
    expect(codeOf(() => attrTensor(n, 'value'))).toBe('ADP2015');
  });

  it('reads attributes without a type, as IR version 1 models write them', () => {
    const old: Node = { ...node('Old', [], []), attributes: [{ name: 'axis', i: 3n }, { name: 'scale', f: 0.5 }] };
    expect(attrInt(old, 'axis')).toBe(3);
    expect(attrFloat(old, 'scale')).toBe(0.5);
  });
});

describe('tensors', () => {
  it('reads raw, typed and half-precision data', () => {
    const floats = makeTensor('f', [2, 2], new Float32Array([1, 2, 3, 4]));
    expect([...readFloat32(floats)]).toEqual([1, 2, 3, 4]);
    const typed: Tensor = { name: 'i', dims: [3], dataType: DataType.INT32, int32Data: new Int32Array([-1, 0, 7]) };
    expect([...readInt32(typed)]).toEqual([-1, 0, 7]);
    // float16 kept in int32_data, one value per element: 1.0 = 0x3c00, -2.0 = 0xc000.
    const half: Tensor = { name: 'h', dims: [2], dataType: DataType.FLOAT16, int32Data: new Int32Array([0x3c00, 0xc000]) };
    expect(readNumbers(half)).toEqual([1, -2]);
    expect(tensorBytes(half)).toEqual(new Uint8Array([0x00, 0x3c, 0x00, 0xc0]));
    const bools: Tensor = { name: 'b', dims: [2], dataType: DataType.BOOL, rawData: new Uint8Array([1, 0]) };
    expect(readNumbers(bools)).toEqual([1, 0]);
  });

  it('reports data that does not fit the shape as ADP2017', () => {
    const bad: Tensor = { name: 'bad', dims: [3], dataType: DataType.FLOAT, rawData: new Uint8Array(8) };
    expect(codeOf(() => readFloat32(bad))).toBe('ADP2017');
  });

  it('hashes contents, not storage', () => {
    const raw = makeTensor('a', [2], new Float32Array([1, 2]));
    const typed: Tensor = { name: 'b', dims: [2], dataType: DataType.FLOAT, floatData: new Float32Array([1, 2]) };
    expect(contentHash(raw)).toBe(contentHash(typed));
  });
});

describe('values and opsets', () => {
  it('describes value types', () => {
    const v = makeValueInfo('ids', DataType.INT64, ['batch', 8, undefined]);
    expect(shapeOf(v)).toEqual(['batch', 8, undefined]);
    expect(formatValueType(v)).toBe('int64[batch, 8, ?]');
    expect(formatValueType(makeValueInfo('s', DataType.FLOAT, []))).toBe('float32[]');
    expect(formatValueType(makeValueInfo('u', DataType.FLOAT))).toBe('float32[...]');
  });

  it("treats '' and 'ai.onnx' as the same domain", () => {
    const model = { opsetImports: [{ domain: 'ai.onnx', version: 16 }], metadata: [], graph: { nodes: [], initializers: [], inputs: [], outputs: [], valueInfo: [] } };
    expect(opset(model)).toBe(16);
    expect(opset(model, 'com.microsoft')).toBeUndefined();
    requireOpset(model, 'com.microsoft', 1);
    requireOpset(model, '', 14);
    expect(opset(model, '')).toBe(16);
    expect(opset(model, 'com.microsoft')).toBe(1);
  });
});

describeCorpus('reading corpus tensors', () => {
  it('gives the values protobufjs decodes, for every float32 initializer and Constant', () => {
    for (const entry of corpusEntries()) {
      const bytes = readFileSync(corpusPath(entry));
      const reference = onnx.ModelProto.decode(bytes);
      const model = decodeModel(bytes, entry.path);
      model.graph.initializers.forEach((t, i) => {
        const ref = reference.graph!.initializer![i]!;
        if (t.dataType !== DataType.FLOAT) return;
        const expected = ref.floatData?.length ? Float32Array.from(ref.floatData) : new Float32Array(new Uint8Array(ref.rawData!).buffer);
        const actual = readFloat32(t);
        expect(Buffer.compare(Buffer.from(actual.buffer, actual.byteOffset, actual.byteLength), Buffer.from(expected.buffer)), `${entry.path} ${t.name}`).toBe(0);
      });
      for (const n of model.graph.nodes.filter((x) => x.opType === 'Constant' && x.attributes.some((a) => a.name === 'value'))) {
        const t = attrTensor(n, 'value');
        expect(readNumbers(t).length).toBe(t.dims.reduce((a, b) => a * b, 1));
      }
    }
  });
});
