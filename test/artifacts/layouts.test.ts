/**
 * The shared-base layout: frozen weights in one base.data that the training and eval models
 * reference, a checkpoint with only the trainable parameters, the same base.data for every task
 * compiled against the same model, and the same training as the default layout.
 */
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeCheckpoint } from '../../src/emit/checkpoint/index.js';
import { externalTensors, readModel } from '../../src/load/index.js';
import { writeSyntheticBertSync } from '../../src/synth/index.js';
import { cli } from '../helpers/cli.js';
import { writeExternalDataModel } from '../helpers/external-model.js';
import { root, specWithRate, train } from './harness.js';

async function compileWith(spec: string, model: string, layout: string): Promise<string> {
  const out = path.join(mkdtempSync(path.join(tmpdir(), `adapterc-${layout}-`)), 'out');
  const r = await cli(['compile', spec, model, '-o', out, '--layout', layout]);
  expect(r.stderr).not.toMatch(/error/);
  expect(r.code).toBe(0);
  return out;
}

describe('--layout shared-base', () => {
  let model: string;
  beforeAll(() => {
    model = path.join(mkdtempSync(path.join(tmpdir(), 'adapterc-layout-model-')), 'bert.onnx');
    writeSyntheticBertSync({ layers: 2, hidden: 64, heads: 4, ffn: 128, vocab: 500, seed: 9 }, model);
  });

  it('keeps frozen weights in base.data, referenced by the training and eval models; the checkpoint holds what trains', async () => {
    const out = await compileWith(path.join(root, 'specs/houlsby.adp'), model, 'shared-base');
    const checkpoint = decodeCheckpoint(readFileSync(path.join(out, 'checkpoint')));
    expect(checkpoint.frozen).toEqual([]);
    expect(checkpoint.trainable.length).toBeGreaterThan(0);
    for (const name of ['training_model.onnx', 'eval_model.onnx']) {
      const m = await readModel(path.join(out, name), { externalData: false });
      expect(externalTensors(m).length).toBeGreaterThan(10);
      expect(externalTensors(m).every((t) => t.externalData?.find((e) => e.key === 'location')?.value === 'base.data')).toBe(true);
    }
    // The base holds the model's weights once: most of the model file (the rest is graph and constants).
    expect(statSync(path.join(out, 'base.data')).size).toBeGreaterThan(0.8 * statSync(model).size);
    expect(statSync(path.join(out, 'checkpoint')).size).toBeLessThan(0.3 * statSync(model).size);
    // The adapted model reads the base's weights from base.data too: no second copy.
    expect(statSync(path.join(out, 'model.adapted.onnx')).size).toBeLessThan(0.5 * statSync(model).size);
  });

  it('writes the same base.data byte for byte for a second task on the same model', async () => {
    const a = await compileWith(path.join(root, 'specs/houlsby.adp'), model, 'shared-base');
    const b = await compileWith(path.join(root, 'specs/size-8.adp'), model, 'shared-base');
    expect(readFileSync(path.join(a, 'base.data')).equals(readFileSync(path.join(b, 'base.data')))).toBe(true);
  });

  it('copies the model file as base.data and reads the weights at their offsets in it; onnxruntime-node runs that from a path', async () => {
    const spec = path.join(root, 'specs/houlsby.adp');
    const out = await compileWith(spec, model, 'shared-base');
    // An inline model: base.data is the model file itself, copied by the kernel.
    expect(readFileSync(path.join(out, 'base.data')).equals(readFileSync(model))).toBe(true);
    const evalModel = await readModel(path.join(out, 'eval_model.onnx'), { externalData: false });
    const offsets = externalTensors(evalModel).map((t) => Number(t.externalData!.find((e) => e.key === 'offset')!.value));
    expect(offsets.some((o) => o % 4096 !== 0)).toBe(true);
    const inference = path.join(mkdtempSync(path.join(tmpdir(), 'adapterc-layout-inference-')), 'out');
    expect((await cli(['compile', spec, model, '-o', inference, '--inference'])).code).toBe(0);
    const ort = await import('onnxruntime-node');
    const run = async (file: string) => {
      const session = await ort.InferenceSession.create(file, { logSeverityLevel: 3 });
      const ids = BigInt64Array.from({ length: 12 }, (_, i) => BigInt(1 + (i % 7)));
      const feeds = Object.fromEntries(
        session.inputNames.map((n) => [n, new ort.Tensor('int64', n === 'input_ids' ? ids : new BigInt64Array(12).fill(n.includes('mask') ? 1n : 0n), [2, 6])]),
      );
      const result = await session.run(feeds);
      await session.release();
      return Array.from(result['logits']!.data as Float32Array);
    };
    expect(await run(path.join(out, 'model.adapted.onnx'))).toEqual(await run(path.join(inference, 'model.adapted.onnx')));
  });

  it('trains with the same loss curve as the default layout for the same seed', async () => {
    const spec = specWithRate('houlsby.adp', 1e-2);
    const shared = await train(await compileWith(spec, model, 'shared-base'), 10);
    const usual = await train(await compileWith(spec, model, 'default'), 10);
    expect(shared.trainableCount).toBe(usual.trainableCount);
    shared.losses.forEach((loss, i) => expect(loss).toBeCloseTo(usual.losses[i]!, 5));
    expect(shared.losses[9]!).toBeLessThan(shared.losses[0]!);
  });
});

