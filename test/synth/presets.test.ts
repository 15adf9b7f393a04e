/**
 * The full-size presets: BERT-base's parameter count from the generated ModelProto, and a streamed
 * write of the 438 MB model that onnxruntime-node loads and runs. (About 10 s in all.)
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { generateBert, writeSyntheticBert } from '../../src/synth/index.js';
import { allFinite, runModel } from './helpers.js';

/** bert-base-uncased (BertModel with pooler). */
const BERT_BASE_PARAMETERS = 109_482_240;

describe('base preset', () => {
  const dir = mkdtempSync(join(tmpdir(), 'synth-base-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('has BERT-base\'s parameter count, counted from the ModelProto', () => {
    const model = generateBert({ preset: 'base' });
    let parameters = 0;
    let bytes = 0;
    for (const t of model.graph!.initializer!) {
      const count = t.dims!.reduce((n: number, d) => n * Number(d), 1);
      expect(t.rawData!.length, t.name!).toBe(count * 4);
      if (t.dataType === 1) parameters += count;
      bytes += t.rawData!.length;
    }
    // The pytorch style keeps constants in Constant nodes, so float initializers are exactly the parameters.
    expect(parameters).toBe(BERT_BASE_PARAMETERS + 768 * 2 + 2);
    expect(bytes).toBeGreaterThan(437e6);
    expect(model.graph!.node!.filter((n) => n.opType === 'Softmax')).toHaveLength(12);
  });

  test('streams to disk in seconds and runs in onnxruntime-node', async () => {
    const path = join(dir, 'bert-base.onnx');
    const start = performance.now();
    const manifest = await writeSyntheticBert({ preset: 'base', head: 'none', seed: 1 }, path);
    const seconds = (performance.now() - start) / 1000;
    expect(seconds).toBeLessThan(30); // ~3 s on a 2-core CI machine; minutes would mean a regression.
    expect(manifest.parameterCount).toBe(BERT_BASE_PARAMETERS);
    expect(manifest.sites).toEqual({ attention: 12, ffn: 12 });
    expect(statSync(path).size).toBeGreaterThan(manifest.initializerBytes);

    const { outputs } = await runModel(path, manifest);
    expect(outputs.last_hidden_state!.dims).toEqual([2, 8, 768]);
    expect(outputs.pooler_output!.dims).toEqual([2, 768]);
    expect(allFinite(outputs.last_hidden_state!.data)).toBe(true);
  });
});
