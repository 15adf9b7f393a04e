/**
 * Fields adapterc's schema does not model survive a round trip byte for byte, in their place;
 * unknown ones are reported.
 */
import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { DataType, dumpGraph, makeTensor, makeValueInfo, type Model, type RawField } from '../../src/ir/index.js';
import { decodeModel, encodeModel, unknownFields, unknownFieldsWarning } from '../../src/load/index.js';
import { Writer } from '../../src/load/wire.js';

function field(write: (w: Writer) => void): Uint8Array {
  const w = new Writer();
  write(w);
  return w.joined();
}

const raw = (number: number, write: (w: Writer) => void): RawField => ({ field: number, bytes: field(write) });

function modelWithExtraFields(): Model {
  const weight = makeTensor('w', [2], new Float32Array([1, 2]));
  // TensorProto field 3 (segment) is known but not modelled; it sits between data_type and float_data.
  weight.preserved = [raw(3, (w) => w.messageField(3, (s) => s.varintField(1, 0)))];
  return {
    irVersion: 8,
    opsetImports: [{ domain: '', version: 13 }],
    metadata: [{ key: 'author', value: 'test' }],
    // ModelProto field 99: unknown.
    preserved: [raw(99, (w) => w.varintField(99, 12345))],
    graph: {
      name: 'g',
      nodes: [
        {
          opType: 'Add',
          inputs: ['x', 'w'],
          outputs: ['y'],
          attributes: [],
          // NodeProto field 9 (metadata_props, ONNX 1.16) is known; field 50 is not.
          preserved: [
            raw(9, (w) => w.messageField(9, (e) => e.stringField(1, 'k'))),
            raw(50, (w) => w.stringField(50, 'future')),
          ],
        },
      ],
      initializers: [weight],
      inputs: [makeValueInfo('x', DataType.FLOAT, [2])],
      outputs: [makeValueInfo('y', DataType.FLOAT, [2])],
      valueInfo: [],
    },
  };
}

describe('fields the IR does not model', () => {
  it('are kept byte for byte and in field-number order', () => {
    const bytes = encodeModel(modelWithExtraFields());
    const decoded = decodeModel(bytes, 'extra.onnx');
    expect(Buffer.compare(encodeModel(decoded), bytes)).toBe(0);
    const node = decoded.graph.nodes[0]!;
    expect(node.preserved?.map((f) => f.field)).toEqual([9, 50]);
    expect(decoded.graph.initializers[0]!.preserved?.map((f) => f.field)).toEqual([3]);
  });

  it('reports only the fields onnx.proto does not define', () => {
    const decoded = decodeModel(encodeModel(modelWithExtraFields()), 'extra.onnx');
    expect(unknownFields(decoded)).toEqual([
      { message: 'ModelProto', field: 99, count: 1 },
      { message: 'NodeProto', field: 50, count: 1 },
    ]);
    const warning = unknownFieldsWarning(decoded, 'extra.onnx');
    expect(warning?.code).toBe('ADP2014');
    expect(warning?.severity).toBe('warning');
    expect(warning?.message).toBe(
      "The model file 'extra.onnx' has fields this version of adapterc does not know (ModelProto field 99, NodeProto field 50); they are kept unchanged.",
    );
  });

  it('treats a known field with an unexpected wire type as unknown, and keeps it', () => {
    // OperatorSetIdProto.version (2) as a length-delimited field.
    const opset = field((w) => w.messageField(8, (o) => o.stringField(2, 'not a number')));
    const graph = field((w) => w.messageField(7, (g) => g.stringField(2, 'g')));
    const bytes = Buffer.concat([graph, opset]);
    const model = decodeModel(bytes, 'odd.onnx');
    expect(model.opsetImports[0]!.version).toBeUndefined();
    expect(unknownFields(model)).toEqual([{ message: 'OperatorSetIdProto', field: 2, count: 1 }]);
    expect(Buffer.compare(encodeModel(model), bytes)).toBe(0);
  });

  it('are marked in the dump', () => {
    const dump = dumpGraph(decodeModel(encodeModel(modelWithExtraFields()), 'extra.onnx'));
    expect(dump).toContain('node Add(x, w) -> (y) +preserved(9, 50)');
  });

  it('reports nothing for a model without them', () => {
    const model = modelWithExtraFields();
    delete model.preserved;
    delete model.graph.nodes[0]!.preserved;
    expect(unknownFieldsWarning(decodeModel(encodeModel(model), 'plain.onnx'), 'plain.onnx')).toBeUndefined();
  });
});
