/**
 * Static shape inference, case by case: symbolic dims, the shape arithmetic exporters write, and
 * the messages for what cannot be inferred. (oracle.test.ts checks whole models against onnxruntime.)
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AdapterError } from '../../src/diagnostics/index.js';
import { attr, DataType, makeTensor, makeValueInfo, type Model, type Node, type Tensor, type ValueInfo } from '../../src/ir/index.js';
import { dims as d, inferShapes, inferShapeTable, shapeTable } from '../../src/shapes/index.js';
import { writeSyntheticBert } from '../../src/synth/index.js';
import { root } from '../artifacts/harness.js';
import { cli } from '../helpers/cli.js';
import { corpusEntries, corpusPath, describeCorpus } from '../load/corpus.js';
import { readModel } from '../../src/load/index.js';

const node = (opType: string, inputs: string[], outputs: string[], attributes: Node['attributes'] = [], name?: string): Node => ({ opType, inputs, outputs, attributes, ...(name ? { name } : {}) });
const int64s = (name: string, values: number[], dims = [values.length]): Tensor => makeTensor(name, dims, BigInt64Array.from(values.map(BigInt)));
const model = (nodes: Node[], inputs: ValueInfo[], outputs: string[], initializers: Tensor[] = [], opset = 17): Model => ({
  irVersion: 8,
  opsetImports: [{ domain: '', version: opset }],
  metadata: [],
  graph: { nodes, initializers, inputs, outputs: outputs.map((name) => ({ name })), valueInfo: [] },
});
const x = makeValueInfo('x', DataType.FLOAT, ['batch', 'sequence', 8]);
const show = (m: Model, value: string) => inferShapes(m, 'm.onnx').get(value)!.dims.map(d.toString);

function diagnosticOf(f: () => unknown): string {
  try {
    f();
  } catch (error) {
    if (error instanceof AdapterError) return error.diagnostics.map((g) => `${g.code}: ${g.message}`).join('\n');
    throw error;
  }
  throw new Error('expected an AdapterError');
}

describe('symbolic dims', () => {
  const [B, S] = [d.symbol(d.BATCH), d.symbol(d.SEQUENCE)];
  it('multiply, add and divide exactly', () => {
    const tokens = d.mul(B, S);
    expect(d.toString(d.divExact(tokens, S)!)).toBe('batch');
    expect(d.toString(d.divExact(d.scale(tokens, 12), d.constant(4))!)).toBe('3*batch*sequence');
    expect(d.divExact(d.add(S, d.constant(1)), S)).toBeUndefined();
    expect(d.toString(d.sub(d.add(S, d.constant(1)), d.constant(1)))).toBe('sequence');
  });
  it('compare where both sample sizes agree, and only there', () => {
    expect(d.compare(S, d.constant(512))).toBe(-1);
    expect(d.compare(S, d.constant(1))).toBe(1);
    expect(d.compare(B, S)).toBe(-1);
    expect(d.compare(d.scale(B, 2), d.add(S, d.constant(1)))).toBeUndefined();
    expect(d.compare(d.constant(3), S)).toBeUndefined();
  });
});

describe('the shape arithmetic exporters write', () => {
  it('Shape -> Gather -> Unsqueeze -> Concat -> Reshape: [batch, sequence, 8] to [batch, sequence, 2, 4] and back with -1', () => {
    const m = model(
      [
        node('Shape', ['x'], ['shape']),
        node('Gather', ['shape', 'zero'], ['b']),
        node('Gather', ['shape', 'one'], ['s']),
        node('Unsqueeze', ['b', 'axes0'], ['b1']),
        node('Unsqueeze', ['s', 'axes0'], ['s1']),
        node('Concat', ['b1', 's1', 'heads'], ['target'], [attr.int('axis', 0)]),
        node('Reshape', ['x', 'target'], ['split']),
        node('Reshape', ['split', 'flat'], ['rows']),
      ],
      [x],
      ['rows'],
      [int64s('zero', [0], []), int64s('one', [1], []), int64s('axes0', [0]), int64s('heads', [2, 4]), int64s('flat', [-1, 8])],
    );
    expect(show(m, 'split')).toEqual(['batch', 'sequence', '2', '4']);
    expect(show(m, 'rows')).toEqual(['batch*sequence', '8']);
    expect(inferShapes(m, 'm.onnx').get('target')!.values!.map(d.toString)).toEqual(['batch', 'sequence', '2', '4']);
  });

  it('Slice of a position table to the sequence length (clamped; INT64_MAX as "to the end")', () => {
    const m = model(
      [node('Shape', ['x'], ['shape']), node('Gather', ['shape', 'one'], ['s']), node('Unsqueeze', ['s', 'axes0'], ['end']), node('Slice', ['table', 'start', 'end', 'axes1'], ['positions']), node('Slice', ['x', 'one1', 'max', 'axes1'], ['tail'])],
      [x],
      ['positions', 'tail'],
      [makeTensor('table', [1, 512], new BigInt64Array(512)), int64s('one', [1], []), int64s('axes0', [0]), int64s('start', [0]), int64s('axes1', [1]), int64s('one1', [1]), int64s('max', [2 ** 62])],
    );
    expect(show(m, 'positions')).toEqual(['1', 'sequence']);
    expect(show(m, 'tail')).toEqual(['batch', 'sequence - 1', '8']);
  });

  it("torch 1.4's arange: NonZero(ConstantOfShape([sequence], 1)) has sequence indices", () => {
    const m = model(
      [node('Shape', ['x'], ['shape']), node('Gather', ['shape', 'one'], ['s']), node('Unsqueeze', ['s', 'axes0'], ['n']), node('ConstantOfShape', ['n'], ['ones'], [attr.tensor('value', makeTensor('', [1], BigInt64Array.of(1n)))]), node('NonZero', ['ones'], ['indices'])],
      [x],
      ['indices'],
      [int64s('one', [1], []), int64s('axes0', [0])],
    );
    expect(show(m, 'indices')).toEqual(['1', 'sequence']);
  });

  it('the table gives dims at batch 2, sequence 2, and which follow the input size', () => {
    const m = model([node('Transpose', ['x'], ['t'], [attr.ints('perm', [0, 2, 1])])], [x], ['t']);
    expect(shapeTable(m, 'm.onnx').get('t')).toEqual({ elemType: 'float32', dims: [2, 8, 2], dynamic: [true, false, true], symbolic: 'batch, 8, sequence' });
  });
});

describe('inferShapeTable extends an earlier result when the graph has only gained nodes', () => {
  /** Appends Mul(o, o) and a ReduceMean of it to the first float output: what compile's loss does to the head. */
  function gainNodes(m: Model, output: string): void {
    m.graph.nodes.push(node('Mul', [output, output], [`${output}.squared`]), node('ReduceMean', [`${output}.squared`], [`${output}.mean`]));
    m.graph.outputs.push({ name: `${output}.mean` });
  }
  const same = async (file: string) => {
    const m = await readModel(file);
    const output = m.graph.outputs[0]!.name;
    const earlier = inferShapeTable(m, file);
    gainNodes(m, output);
    const extended = inferShapeTable(m, file, earlier);
    const whole = inferShapeTable(m, file);
    expect(extended.table.has(`${output}.mean`)).toBe(true);
    expect([...extended.table]).toEqual([...whole.table]);
    expect([...extended.inferred].map(([n, v]) => [n, v.dims.map(d.toString), v.elemType])).toEqual([...whole.inferred].map(([n, v]) => [n, v.dims.map(d.toString), v.elemType]));
  };

  it('a synthetic BERT: the same table as a whole inference', async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'adapterc-extend-')), 'bert.onnx');
    await writeSyntheticBert({ layers: 2, hidden: 32, heads: 4, ffn: 64, vocab: 100, seed: 1 }, file);
    await same(file);
  });

  describeCorpus('every corpus model onnxruntime runs', () => {
    for (const entry of corpusEntries()) {
      it(entry.path, async () => {
        try {
          shapeTable(await readModel(corpusPath(entry)), entry.path);
        } catch (error) {
          // The pytorch-1.4 SQuAD export is invalid ONNX (ADP3002, tested above): nothing to extend.
          if (error instanceof AdapterError && error.diagnostics[0]!.code === 'ADP3002') return;
          throw error;
        }
        await same(corpusPath(entry));
      });
    }
  });
});

