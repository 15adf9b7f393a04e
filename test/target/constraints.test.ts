/**
 * Types bound by the operators' type constraints: for every op that appears in a graph adapterc emits
 * for the corpus, each of its type constraints exercised with a type ONNX Runtime's CUDA kernel
 * takes (covered) and, where one exists, a type it does not (a fallback naming that constraint).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { attr, cloneModel, DataType, makeTensor, makeValueInfo, nodeLabel, type Attribute, type Model } from '../../src/ir/index.js';
import { readModel } from '../../src/load/index.js';
import { CUDA_KERNELS } from '../../src/target/cuda-kernels.data.js';
import { findKernel } from '../../src/target/kernels.js';
import { root } from '../artifacts/harness.js';
import { cli } from '../helpers/cli.js';
import { corpusEntries, corpusPath, corpusSkipReason } from '../load/corpus.js';
import { sequenceValueInfo } from '../../src/emit/optimizer.js';
import { checkCudaCoverage, coverageOfSameNodes } from '../../src/target/cuda.js';
import { inferElementTypes } from '../../src/target/element-types.js';
import { bindConstraints, findSchema, formalAt } from '../../src/target/schemas.js';

const T = DataType;

/** A one-node model: graph inputs of the given types (named in0, in1, ...; '' leaves an input out). */
function oneNode(op: string, opset: number, inputTypes: readonly (number | '')[], attributes: Attribute[] = [], outputs = 1, domain = ''): Model {
  const names = inputTypes.map((t, i) => (t === '' ? '' : `in${i}`));
  return {
    irVersion: 8,
    opsetImports: domain === '' ? [{ domain: '', version: opset }] : [{ domain: '', version: 17 }, { domain, version: opset }],
    metadata: [],
    graph: {
      name: 'g',
      nodes: [{ opType: op, name: 'n', domain: domain === '' ? undefined : domain, inputs: names, outputs: Array.from({ length: outputs }, (_, i) => `out${i}`), attributes }],
      initializers: [],
      inputs: inputTypes.flatMap((t, i) => (t === '' ? [] : [makeValueInfo(`in${i}`, t, [2])])),
      outputs: [makeValueInfo('out0', T.FLOAT, [2])],
      valueInfo: [],
    },
  };
}

function fallbacks(model: Model) {
  return checkCudaCoverage(model, 'training_model.onnx').fallbacks;
}

interface Case {
  readonly op: string;
  readonly opset: number;
  readonly inputs: readonly (number | '')[];
  readonly attributes?: Attribute[];
  readonly outputs?: number;
  readonly domain?: string;
  /** Types the node's outputs get (in ONNX Runtime's names). */
  readonly outputTypes?: readonly string[];
}

/** ConstantOfShape's `value`: a one-element tensor of the given type. */
function value(dataType: number): Attribute {
  if (dataType === T.STRING) return attr.tensor('value', { name: '', dims: [1], dataType, stringData: [new Uint8Array()] });
  return attr.tensor('value', makeTensor('', [1], dataType === T.INT64 ? new BigInt64Array([0n]) : new Float32Array([0]), dataType));
}

