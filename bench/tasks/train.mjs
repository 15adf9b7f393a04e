// Child process of bench/step.ts: one `adapterc train` (the bundled CLI that bin/adapterc.js runs); reports its peak RSS.
// The peak is this process's own (VmHWM): getrusage's maxrss can carry the parent's peak across
// the exec that started it, and bench/step.ts's process is large by then.
import { readFileSync } from 'node:fs';
import { loadCli } from '../../bin/cli-bundle.js';

const { runCli } = loadCli();

// What is resident splits into pages mapped from files (the frozen weights, which ONNX Runtime maps
// from the checkpoint, and the binaries) and anonymous memory (the heap, ONNX Runtime's arena). /proc
// gives that split only for the present moment, so it is sampled while train runs (each step's
// onnxruntime call leaves the event loop free) and kept for the largest sample.
const kib = (status, field) => {
  const m = new RegExp(`${field}:\\s*(\\d+) kB`).exec(status);
  return m ? Number(m[1]) : undefined;
};
let largest = { rssKiB: 0 };
const sample = () => {
  const status = readFileSync('/proc/self/status', 'utf8');
  const rssKiB = kib(status, 'VmRSS') ?? 0;
  if (rssKiB > largest.rssKiB) largest = { rssKiB, fileKiB: kib(status, 'RssFile'), anonKiB: kib(status, 'RssAnon') };
};
const sampler = setInterval(sample, 50);

let error;
const quiet = { stdout: () => {}, stderr: (text) => (error ??= text.split('\n').find((line) => line.includes('error'))), cwd: process.cwd() };
const code = await runCli(['train', ...process.argv.slice(2)], quiet);
clearInterval(sampler);
const hwm = kib(readFileSync('/proc/self/status', 'utf8'), 'VmHWM');
process.stdout.write(JSON.stringify({ maxRssKiB: hwm ?? process.resourceUsage().maxRSS, largestSample: largest, code, ...(code === 0 ? {} : { error }) }));
