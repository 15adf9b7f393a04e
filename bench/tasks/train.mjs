// Child process of bench/step.ts: one `adapterc train` (the bundled CLI that bin/adapterc.js runs); reports its peak RSS.
import { runCli } from '../../dist/adapterc.mjs';

let error;
const quiet = { stdout: () => {}, stderr: (text) => (error ??= text.split('\n').find((line) => line.includes('error'))), cwd: process.cwd() };
const code = await runCli(['train', ...process.argv.slice(2)], quiet);
process.stdout.write(JSON.stringify({ maxRssKiB: process.resourceUsage().maxRSS, code, ...(code === 0 ? {} : { error }) }));