// Each op: a node ONNX Runtime runs on CUDA, and (where one exists) one it cannot, with the
// constraint that decides it.
const covered: Array<[string, Case]> = [
  ['Where: B is the bool condition, T the values', { op: 'Where', opset: 11, inputs: [T.BOOL, T.FLOAT, T.FLOAT], outputTypes: ['float'] }],
  ['Where at opset 16, int64 values', { op: 'Where', opset: 16, inputs: [T.BOOL, T.INT64, T.INT64], outputTypes: ['int64_t'] }],
  ['Expand: T float, the shape fixed int64', { op: 'Expand', opset: 13, inputs: [T.FLOAT, T.INT64], outputTypes: ['float'] }],
  ['Expand of bool', { op: 'Expand', opset: 8, inputs: [T.BOOL, T.INT64], outputTypes: ['bool'] }],
  ['Gather: Tind int64', { op: 'Gather', opset: 13, inputs: [T.FLOAT, T.INT64], outputTypes: ['float'] }],
  ['Gather: Tind int32 (keras2onnx ids)', { op: 'Gather', opset: 10, inputs: [T.FLOAT, T.INT32], outputTypes: ['float'] }],
  ['GatherElements: Tind int64', { op: 'GatherElements', opset: 13, inputs: [T.FLOAT, T.INT64], outputTypes: ['float'] }],
  ['ScatterElements: T float, Tind int64', { op: 'ScatterElements', opset: 16, inputs: [T.FLOAT, T.INT64, T.FLOAT], outputTypes: ['float'] }],
  ['Cast: T1 int64 to T2 float', { op: 'Cast', opset: 13, inputs: [T.INT64], attributes: [attr.int('to', T.FLOAT)], outputTypes: ['float'] }],
  ['Cast: T1 bool to T2 float', { op: 'Cast', opset: 9, inputs: [T.BOOL], attributes: [attr.int('to', T.FLOAT)], outputTypes: ['float'] }],
  ['Range: T int64', { op: 'Range', opset: 11, inputs: [T.INT64, T.INT64, T.INT64], outputTypes: ['int64_t'] }],
  ['Equal: T int64, T1 the bool output', { op: 'Equal', opset: 13, inputs: [T.INT64, T.INT64], outputTypes: ['bool'] }],
  ['ConstantOfShape: T1 int64, T2 float from value', { op: 'ConstantOfShape', opset: 9, inputs: [T.INT64], attributes: [value(T.FLOAT)], outputTypes: ['float'] }],
  ['ConstantOfShape without value: float zeros', { op: 'ConstantOfShape', opset: 9, inputs: [T.INT64], outputTypes: ['float'] }],
  ['Shape: T float, T1 the int64 output', { op: 'Shape', opset: 15, inputs: [T.FLOAT], outputTypes: ['int64_t'] }],
  ['Size: int64 output', { op: 'Size', opset: 13, inputs: [T.FLOAT], outputTypes: ['int64_t'] }],
  ['Slice: T float, Tind int64 (the starts, ends)', { op: 'Slice', opset: 13, inputs: [T.FLOAT, T.INT64, T.INT64, T.INT64, T.INT64], outputTypes: ['float'] }],
  ['Slice at opset 9: no index inputs', { op: 'Slice', opset: 9, inputs: [T.FLOAT], attributes: [attr.ints('starts', [0]), attr.ints('ends', [1])], outputTypes: ['float'] }],
  ['Unsqueeze: T int64, axes fixed int64', { op: 'Unsqueeze', opset: 13, inputs: [T.INT64, T.INT64], outputTypes: ['int64_t'] }],
  ['Concat: variadic T', { op: 'Concat', opset: 13, inputs: [T.INT64, T.INT64, T.INT64], attributes: [attr.int('axis', 0)], outputTypes: ['int64_t'] }],
  ['Sum: variadic T float', { op: 'Sum', opset: 13, inputs: [T.FLOAT, T.FLOAT, T.FLOAT], outputTypes: ['float'] }],
  ['Pow: T float, T1 float', { op: 'Pow', opset: 13, inputs: [T.FLOAT, T.FLOAT], outputTypes: ['float'] }],
  ['ReduceSum: axes fixed int64', { op: 'ReduceSum', opset: 13, inputs: [T.FLOAT, T.INT64], outputTypes: ['float'] }],
  ['LayerNormalization 17: T float, U float (Mean)', { op: 'LayerNormalization', opset: 17, inputs: [T.FLOAT, T.FLOAT, T.FLOAT], outputs: 3, outputTypes: ['float', 'float', 'float'] }],
  ['LayerNormalization below 17 (ONNX Runtime\'s own): T, U, V', { op: 'LayerNormalization', opset: 14, inputs: [T.FLOAT, T.FLOAT, T.FLOAT], outputs: 1, outputTypes: ['float'] }],
  ['Dropout: the mask is bool', { op: 'Dropout', opset: 13, inputs: [T.FLOAT], outputs: 2, outputTypes: ['float', 'bool'] }],
  ['com.microsoft SkipLayerNormalization: U is float', { op: 'SkipLayerNormalization', opset: 1, domain: 'com.microsoft', inputs: [T.FLOAT, T.FLOAT, T.FLOAT, T.FLOAT], outputs: 1, outputTypes: ['float'] }],
  ['com.microsoft Attention: M int32 mask', { op: 'Attention', opset: 1, domain: 'com.microsoft', inputs: [T.FLOAT, T.FLOAT, T.FLOAT, T.INT32], outputTypes: ['float'] }],
  ['com.microsoft InPlaceAccumulatorV2: T, T_GRAD float; bool flag', { op: 'InPlaceAccumulatorV2', opset: 1, domain: 'com.microsoft', inputs: [T.FLOAT, T.FLOAT, T.BOOL], outputs: 1, outputTypes: ['bool'] }],
];

