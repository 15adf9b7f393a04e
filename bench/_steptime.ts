import { availableParallelism } from 'node:os';
import * as path from 'node:path';
import { readArtifacts, planFor, resolveSchedule } from '/work/main/src/train/index.js';
import { openOrtTrainingRuntime } from '/work/main/src/train/runtimes/ort-training.js';
import { openStepRuntime } from '/work/main/src/train/runtimes/step-model.js';
const [folder, which, threads] = process.argv.slice(2);
const info = readArtifacts(folder!); const { plan } = planFor(info, '/work/main');
const rt = which === 'ort' ? await openOrtTrainingRuntime(info, plan, resolveSchedule(plan.schedule, 100)) : await openStepRuntime(info, { totalSteps: 100, threads: Number(threads ?? 2) });
const B = 8, S = 128; const feeds: any = {};
for (const i of info.inputs) {
  const n = i.role === 'labels' ? B : B * S; const dims = i.role === 'labels' ? [B] : [B, S];
  const v = (k: number) => i.role === 'input_ids' ? 1000 + (k * 7919) % 29000 : i.role === 'attention_mask' ? 1 : i.role === 'labels' ? k % 2 : 0;
  feeds[i.name] = { data: i.type === 'int32' ? Int32Array.from({ length: n }, (_, k) => v(k)) : BigInt64Array.from({ length: n }, (_, k) => BigInt(v(k))), dims };
}
const times: number[] = [];
for (let s = 1; s <= Number(process.env.STEPS ?? 6); s++) { const t = performance.now(); const loss = await rt.trainStep(feeds, s); times.push(performance.now() - t); console.log(s, loss.toFixed(4), (performance.now() - t).toFixed(0), 'ms'); }
console.log('median after warmup', times.slice(2).sort((a, b) => a - b)[Math.floor((times.length - 2) / 2)]!.toFixed(0), 'ms; maxRSS MB', (process.resourceUsage().maxRSS / 1024).toFixed(0));
await rt.release();
