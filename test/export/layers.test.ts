/** The --drop-layers list: the spec language's layer syntax, resolved against a model's depth. */
import { describe, expect, it } from 'vitest';
import { AdapterError } from '../../src/diagnostics/index.js';
import { describeLayers, parseLayerList, resolveLayerList } from '../../src/export/index.js';

const layers = (text: string, depth = 12) => resolveLayerList(parseLayerList(text), depth);
const code = (f: () => unknown) => {
  try {
    f();
  } catch (error) {
    if (error instanceof AdapterError) return error.diagnostics.map((d) => `${d.code}: ${d.message}`).join('\n');
    throw error;
  }
  return 'no error';
};

describe('--drop-layers lists', () => {
  it.each([
    ['3', [3]],
    ['0..4', [0, 1, 2, 3, 4]],
    ['0, 2, 4', [0, 2, 4]],
    [' 0 .. 1 ,11 ', [0, 1, 11]],
    ['-1', [11]],
    ['-2..-1', [10, 11]],
    ['10..-1', [10, 11]],
    ['all', [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]],
    ['all except 0..9', [10, 11]],
    ['all except 0..5, -1', [6, 7, 8, 9, 10]],
    ['1, 1', [1]],
  ])('%s', (text, expected) => {
    expect(layers(text)).toEqual(expected);
  });

  it.each([
    ['', 'ADP5060: The layer list \'\' is invalid: it is empty.'],
    ['x', "ADP5060: The layer list 'x' is invalid: 'x' is neither a layer index nor a range like 0..4."],
    ['4..2', 'ADP5060: The layer list \'4..2\' is invalid: the range 4..2 is empty (ranges go upwards: 2..4).'],
    ['0,,1', "ADP5060: The layer list '0,,1' is invalid: it has an empty item between commas."],
    ['all but 3', "ADP5060: The layer list 'all but 3' is invalid: 'all' may only be followed by 'except', not 'but 3'."],
    ['all except', "ADP5060: The layer list 'all except' is invalid: 'all except' needs layers after it."],
    ['1.5', "ADP5060: The layer list '1.5' is invalid: '1.5' is neither a layer index nor a range like 0..4."],
    ['12', 'ADP5061: Layer 12 does not exist: the model has 12 layers (0..11).'],
    ['-13', 'ADP5061: Layer -13 does not exist: the model has 12 layers (0..11).'],
    ['11..-3', "ADP5060: The layer list '11..-3' is invalid: with 12 layers the range 11..-3 is 11..9, which is empty."],
  ])('%s is refused', (text, message) => {
    expect(code(() => layers(text))).toBe(message);
  });

  it('describes layer sets compactly', () => {
    expect(describeLayers([0, 1, 2, 3, 5, 7, 8])).toBe('0..3, 5, 7..8');
    expect(describeLayers([])).toBe('');
  });
});
