#!/usr/bin/env node
// Thin launcher: the CLI is compiled to dist/ on install (npm's `prepare` script) and bundled into
// one file, dist/adapterc.cjs (loading ~150 modules one by one took 60-90 ms of every start-up),
// which bin/cli-bundle.js loads with V8's code cache for it.
import { existsSync } from 'node:fs';
import { BUNDLE, loadCli } from './cli-bundle.js';

if (!existsSync(BUNDLE)) {
  process.stderr.write(`adapterc: ${BUNDLE} is missing: run 'npm run build' in adapterc's folder (npm install runs it).\n`);
  process.exitCode = 2;
} else {
  process.exitCode = await loadCli().runCli(process.argv.slice(2));
}
