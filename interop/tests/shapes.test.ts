/**
 * Static shape inference on the real exports: for every export style of all-MiniLM-L6-v2 (TorchScript,
 * dynamo, optimum, ORT's transformer optimizer), and for every graph compile emits for it, each
 * value's inferred element type and dims equal what onnxruntime reports running the graph at two
 * input sizes (the oracle of test/helpers/ort-shapes.ts, which `npm test` runs on the corpus).
 */
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { withoutAccumulators } from '../../src/emit/training-graphs.js';
import { readModel } from '../../src/load/index.js';
import { expectInferenceMatchesOrt } from '../../test/helpers/ort-shapes.js';
import { adapterc, interop, model, outDir, STYLES } from './tier.js';

describe.each(STYLES)('%s', (style) => {
  it('inferred shapes equal onnxruntime on the export and on every graph compiled from it', async () => {
    const file = model(style);
    expect(await expectInferenceMatchesOrt(await readModel(file), file)).toBeGreaterThan(40);
    const out = outDir(`shapes-${style}`);
    adapterc(['compile', path.join(interop, 'specs/houlsby.adp'), file, '-o', out]);
    for (const artifact of ['eval_model.onnx', 'training_model.onnx', 'step_model.onnx', 'step_eval_model.onnx']) {
      const where = path.join(out, artifact);
      let graph = await readModel(where);
      if (artifact === 'training_model.onnx') graph = withoutAccumulators(graph).model;
      expect(await expectInferenceMatchesOrt(graph, where), artifact).toBeGreaterThan(100);
    }
  });
});