describe('what cannot be inferred is an error naming the node and why', () => {
  it('an operator without a shape rule', () => {
    const m = model([node('Hardmax', ['x'], ['y'], [], 'pick')], [x], ['y']);
    expect(diagnosticOf(() => inferShapes(m, 'm.onnx'))).toBe("ADP3002: Cannot infer the output shapes of 'pick' (Hardmax) in 'm.onnx': adapterc has no shape rule for Hardmax.");
  });
  it('a Reshape to a shape computed from data', () => {
    const m = model([node('Reshape', ['x', 'target'], ['y'], [], 'reshape')], [x, makeValueInfo('target', DataType.INT64, [3])], ['y']);
    expect(diagnosticOf(() => inferShapes(m, 'm.onnx'))).toBe("ADP3002: Cannot infer the output shapes of 'reshape' (Reshape) in 'm.onnx': its shape ('target') is computed from values known only when the model runs.");
  });
  it('a graph input without a shape', () => {
    const m = model([node('Relu', ['x'], ['y'])], [makeValueInfo('x', DataType.FLOAT)], ['y']);
    expect(diagnosticOf(() => inferShapes(m, 'm.onnx'))).toContain("ADP3002: Cannot infer the output shapes of the graph input 'x' in 'm.onnx': it declares no shape.");
  });
  it('found by fuzzing: a Gather index outside its axis, an Add with one input, a Reshape that changes the element count', () => {
    const gather = model([node('Shape', ['x'], ['shape']), node('Gather', ['shape', 'seven'], ['g'], [], 'pick')], [x], ['g'], [int64s('seven', [7], [])]);
    expect(diagnosticOf(() => inferShapes(gather, 'm.onnx'))).toContain("'pick' (Gather) in 'm.onnx': its index 7 is outside an axis of length 3");
    const add = model([node('Add', ['x', ''], ['y'], [], 'add')], [x], ['y']);
    expect(diagnosticOf(() => inferShapes(add, 'm.onnx'))).toContain("'add' (Add) in 'm.onnx': it has 1 input(s); Add takes 2");
    const reshape = model([node('Reshape', ['x', 'target'], ['y'], [], 'reshape')], [x], ['y'], [int64s('target', [0, 0, 3])]);
    expect(diagnosticOf(() => inferShapes(reshape, 'm.onnx'))).toContain('its shape [batch, sequence, 3] holds 3*batch*sequence elements, but its input 8*batch*sequence');
  });

  it('dims that do not broadcast', () => {
    const m = model([node('Add', ['x', 'y'], ['z'], [], 'add')], [x, makeValueInfo('y', DataType.FLOAT, [3])], ['z']);
    expect(diagnosticOf(() => inferShapes(m, 'm.onnx'))).toContain('dims 8 and 3 (axis 2 of the broadcast result) do not broadcast');
  });
});

