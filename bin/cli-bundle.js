// Loads the bundled CLI (dist/adapterc.cjs, built by scripts/build-cli.mjs on `npm run build`) with
// V8's code cache for it, when the cache was recorded for exactly this bundle: compiling the bundle's
// functions took 40 ms of a BERT-base compile's 700 (README, "Libraries"). A cache that does not match (another
// bundle: its SHA-256 is stored with it; another V8 or other V8 flags: V8 itself refuses it) is
// ignored, and the bundle compiles as any script does.
import { createHash } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import vm from 'node:vm';

export const BUNDLE = fileURLToPath(new URL('../dist/adapterc.cjs', import.meta.url));
export const CODE_CACHE = `${BUNDLE}.cache`;

/**
 * The CommonJS wrapper Node puts around a module's source, and `__adaptercImport`, which imports
 * for the bundle (see src/util/import-module.ts): functions V8 restores from a code cache cannot.
 */
const wrap = (source) => `(function (exports, require, module, __filename, __dirname, __adaptercImport) { ${source}\n});`;
const importForBundle = (specifier) => import(specifier);

/**
 * How much bytecode a function runs before V8 considers optimizing it: 16 times the default of
 * Node 20's V8 (67,584; later V8s default to twice that, and tier up through Maglev on a budget
 * of its own, which this leaves alone; measured on Node 20 only). A compile is a few hundred
 * milliseconds of code that runs over thousands of nodes. At the default, V8 optimized 124 of its
 * functions on four background threads, 250-280 ms of CPU (/proc's per-thread counts) that took
 * turns with the main thread and the checkpoint's copy on a two-core machine, while the main
 * thread's own time was no shorter for it. At 16 times, 8 or 9 are optimized and those threads
 * use 40-60 ms. BERT-base compiles in about 0.38 instead of 0.49 s (README, "Benchmarks",
 * "Compile"; 4 and 64 times were slower than 8 and 16). Set once the bundle is compiled: V8 checks
 * a code cache against the flags in force, which must be those it was recorded with.
 */
export const INTERRUPT_BUDGET = 16 * 67_584;

/**
 * The CLI's `runCli`, and `saveCodeCache` (writes the cache for what has run so far), and how the
 * cache was used: 'accepted', 'rejected' (by V8), 'stale' (recorded for another bundle) or 'none'.
 * Then V8's interrupt budget is raised (`INTERRUPT_BUDGET`), except with `recording` (the build,
 * which calls `saveCodeCache`).
 */
export function loadCli({ recording = false } = {}) {
  const bytes = readFileSync(BUNDLE);
  const digest = createHash('sha256').update(bytes).digest();
  // Read as Latin-1, one byte per character: no decoding, and V8 keeps a one-byte string. The
  // bundle is ASCII (esbuild escapes the rest) except in a few comments, whose characters this only
  // changes (the code cache is recorded from the same reading).
  const source = bytes.toString('latin1');
  let cachedData;
  let cache = 'none';
  try {
    const file = readFileSync(CODE_CACHE);
    if (file.subarray(0, digest.length).equals(digest)) cachedData = file.subarray(digest.length);
    else cache = 'stale';
  } catch {
    // No cache: the bundle compiles as usual.
  }
  const script = new vm.Script(wrap(source), { filename: BUNDLE, cachedData });
  if (cachedData !== undefined) cache = script.cachedDataRejected ? 'rejected' : 'accepted';
  // Not while recording the cache: V8 writes the flags in force into it.
  if (!recording) v8.setFlagsFromString(`--interrupt-budget=${INTERRUPT_BUDGET}`);
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(BUNDLE), module, BUNDLE, path.dirname(BUNDLE), importForBundle);
  const saveCodeCache = () => {
    const temporary = `${CODE_CACHE}.${process.pid}.tmp`;
    writeFileSync(temporary, Buffer.concat([digest, script.createCachedData()]));
    renameSync(temporary, CODE_CACHE);
  };
  return { runCli: module.exports.runCli, saveCodeCache, cache };
}
