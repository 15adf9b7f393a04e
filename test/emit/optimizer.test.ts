/** The optimizer model: the interface the training runtime checks, attributes, sequence types, refusals. */
import { describe, expect, it } from 'vitest';
import { AdapterError } from '../../src/diagnostics/index.js';
import { buildOptimizerModel, isSequenceOf, OPTIMIZER_INPUTS, sequenceValueInfo } from '../../src/emit/optimizer.js';
import { attrFloat, attrInt, DataType, dumpGraph, elemTypeOf, formatValueType, shapeOf } from '../../src/ir/index.js';
import { decodeModel, encodeModel } from '../../src/load/index.js';

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    if (error instanceof AdapterError) return error.diagnostics[0]!.code;
    throw error;
  }
  return undefined;
}

describe('AdamW optimizer model', () => {
  const { model, warnings } = buildOptimizerModel({ optimizer: { kind: 'adamw' }, trainable: ['w', 'b'] });

  it('has the inputs the runtime checks, by name, order and type', () => {
    const inputs = model.graph.inputs;
    expect(inputs.map((v) => v.name)).toEqual([...OPTIMIZER_INPUTS.adamw]);
    expect(formatValueType(inputs[0]!)).toBe('float32[1]');
    expect(formatValueType(inputs[1]!)).toBe('int64[1]');
    for (const v of inputs.slice(2)) expect(isSequenceOf(v, DataType.FLOAT)).toBe(true);
    expect(isSequenceOf(inputs[0]!, DataType.FLOAT)).toBe(false);
  });

  it('returns a bool[1] flag from one com.microsoft AdamWOptimizer node', () => {
    expect(model.graph.outputs).toHaveLength(1);
    expect(elemTypeOf(model.graph.outputs[0]!)).toBe(DataType.BOOL);
    expect(shapeOf(model.graph.outputs[0]!)).toEqual([1]);
    expect(model.graph.nodes).toHaveLength(1);
    const node = model.graph.nodes[0]!;
    expect([node.domain, node.opType]).toEqual(['com.microsoft', 'AdamWOptimizer']);
    expect(node.inputs).toEqual([...OPTIMIZER_INPUTS.adamw]);
    expect(model.opsetImports).toEqual([
      { domain: '', version: 17 },
      { domain: 'com.microsoft', version: 1 },
    ]);
  });

  it('uses the spec defaults and PyTorch AdamW (adam_mode 0) with bias correction', () => {
    const node = model.graph.nodes[0]!;
    expect(attrFloat(node, 'alpha')).toBe(Math.fround(0.9));
    expect(attrFloat(node, 'beta')).toBe(Math.fround(0.999));
    expect(attrFloat(node, 'epsilon')).toBe(Math.fround(1e-8));
    expect(attrFloat(node, 'weight_decay')).toBe(Math.fround(0.01));
    expect(attrInt(node, 'correct_bias')).toBe(1);
    expect(attrInt(node, 'adam_mode')).toBe(0);
    expect(warnings).toEqual([]);
  });

  it('takes every setting', () => {
    const node = buildOptimizerModel({
      optimizer: { kind: 'adamw', beta1: 0.8, beta2: 0.99, epsilon: 1e-6, weightDecay: 0, correctBias: false, mode: 'huggingface' },
      trainable: ['w'],
      opset: 14,
    }).model.graph.nodes[0]!;
    expect([attrFloat(node, 'alpha'), attrFloat(node, 'beta'), attrFloat(node, 'epsilon'), attrFloat(node, 'weight_decay')]).toEqual(
      [0.8, 0.99, 1e-6, 0].map(Math.fround),
    );
    expect([attrInt(node, 'correct_bias'), attrInt(node, 'adam_mode')]).toEqual([0, 1]);
  });

  it('survives encoding and decoding byte for byte (the sequence types are preserved fields)', () => {
    const bytes = encodeModel(model);
    const decoded = decodeModel(bytes, 'optimizer_model.onnx');
    expect(Buffer.from(encodeModel(decoded)).equals(bytes)).toBe(true);
    for (const v of decoded.graph.inputs.slice(2)) expect(isSequenceOf(v, DataType.FLOAT)).toBe(true);
    expect(dumpGraph(decoded)).toContain('input params: non-tensor');
  });

  it('encodes seq(tensor(float)) as onnx.proto does', () => {
    // TypeProto { sequence_type (4) { elem_type (1) { tensor_type (1) { elem_type (1) = 1 } } } }
    const raw = sequenceValueInfo('s', DataType.FLOAT).type!.preserved![0]!;
    expect(raw.field).toBe(4);
    expect([...raw.bytes]).toEqual([0x22, 6, 0x0a, 4, 0x0a, 2, 0x08, 1]);
  });

  it('scales the learning rate inside the graph on request', () => {
    const scaled = buildOptimizerModel({ optimizer: { kind: 'adamw' }, trainable: ['w'], learningRateScale: 0.1 }).model;
    const [mul, adamw] = scaled.graph.nodes;
    expect(mul!.opType).toBe('Mul');
    expect(mul!.inputs[0]).toBe('learning_rate');
    expect(adamw!.inputs[0]).toBe(mul!.outputs[0]);
    expect(scaled.graph.inputs.map((v) => v.name)).toEqual([...OPTIMIZER_INPUTS.adamw]);
  });

  it('warns that weight decay also reaches no_decay parameters, unless it is zero', () => {
    const noDecay = ['l0.bias', 'l0.ln.weight', 'l0.ln.bias', 'l1.bias', 'l1.ln.weight'];
    const decayed = buildOptimizerModel({ optimizer: { kind: 'adamw', weightDecay: 0.01 }, trainable: ['w', ...noDecay], noDecay });
    expect(decayed.warnings.map((d) => d.code)).toEqual(['ADP3110']);
    expect(decayed.warnings[0]!.severity).toBe('warning');
    expect(decayed.warnings[0]!.message).toContain("5 parameter(s) that 'no_decay' excludes ('l0.bias', 'l0.ln.weight', 'l0.ln.bias', 'l1.bias', …)");
    expect(buildOptimizerModel({ optimizer: { kind: 'adamw', weightDecay: 0 }, trainable: ['w', ...noDecay], noDecay }).warnings).toEqual([]);
  });

  it('refuses no trainable parameters and settings out of range', () => {
    expect(codeOf(() => buildOptimizerModel({ optimizer: { kind: 'adamw' }, trainable: [] }))).toBe('ADP3108');
    for (const bad of [{ beta1: 1 }, { beta2: -0.1 }, { epsilon: 0 }, { weightDecay: -1 }, { weightDecay: Number.NaN }]) {
      expect(codeOf(() => buildOptimizerModel({ optimizer: { kind: 'adamw', ...bad }, trainable: ['w'] }))).toBe('ADP3109');
    }
    expect(codeOf(() => buildOptimizerModel({ optimizer: { kind: 'adamw' }, trainable: ['w'], learningRateScale: 0 }))).toBe('ADP3109');
  });
});

describe('SGD optimizer model', () => {
  it('takes the SGD inputs and returns a scalar flag (what SGDOptimizerV2 infers)', () => {
    const { model } = buildOptimizerModel({ optimizer: { kind: 'sgd' }, trainable: ['w'] });
    expect(model.graph.inputs.map((v) => v.name)).toEqual([...OPTIMIZER_INPUTS.sgd]);
    const node = model.graph.nodes[0]!;
    expect([node.domain, node.opType]).toEqual(['com.microsoft', 'SGDOptimizerV2']);
    expect(node.inputs).toEqual(['learning_rate', 'params', 'gradients']);
    expect(formatValueType(model.graph.outputs[0]!)).toBe('bool[]');
  });
});
