/** GraphBuilder's constants: fresh names, and the check that catches a name in use anyway. */
import { describe, expect, it } from 'vitest';
import { GraphBuilder, makeTensor, type Model } from '../../src/ir/index.js';

function emptyModel(): Model {
  return { opsetImports: [{ domain: '', version: 14 }], metadata: [], graph: { nodes: [], initializers: [], inputs: [], outputs: [], valueInfo: [] } };
}

describe('GraphBuilder constants', () => {
  it('adds each under a fresh name', () => {
    const model = emptyModel();
    const b = new GraphBuilder(model, 'c');
    const names = [b.int64s('axes', [0]), b.int64s('axes', [1]), b.float32s('w', [1, 2]), b.scalar(2), b.scalar(2)];
    expect(names).toEqual(['axes', 'axes_1', 'w', 'c.2', 'c.2']);
    expect(model.graph.initializers.map((t) => t.name)).toEqual(['axes', 'axes_1', 'w', 'c.2']);
  });

  it('refuses a name taken behind its namer: added to the list, or in a list put in its place', () => {
    const model = emptyModel();
    const b = new GraphBuilder(model, 'c');
    b.int64s('axes', [0]);
    // Added without the builder: its namer does not know the name, the check does.
    model.graph.initializers.push(makeTensor('shape', [1], new BigInt64Array([1n])));
    expect(() => b.int64s('shape', [2])).toThrow("addInitializer: 'shape' already exists");
    b.int64s('dims', [3]);
    // A new list of the same length as the one the builder last added to.
    model.graph.initializers = ['a', 'b', 'other'].map((name) => makeTensor(name, [1], new BigInt64Array([0n])));
    expect(() => b.int64s('other', [2])).toThrow("addInitializer: 'other' already exists");
  });
});