// A node whose types have no CUDA kernel in the table, and the constraint that says so.
const uncovered: Array<[string, Case, string]> = [
  ['Where of int8 values', { op: 'Where', opset: 16, inputs: [T.BOOL, T.INT8, T.INT8] }, 'T = int8_t'],
  ['Expand of strings', { op: 'Expand', opset: 13, inputs: [T.STRING, T.INT64] }, 'T = string'],
  ['Gather with int16 indices', { op: 'Gather', opset: 13, inputs: [T.FLOAT, T.INT16] }, 'Tind = int16_t'],
  ['GatherElements with int16 indices', { op: 'GatherElements', opset: 13, inputs: [T.FLOAT, T.INT16] }, 'Tind = int16_t'],
  ['ScatterElements with int16 indices', { op: 'ScatterElements', opset: 16, inputs: [T.FLOAT, T.INT16, T.FLOAT] }, 'Tind = int16_t'],
  ['Cast from string (T1)', { op: 'Cast', opset: 13, inputs: [T.STRING], attributes: [attr.int('to', T.FLOAT)] }, 'T1 = string'],
  ['Cast to string (T2)', { op: 'Cast', opset: 13, inputs: [T.FLOAT], attributes: [attr.int('to', T.STRING)] }, 'T2 = string'],
  ['Range of int8', { op: 'Range', opset: 11, inputs: [T.INT8, T.INT8, T.INT8] }, 'T = int8_t'],
  ['Equal of int8', { op: 'Equal', opset: 13, inputs: [T.INT8, T.INT8] }, 'T = int8_t'],
  ['ConstantOfShape of strings (T2)', { op: 'ConstantOfShape', opset: 9, inputs: [T.INT64], attributes: [value(T.STRING)] }, 'T2 = string'],
  ['Shape of strings', { op: 'Shape', opset: 15, inputs: [T.STRING] }, 'T = string'],
  ['Slice with int16 starts (Tind)', { op: 'Slice', opset: 13, inputs: [T.FLOAT, T.INT16, T.INT16] }, 'Tind = int16_t'],
  ['Sum of int64', { op: 'Sum', opset: 13, inputs: [T.INT64, T.INT64] }, 'T = int64_t'],
  ['Pow with an int8 exponent (T1)', { op: 'Pow', opset: 13, inputs: [T.FLOAT, T.INT8] }, 'T1 = int8_t'],
  ['Add of int8', { op: 'Add', opset: 14, inputs: [T.INT8, T.INT8] }, 'T = int8_t'],
];

describe('a node whose types have a CUDA kernel is covered', () => {
  it.each(covered)('%s', (_, c) => {
    const model = oneNode(c.op, c.opset, c.inputs, c.attributes, c.outputs ?? 1, c.domain);
    expect(fallbacks(model)).toEqual([]);
    const types = inferElementTypes(model);
    expect(Array.from({ length: c.outputs ?? 1 }, (__, i) => types.get(`out${i}`))).toEqual(c.outputTypes);
  });
});

