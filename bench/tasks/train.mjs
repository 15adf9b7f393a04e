// Child process of bench/step.ts: one `adapterc train` (the bundled CLI that bin/adapterc.js runs); reports its peak RSS.
// The peak is this process's own (VmHWM): getrusage's maxrss can carry the parent's peak across
// the exec that started it, and bench/step.ts's process is large by then.
import { readFileSync } from 'node:fs';
import { runCli } from '../../dist/adapterc.mjs';

let error;
const quiet = { stdout: () => {}, stderr: (text) => (error ??= text.split('\n').find((line) => line.includes('error'))), cwd: process.cwd() };
const code = await runCli(['train', ...process.argv.slice(2)], quiet);
const hwm = /VmHWM:\s*(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
process.stdout.write(JSON.stringify({ maxRssKiB: hwm ? Number(hwm[1]) : process.resourceUsage().maxRSS, code, ...(code === 0 ? {} : { error }) }));
