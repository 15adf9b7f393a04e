/**
 * The GPU check's preparation (scripts/gpu-check/prepare.ts), run here on one case: what it stores
 * is consistent, and three runtimes agree on the untrained loss: onnxruntime-node on the eval model
 * and on the training model without accumulators, and the training runtime's first step.
 * (check.py itself runs where Python is; see the README's "The GPU check".)
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { expect, it } from 'vitest';
import { root } from '../artifacts/harness.js';

/** The float32 values of a little-endian .npy file, as npy.ts writes them. */
function readFloats(file: string): { shape: number[]; values: Float32Array } {
  const bytes = readFileSync(file);
  expect(bytes.subarray(0, 6).toString('latin1')).toBe('\x93NUMPY');
  const headerLength = bytes.readUInt16LE(8);
  expect((10 + headerLength) % 64).toBe(0);
  const header = bytes.subarray(10, 10 + headerLength).toString('latin1');
  expect(header).toMatch(/^\{'descr': '<f4', 'fortran_order': False, 'shape': \(.*\), \} *\n$/);
  const shape = /'shape': \(([^)]*)\)/.exec(header)![1]!.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const body = bytes.subarray(10 + headerLength);
  return { shape, values: new Float32Array(new Uint8Array(body).buffer) };
}

it('prepares a shared-base case whose eval, gradients and training losses agree', () => {
  const out = mkdtempSync(path.join(tmpdir(), 'adapterc-gpu-check-'));
  const name = 'synthetic-houlsby-shared-base';
  execFileSync(process.execPath, ['--import', 'tsx', path.join(root, 'scripts/gpu-check/prepare.ts'), '--out', out, '--steps', '3', '--only', name], { cwd: root, stdio: 'pipe' });
  expect(JSON.parse(readFileSync(path.join(out, 'cases.json'), 'utf8')).cases).toEqual([name]);
  const c = JSON.parse(readFileSync(path.join(out, name, 'case.json'), 'utf8'));
  expect(readdirSync(path.join(out, name, 'artifacts')).sort()).toEqual(['base.data', 'checkpoint', 'eval_model.onnx', 'optimizer_model.onnx', 'step_eval_model.onnx', 'step_model.onnx', 'summary.json', 'training_model.onnx']);
  expect(c.gradients.map((g: { parameter: string }) => g.parameter)).toEqual(c.trainable);
  expect(c.learningRates).toHaveLength(3);
  expect(c.trainingRuntimeCurve).toHaveLength(3);
  const loss = (kind: string) => readFloats(path.join(out, name, 'npy', c.expected[kind][c.loss])).values[0]!;
  expect(loss('eval')).toBeCloseTo(c.trainingRuntimeCurve[0], 5);
  expect(loss('gradients')).toBeCloseTo(c.trainingRuntimeCurve[0], 5);
  // The training runtime learned: the curve goes down.
  expect(c.trainingRuntimeCurve[2]).toBeLessThan(c.trainingRuntimeCurve[0]);
  for (const g of c.gradients) expect(readFloats(path.join(out, name, 'npy', c.expected.gradients[g.gradient])).shape.length).toBeGreaterThan(0);
});
