// Child process of bench/compile.ts: one `adapterc compile` (compiled code in dist/), timed inside.
import { runCli } from '../../dist/cli/main.js';

const args = process.argv.slice(2);
const started = performance.now();
// Warnings (e.g. ADP3110) are the same every run: keep the benchmark's output to its figures.
const silent = { stdout: () => {}, stderr: () => {}, cwd: process.cwd() };
const code = await runCli(['compile', ...args], silent);
const ms = performance.now() - started;
process.stdout.write(JSON.stringify({ ms, maxRssKiB: process.resourceUsage().maxRSS, code }));