describeCorpus('the pytorch-1.4 SQuAD export, which is not valid ONNX', () => {
  it('compile names the Concat whose inputs differ in rank (onnxruntime refuses the model for the same reason)', async () => {
    const out = path.join(mkdtempSync(path.join(tmpdir(), 'adapterc-squad-')), 'out');
    const spec = path.join(mkdtempSync(path.join(tmpdir(), 'adapterc-squad-spec-')), 'spec.adp');
    writeFileSync(spec, `import "${path.join(root, 'specs/houlsby.adp')}"\ntrain {\n  head classifier(labels 2, from first_token)\n}\n`);
    const r = await cli(['compile', spec, corpusPath('ort-testdata/pytorch1.4_bert_squad_opset10.onnx'), '-o', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("error ADP3002: Cannot infer the output shapes of Concat with outputs '265'");
    expect(r.stderr).toContain("its inputs must all have one rank, as ONNX's Concat requires, but '1622', '1623' have rank 0 and '261' rank 1: the graph is not valid ONNX");
  });
});

describe('compile does not load onnxruntime', () => {
  it.skipIf(process.platform !== 'linux')('no onnxruntime library is mapped into the process after a compile (Linux: /proc/self/maps)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'adapterc-no-ort-'));
    await writeSyntheticBert({ layers: 2, hidden: 32, heads: 4, ffn: 64, vocab: 200, seed: 1 }, path.join(dir, 'bert.onnx'));
    const script = `import { runCli } from ${JSON.stringify(path.join(root, 'src/cli/main.ts'))};
import { readFileSync } from 'node:fs';
const quiet = { stdout: () => {}, stderr: (t) => process.stderr.write(t), cwd: process.cwd() };
const code = await runCli(['compile', ${JSON.stringify(path.join(root, 'specs/houlsby.adp'))}, ${JSON.stringify(path.join(dir, 'bert.onnx'))}, '-o', ${JSON.stringify(path.join(dir, 'out'))}], quiet);
const maps = readFileSync('/proc/self/maps', 'utf8').split('\\n').filter((l) => /onnxruntime/.test(l));
process.stdout.write(JSON.stringify({ code, maps }));`;
    const result = JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', cwd: root })) as { code: number; maps: string[] };
    expect(result).toEqual({ code: 0, maps: [] });
  });
});
