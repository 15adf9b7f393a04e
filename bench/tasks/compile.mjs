// Child process of bench/compile.ts: one `adapterc compile` (the bundled CLI that bin/adapterc.js runs); the parent
// times the whole process, this reports its peak RSS: its own (VmHWM), as getrusage's maxrss can
// carry the parent's peak across the exec that started it.
import { readFileSync } from 'node:fs';
import { loadCli } from '../../bin/cli-bundle.js';

const { runCli } = loadCli();

// Warnings (e.g. ADP3110) are the same every run: keep the benchmark's output to its figures, and
// report only the first error line of a failed compile.
let error;
const quiet = { stdout: () => {}, stderr: (text) => (error ??= text.split('\n').find((line) => line.includes('error'))), cwd: process.cwd() };
const code = await runCli(['compile', ...process.argv.slice(2)], quiet);
const hwm = /VmHWM:\s*(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
process.stdout.write(JSON.stringify({ maxRssKiB: hwm ? Number(hwm[1]) : process.resourceUsage().maxRSS, code, ...(code === 0 ? {} : { error }) }));
