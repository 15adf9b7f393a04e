/**
 * How scripts/cuda-kernels.ts keys registrations by constraint: declared template types (@, @2),
 * DataTypeImpl sets, alternatives merged, a '-' declaration, and the schema rule for registrations
 * without declarations; and that every op with a CUDA kernel has a schema to bind by.
 */
import { describe, expect, it } from 'vitest';
import { declarationsFromTsv, withConstraints, type Registration } from '../../scripts/cuda-kernels.js';
import { CUDA_KERNELS } from '../../src/target/cuda-kernels.data.js';
import { findSchema } from '../../src/target/schemas.js';

const header = 'domain\top\tsince\tuntil\tconstraint\ttypes\tcpu_memory\tsource\tnote';
const declare = (...lines: string[]) => declarationsFromTsv([`# a comment`, header, ...lines].join('\n'));
const reg = (op: string, since: number, until: number | undefined, types: string[], domain = ''): Registration => ({ domain, op, since, until, types });

describe('registrations keyed by constraint', () => {
  it('binds @ to each registered type and expands DataTypeImpl sets', () => {
    const { rows, notes } = withConstraints(
      [reg('Where', 16, undefined, ['float', 'int64_t'])],
      declare('\tWhere\t16\t\tB\tbool\t\tw.cc@v1\t', '\tWhere\t16\t\tT\t@\t\tw.cc@v1\t'),
    );
    expect(rows[0]!.accepts).toEqual([{ B: ['bool'], T: ['float', 'int64_t'] }]);
    expect(notes).toEqual([]);
  });

  it('keeps two-typed registrations as alternatives, merging those that differ in one constraint', () => {
    const { rows } = withConstraints(
      [reg('InPlaceAccumulatorV2', 1, undefined, ['float_MLFloat16', 'float_float', 'MLFloat16_MLFloat16'], 'com.microsoft')],
      declare('com.microsoft\tInPlaceAccumulatorV2\t1\t\tT\t@\t\ta.cc@v1\t', 'com.microsoft\tInPlaceAccumulatorV2\t1\t\tT_GRAD\t@2\t\ta.cc@v1\t'),
    );
    expect(rows[0]!.accepts).toEqual([{ T: ['float'], T_GRAD: ['MLFloat16', 'float'] }, { T: ['MLFloat16'], T_GRAD: ['MLFloat16'] }]);
  });

  it("reads a '*' registration's constraints from its declarations, or checks nothing without any", () => {
    const { rows, notes } = withConstraints(
      [reg('Gather', 13, undefined, ['*']), reg('Gather', 11, 12, ['*']), reg('NonMaxSuppression', 11, undefined, ['*'])],
      declare('\tGather\t13\t\tT\tAllIEEEFloatTensorTypes\t\tg.cc@v1\t', '\tGather\t13\t\tTind\tint32_t,int64_t\t\tg.cc@v1\t', '\tNonMaxSuppression\t11\t\t-\t\tin2\tn.cc@v1\t'),
    );
    expect(rows.map((r) => r.accepts)).toEqual([[{ T: ['float', 'double', 'MLFloat16'], Tind: ['int32_t', 'int64_t'] }], [{}], [{}]]);
    expect(notes).toEqual(['ai.onnx:Gather 11-12: declares its types in its own file, not in scripts/cuda-kernels.type-constraints.tsv: not checked']);
  });

  it('without declarations, binds a single template type to the narrowest constraint allowing it', () => {
    const { rows, notes } = withConstraints([reg('Slice', 13, undefined, ['int32_t', 'int64_t']), reg('Cast', 13, 18, ['float', 'bool'])], []);
    expect(rows[0]!.accepts).toEqual([{ Tind: ['int32_t', 'int64_t'] }]);
    // T1 and T2 allow the same types: the one the first input carries.
    expect(rows[1]!.accepts).toEqual([{ T1: ['float', 'bool'] }]);
    expect(notes).toEqual(['ai.onnx:Slice 13+: Tind from its schema', 'ai.onnx:Cast 13-18: T1 from its schema']);
  });

  it('refuses an @2 on a registration with one template type, and an unknown set', () => {
    expect(() => withConstraints([reg('Where', 16, undefined, ['float'])], declare('\tWhere\t16\t\tT\t@2\t\tw.cc@v1\t'))).toThrow("'@2' but the registration has 1 template type(s)");
    expect(() => withConstraints([reg('Where', 16, undefined, ['float'])], declare('\tWhere\t16\t\tT\tAllMysteryTypes\t\tw.cc@v1\t'))).toThrow('unknown type set AllMysteryTypes');
  });
});

describe('the generated tables', () => {
  it('have a schema for every op adapterc emits or meets in exports; only training-internal ops lack one', () => {
    const checked = CUDA_KERNELS.filter((r) => r.accepts.some((a) => Object.keys(a).length > 0));
    const missing = [...new Set(checked.filter((r) => findSchema(r.domain, r.op, r.since) === undefined).map((r) => `${r.domain}:${r.op}`))];
    const emitted = ['com.microsoft:InPlaceAccumulatorV2', 'com.microsoft:AdamWOptimizer', 'com.microsoft:SGDOptimizerV2', 'com.microsoft:Attention', 'com.microsoft:SkipLayerNormalization', 'com.microsoft:EmbedLayerNormalization', 'com.microsoft:BiasGelu', 'com.microsoft:FastGelu', 'com.microsoft:Gelu', 'com.microsoft:FusedMatMul'];
    expect(missing.filter((m) => emitted.includes(m))).toEqual([]);
    // Outside com.microsoft, only ONNX Runtime's own training ops in the default domain, and ATen.
    expect(missing.filter((m) => !m.startsWith('com.microsoft:'))).toEqual([':SparseSoftmaxCrossEntropy', ':SparseSoftmaxCrossEntropyGrad', 'org.pytorch.aten:ATen']);
    expect(missing.filter((m) => m.startsWith('com.microsoft:') && !/Grad|Optimizer|Gist|Training|Event|Python|Yield|View|Group|PassThrough|Dropout|Scale|Internal|Quant|Reduce|Accumulator|Triton|Gather|Unpad|Unflatten|^com.microsoft:All$|IsFinite|SoftmaxCrossEntropy|BatchNormInternal|ConcatTraining|ScaledSum/.test(m))).toEqual([]);
  });

  it("name, in every registration, a constraint or a formal parameter of the op's schema", () => {
    const unknown: string[] = [];
    for (const r of CUDA_KERNELS) {
      const schema = findSchema(r.domain, r.op, r.since);
      const names = new Set([...(schema?.constraints.keys() ?? []), ...(schema?.inputs ?? []).map((f) => f.name), ...(schema?.outputs ?? []).map((f) => f.name)]);
      for (const a of r.accepts) for (const c of Object.keys(a)) if (schema && !names.has(c)) unknown.push(`${r.domain}:${r.op} ${r.since} ${c}`);
    }
    expect(unknown).toEqual([]);
  });
});