describe('a node whose types have no CUDA kernel is named with the constraint that decides it', () => {
  it.each(uncovered)('%s', (_, c, binding) => {
    const [fallback, ...more] = fallbacks(oneNode(c.op, c.opset, c.inputs, c.attributes, c.outputs ?? 1, c.domain));
    expect(more).toEqual([]);
    expect(fallback).toMatchObject({ node: `'n' (${c.op})`, op: c.op });
    expect(fallback!.reason).toMatch(new RegExp(`^its CUDA kernel for opsets \\S+ takes .*; here .*${binding.replace(/[()]/g, '\\$&')}`));
  });

  it('says which types the kernel takes, per constraint', () => {
    const [fallback] = fallbacks(oneNode('Gather', 13, [T.FLOAT, T.INT16]));
    expect(fallback!.reason).toBe(
      'its CUDA kernel for opsets 13+ takes T in float, double, int64_t, uint64_t, int32_t, uint32_t, int16_t, uint16_t, int8_t, uint8_t, MLFloat16, BFloat16, bool; Tind in int32_t, int64_t; here T = float, Tind = int16_t',
    );
  });
});

describe('binding types to constraints', () => {
  it('binds a variadic input on every position it covers', () => {
    const schema = findSchema('', 'Concat', 13)!;
    expect(bindConstraints(schema, ['float', 'float', 'float'], []).bound).toEqual(new Map([['inputs', 'float'], ['T', 'float']]));
    expect(bindConstraints(schema, ['float', 'int64_t'], []).conflicts).toEqual(['T']);
  });

  it('binds constraints and input names, leaving absent optional inputs unbound', () => {
    const slice = bindConstraints(findSchema('', 'Slice', 13)!, ['float', 'int64_t', 'int64_t', undefined, 'int64_t'], []).bound;
    expect(slice).toEqual(new Map([['data', 'float'], ['T', 'float'], ['starts', 'int64_t'], ['Tind', 'int64_t'], ['ends', 'int64_t'], ['steps', 'int64_t']]));
    // A fixed-type input binds its name only: ONNX Runtime's Reshape kernel constrains `shape` by name.
    expect(bindConstraints(findSchema('', 'Reshape', 14)!, ['float', 'int64_t'], []).bound).toEqual(new Map([['data', 'float'], ['T', 'float'], ['shape', 'int64_t']]));
  });

  it("matches a kernel that constrains an input by name (Reshape's shape)", () => {
    expect(fallbacks(oneNode('Reshape', 14, [T.FLOAT, T.INT64]))).toEqual([]);
    expect(fallbacks(oneNode('GatherND', 13, [T.FLOAT, T.INT64]))).toEqual([]);
  });

  it('takes the schema in force at the opset: the latest version not newer', () => {
    expect(findSchema('', 'Where', 15)!.since).toBe(9);
    expect(findSchema('', 'Where', 16)!.since).toBe(16);
    expect(findSchema('', 'LayerNormalization', 14)!.inputs.map((f) => f.type)).toEqual(['T', 'V', 'V']);
    expect(findSchema('', 'Where', 8)).toBeUndefined();
  });

  it("reads the training ops' schemas, whose optimizer takes sequences", () => {
    const schema = findSchema('com.microsoft', 'AdamWOptimizer', 1)!;
    expect(schema.inputs.map((f) => f.type)).toEqual(['T1', 'T2', 'S_WEIGHT', 'S_GRAD', 'S_MOMENT', 'S_MOMENT', 'T_BOOL']);
    expect(schema.outputs[0]).toEqual({ name: 'updated_flag', type: 'T2', fixed: false, option: 'single' });
  });

  it("binds the optimizer's sequence inputs as seq(float) and its flag output as int64", () => {
    const model = oneNode('AdamWOptimizer', 1, [T.FLOAT, T.INT64], [], 1, 'com.microsoft');
    const node = model.graph.nodes[0]!;
    node.inputs = ['in0', 'in1', 'w', 'g', 'm1', 'm2'];
    model.graph.inputs.push(...['w', 'g', 'm1', 'm2'].map((n) => sequenceValueInfo(n, T.FLOAT)));
    const types = inferElementTypes(model);
    expect(['w', 'out0'].map((v) => types.get(v))).toEqual(['seq(float)', 'int64_t']);
    expect(fallbacks(model)).toEqual([]);
    // The kernel registers every fixed-size sequence type (it checks float at run time), not strings.
    model.graph.inputs.splice(2, 1, sequenceValueInfo('w', T.STRING));
    expect(fallbacks(model)[0]!.reason).toMatch(/here .*S_WEIGHT = seq\(string\)/);
  });
});

