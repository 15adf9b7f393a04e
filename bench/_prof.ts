import * as ort from 'onnxruntime-node';
import { readFileSync } from 'node:fs';
const [file, threads] = process.argv.slice(2);
const s = await ort.InferenceSession.create(file!, { intraOpNumThreads: Number(threads ?? 2), enableProfiling: true, profileFilePrefix: '/tmp/ortprof' });
const B = 8, S = 128; const feeds: Record<string, ort.Tensor> = {};
const summary = JSON.parse(readFileSync(file!.replace(/[^/]*$/, 'summary.json'), 'utf8'));
for (const inp of s.inputNames) {
  const p = summary.step.parameters.find((q: any) => q.name === inp || q.state.includes(inp));
  if (p) { feeds[inp] = new ort.Tensor('float32', new Float32Array(p.dims.reduce((a: number, b: number) => a * b, 1)).fill(0.01), p.dims); continue; }
  if (inp === 'step' || inp === 'total_steps') { feeds[inp] = new ort.Tensor('int64', new BigInt64Array([BigInt(inp === 'step' ? 3 : 100)]), [1]); continue; }
  if (inp === 'labels') { feeds[inp] = new ort.Tensor('int64', BigInt64Array.from({ length: B }, (_, k) => BigInt(k % 2)), [B]); continue; }
  const v = (k: number) => inp === 'input_ids' ? 1000 + (k * 7919) % 29000 : inp === 'attention_mask' ? 1 : 0;
  feeds[inp] = new ort.Tensor('int64', BigInt64Array.from({ length: B * S }, (_, k) => BigInt(v(k))), [B, S]);
}
for (let i = 0; i < 5; i++) { const t = performance.now(); await s.run(feeds); console.log((performance.now() - t).toFixed(0), 'ms'); }
const f = s.endProfiling(); console.log(f);
