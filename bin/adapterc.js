#!/usr/bin/env node
// Thin launcher: the CLI is compiled to dist/ on install (npm's `prepare` script), and bundled into
// one file, dist/adapterc.mjs: loading ~150 modules one by one took 60-90 ms of every start-up.
// Third-party packages stay outside the bundle, loaded from node_modules as usual.
import { runCli } from '../dist/adapterc.mjs';

process.exitCode = await runCli(process.argv.slice(2));