describe('element types do not depend on the order of the nodes in the file', () => {
  // x (float) -> Cast(int64) -> c -> Shape... written consumer first: typing in file order would
  // see Mul's input before Cast has typed it.
  const chain = (order: 'sorted' | 'reversed'): Model => {
    const model = oneNode('Cast', 13, [T.FLOAT], [attr.int('to', T.INT64)]);
    const [cast] = model.graph.nodes;
    const mul = { opType: 'Mul', name: 'm', inputs: ['out0', 'out0'], outputs: ['product'], attributes: [] };
    const untyped = { opType: 'NotAnOnnxOp', domain: 'example.custom', name: 'u', inputs: ['nowhere'], outputs: ['opaque'], attributes: [] };
    model.opsetImports.push({ domain: 'example.custom', version: 1 });
    model.graph.nodes = order === 'sorted' ? [cast!, mul, untyped] : [untyped, mul, cast!];
    return model;
  };

  it('gives a graph written out of order the types of the same graph sorted, and visits its nodes in topological order', () => {
    const visits = (model: Model) => {
      const seen: string[] = [];
      const types = inferElementTypes(model, undefined, (node, signature) => seen.push(`${node.name}:${signature.outputs.join(',')}`));
      return { types: [...types].sort(), seen };
    };
    const sorted = visits(chain('sorted'));
    expect(sorted.types).toContainEqual(['product', 'int64_t']);
    // A value no node or input provides, and an op without a schema fed by it, stay untyped.
    expect(sorted.types.map(([name]) => name)).not.toContain('opaque');
    const reversed = visits(chain('reversed'));
    expect(reversed.types).toEqual(sorted.types);
    expect(reversed.seen).toEqual(['u:', 'n:int64_t', 'm:int64_t']);
    expect(sorted.seen).toEqual(['n:int64_t', 'm:int64_t', 'u:']);
  });
});

describe('the coverage of a model with the same nodes as one checked', () => {
  // A fallback (Gather's int16 indices), so that the reused coverage has one to relabel.
  const checked = oneNode('Gather', 13, [T.FLOAT, T.INT16]);
  const coverage = checkCudaCoverage(checked, 'eval_model.onnx');

  it('is the checked one, for the new artifact, when nodes, opsets and starting types are the same', () => {
    // The step eval model's way: the same Node objects, an input turned into an initializer of its type.
    const frozen = cloneModel(checked, { nodes: 'shared' });
    frozen.graph.inputs = frozen.graph.inputs.filter((v) => v.name !== 'in0');
    frozen.graph.initializers.push(makeTensor('in0', [2], new Float32Array(2)));
    const reused = coverageOfSameNodes(frozen, 'step_eval_model.onnx', { model: checked, coverage });
    expect(reused).toEqual(checkCudaCoverage(frozen, 'step_eval_model.onnx'));
    expect(reused!.fallbacks).toHaveLength(1);
  });

  it('is not given when the nodes are copies, an opset or a starting type differs', () => {
    expect(coverageOfSameNodes(cloneModel(checked), 'x', { model: checked, coverage })).toBeUndefined();
    const opset = cloneModel(checked, { nodes: 'shared' });
    opset.opsetImports = [{ domain: '', version: 11 }];
    expect(coverageOfSameNodes(opset, 'x', { model: checked, coverage })).toBeUndefined();
    const retyped = cloneModel(checked, { nodes: 'shared' });
    retyped.graph.inputs = [retyped.graph.inputs[0]!, makeValueInfo('in1', T.INT32, [2])];
    expect(coverageOfSameNodes(retyped, 'x', { model: checked, coverage })).toBeUndefined();
    expect(checkCudaCoverage(retyped, 'x').fallbacks).toEqual([]);
  });
});

