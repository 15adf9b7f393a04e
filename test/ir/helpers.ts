/** Small models built by hand for IR tests. */
import { DataType, makeTensor, makeValueInfo, type Model, type Node } from '../../src/ir/index.js';

export function node(opType: string, inputs: string[], outputs: string[], name?: string): Node {
  return { opType, inputs, outputs, attributes: [], ...(name === undefined ? {} : { name }) };
}

/** x -> Relu -> a -> Add(a, b0) -> y, with a side branch a -> Neg -> n -> Mul(n, y) -> z. */
export function diamond(): Model {
  return {
    irVersion: 8,
    opsetImports: [{ domain: '', version: 13 }],
    metadata: [],
    graph: {
      name: 'diamond',
      nodes: [
        node('Relu', ['x'], ['a'], 'relu'),
        node('Add', ['a', 'b0'], ['y'], 'add'),
        node('Neg', ['a'], ['n'], 'neg'),
        node('Mul', ['n', 'y'], ['z'], 'mul'),
      ],
      initializers: [makeTensor('b0', [4], new Float32Array([1, 2, 3, 4]))],
      inputs: [makeValueInfo('x', DataType.FLOAT, ['batch', 4])],
      outputs: [makeValueInfo('z', DataType.FLOAT, ['batch', 4])],
      valueInfo: [],
    },
  };
}

/** A deterministic shuffle (Fisher-Yates with a fixed LCG). */
export function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let state = seed >>> 0;
  for (let i = out.length - 1; i > 0; i--) {
    state = (state * 1664525 + 1013904223) >>> 0;
    const j = state % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
