/**
 * The corpus models that ONNX Runtime runs give bit-identical outputs on the same seeded inputs
 * after a trip through adapterc: read + written back, with the weights moved to a side file, and
 * with the nodes sorted topologically.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, expect, it } from 'vitest';
import { DataLocation, sortGraph, tensorBytes } from '../../src/ir/index.js';
import { readModel, writeModel } from '../../src/load/index.js';
import { corpusEntries, corpusPath, describeCorpus } from './corpus.js';
import { runModel, seededInputs } from './ort-inputs.js';

const scratch = mkdtempSync(join(tmpdir(), 'adapterc-ort-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describeCorpus('corpus models run the same in onnxruntime after a round trip', () => {
  for (const entry of corpusEntries().filter((e) => e.runs)) {
    it(entry.path, async () => {
      const original = corpusPath(entry);
      const stem = join(scratch, entry.path.replaceAll('/', '_').replace(/\.onnx$/, ''));
      const model = await readModel(original);
      const feeds = seededInputs(model);
      const expected = await runModel(original, feeds);
      for (const bytes of Object.values(expected)) expect(bytes.length).toBeGreaterThan(0);

      await writeModel(model, `${stem}.copy.onnx`);
      expect(await runModel(`${stem}.copy.onnx`, feeds)).toEqual(expected);

      // Mark the weights as external: writeModel moves them into a side file, which ORT reads.
      const external = await readModel(original);
      for (const t of external.graph.initializers) {
        if (tensorBytes(t).length >= 256) {
          t.dataLocation = DataLocation.EXTERNAL;
          t.externalData = [{ key: 'location', value: 'placeholder' }];
        }
      }
      await writeModel(external, `${stem}.external.onnx`);
      expect(statSync(`${stem}.external.onnx.data`).size).toBeGreaterThan(0);
      expect(await runModel(`${stem}.external.onnx`, feeds)).toEqual(expected);

      const sorted = await readModel(original);
      sortGraph(sorted.graph);
      await writeModel(sorted, `${stem}.sorted.onnx`);
      expect(await runModel(`${stem}.sorted.onnx`, feeds)).toEqual(expected);
    });
  }
});

interface Expected {
  inputs: Record<string, number[][]>;
  logits: number[][];
}

describeCorpus('round-tripped models still match the exporter\'s own logits', () => {
  for (const entry of corpusEntries().filter((e) => e.runs && e.expected !== undefined)) {
    it(entry.path, async () => {
      const expected = JSON.parse(readFileSync(corpusPath(entry.expected!), 'utf8')) as Expected;
      const copy = join(scratch, `${entry.path.replaceAll('/', '_')}.expected.onnx`);
      await writeModel(await readModel(corpusPath(entry)), copy);
      const feeds: Record<string, ort.Tensor> = {};
      for (const [name, rows] of Object.entries(expected.inputs)) {
        feeds[name] = new ort.Tensor('int64', BigInt64Array.from(rows.flat(), BigInt), [rows.length, rows[0]!.length]);
      }
      const [logits] = Object.values(await runModel(copy, feeds));
      const values = new Float32Array(logits!.buffer, logits!.byteOffset, logits!.length / 4);
      expect(values.length).toBe(expected.logits.flat().length);
      expected.logits.flat().forEach((v, i) => expect(Math.abs(values[i]! - v)).toBeLessThan(1e-4));
    });
  }
});