describe('in every graph adapterc emits for the corpus, every constraint a kernel checks is bound', () => {
  // An unbound constraint is not checked (as in ONNX Runtime, which could not match it either), so a
  // type inference that lost a value's type would hide a fallback. Here every node of the three
  // artifacts of every corpus model that compiles with houlsby.adp binds each constraint its kernel
  // declares, wherever a present input or output carries it.
  const exercised = new Set<string>();
  const runnable = corpusEntries().filter((e) => e.runs && !e.path.includes('ort-fused/') && !e.path.includes('torch_transformer_encoder'));
  it.skipIf(runnable.length === 0)(`binds every checked constraint${runnable.length === 0 ? ` (skipped: ${corpusSkipReason})` : ''}`, async () => {
    for (const entry of runnable) {
      const out = path.join(mkdtempSync(path.join(tmpdir(), 'adapterc-bind-')), 'out');
      const r = await cli(['compile', path.join(root, 'specs/houlsby.adp'), corpusPath(entry), '-o', out]);
      expect(r.code, r.stderr).toBe(0);
      for (const artifact of ['training_model.onnx', 'eval_model.onnx', 'optimizer_model.onnx']) {
        const model = await readModel(path.join(out, artifact));
        const types = inferElementTypes(model);
        for (const node of model.graph.nodes) {
          const domain = node.domain && node.domain !== 'ai.onnx' ? node.domain : '';
          const version = model.opsetImports.find((o) => (o.domain ?? '') === domain)?.version ?? 1;
          const row = findKernel(CUDA_KERNELS, domain, node.opType, version);
          const schema = findSchema(domain, node.opType, version);
          if (!row || !schema) continue;
          const { bound } = bindConstraints(schema, node.inputs.map((i) => (i ? types.get(i) : undefined)), node.outputs.map((o) => (o ? types.get(o) : undefined)));
          const carried = new Set([...node.inputs.map((i, k) => (i ? formalAt(schema.inputs, k) : undefined)), ...node.outputs.map((o, k) => (o ? formalAt(schema.outputs, k) : undefined))].flatMap((f) => (f ? [f.fixed ? f.name : f.type] : [])));
          for (const constraint of new Set(row.accepts.flatMap((a) => Object.keys(a)))) {
            if (!carried.has(constraint)) continue;
            expect(bound.get(constraint), `${entry.path} ${artifact} ${nodeLabel(node)}: ${constraint}`).toBeDefined();
            exercised.add(`${domain || 'ai.onnx'}:${node.opType}.${constraint}`);
          }
        }
      }
    }
    // The ops of these graphs, each with the constraints its kernel declares (a sample that must stay).
    for (const pair of ['ai.onnx:Gather.Tind', 'ai.onnx:Cast.T1', 'ai.onnx:Cast.T2', 'ai.onnx:Equal.T', 'ai.onnx:ConstantOfShape.T2', 'ai.onnx:Shape.T1', 'ai.onnx:Reshape.shape', 'com.microsoft:InPlaceAccumulatorV2.T_GRAD', 'com.microsoft:AdamWOptimizer.S_WEIGHT']) {
      expect([...exercised], pair).toContain(pair);
    }
  });
});