describe('a model whose weights are in external data', () => {
  it('compiles (both layouts) and trains end to end', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'adapterc-external-'));
    const { inline, model: file } = await writeExternalDataModel(dir, 11);
    expect(statSync(file).size).toBeLessThan(statSync(inline).size / 2);

    for (const kind of ['default', 'shared-base']) {
      const out = await compileWith(specWithRate('houlsby.adp', 1e-2), file, kind);
      if (kind === 'shared-base') {
        // base.data is the side file, copied, with the small tensors the model kept inline after it.
        const side = readFileSync(path.join(dir, 'weights.bin'));
        const base = readFileSync(path.join(out, 'base.data'));
        expect(base.subarray(0, side.length).equals(side)).toBe(true);
        expect(base.length).toBeGreaterThan(side.length);
        // The adapted model reads the side file's weights there too: no second copy of them.
        const adapted = await readModel(path.join(out, 'model.adapted.onnx'), { externalData: false });
        const weights = externalTensors(adapted).filter((t) => t.name?.startsWith('bert.'));
        expect(weights.length).toBeGreaterThan(10);
        expect(weights.every((t) => t.externalData?.find((e) => e.key === 'location')?.value === 'base.data')).toBe(true);
        expect(existsSync(path.join(out, 'model.adapted.onnx.data')) ? statSync(path.join(out, 'model.adapted.onnx.data')).size : 0).toBeLessThan(side.length / 100);
        const summary = JSON.parse(readFileSync(path.join(out, 'summary.json'), 'utf8')) as { baseData?: unknown };
        expect(summary.baseData).toEqual({ copyOf: 'weights.bin', copiedBytes: side.length, copiedFromSideFile: true });
      }
      const run = await train(out, 10);
      expect(run.losses[9]!).toBeLessThan(run.losses[0]!);
    }
  });
});

describe('the default layout\'s adapted model', () => {
  it('reads its weights from the checkpoint (no second copy) and runs in onnxruntime-node as the --inference one does', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'adapterc-adapted-'));
    const model = path.join(dir, 'bert.onnx');
    writeSyntheticBertSync({ preset: 'tiny', seed: 12 }, model);
    const spec = path.join(root, 'specs/houlsby.adp');
    const artifacts = await compileWith(spec, model, 'default');
    const inference = path.join(dir, 'inference');
    expect((await cli(['compile', spec, model, '-o', inference, '--inference'])).code).toBe(0);
    expect(statSync(path.join(artifacts, 'model.adapted.onnx')).size).toBeLessThan(statSync(path.join(artifacts, 'checkpoint')).size / 2);

    const ort = await import('onnxruntime-node');
    const run = async (file: string) => {
      const session = await ort.InferenceSession.create(file, { logSeverityLevel: 3 });
      const ids = BigInt64Array.from({ length: 16 }, (_, i) => BigInt(1 + (i % 7)));
      const out = await session.run({
        input_ids: new ort.Tensor('int64', ids, [2, 8]),
        attention_mask: new ort.Tensor('int64', new BigInt64Array(16).fill(1n), [2, 8]),
        token_type_ids: new ort.Tensor('int64', new BigInt64Array(16), [2, 8]),
      });
      return Array.from(out['logits']!.data as Float32Array);
    };
    expect(await run(path.join(artifacts, 'model.adapted.onnx'))).toEqual(await run(path.join(inference, 'model.adapted.onnx')));
  });
});
