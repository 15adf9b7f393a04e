// Builds what bin/adapterc.js runs (the second half of `npm run build`, after tsc):
//
//   dist/adapterc.cjs        the CLI in one CommonJS file, its packages inside it (onnxruntime's
//                            stay outside: native code and WebAssembly found beside their modules)
//   dist/adapterc.cjs.cache  V8's code cache for it, recorded after a compile of a tiny synthetic
//                            BERT, so that a start-up reads compiled functions instead of compiling
//                            them (bin/cli-bundle.js)
//
// CommonJS because Node 20 keeps code caches for scripts only, not ES modules. Two modules are
// replaced in the bundle:
// - src/parse/chevrotain.ts: Chevrotain's one-file build (see that file) is imported statically,
//   as a CommonJS bundle has no top-level await;
// - src/util/import-module.ts: functions V8 restores from a code cache cannot call import()
//   (ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING), so the bundle asks its loader to import for it.
import { build } from 'esbuild';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const bundle = path.join(root, 'dist', 'adapterc.cjs');

const replacedModules = {
  name: 'replaced-modules',
  setup(builder) {
    const entry = createRequire(import.meta.url).resolve('chevrotain');
    const oneFile = path.join(path.dirname(entry), '..', 'chevrotain.mjs');
    builder.onLoad({ filter: /[\\/]dist[\\/]parse[\\/]chevrotain\.js$/ }, () => ({
      contents: `export * from ${JSON.stringify(oneFile)};`,
      resolveDir: path.dirname(oneFile),
      loader: 'js',
    }));
    // The module as compiled, its one import() going through __adaptercImport, the loader's
    // (bin/cli-bundle.js); a bundle loaded as a plain module imports itself.
    builder.onLoad({ filter: /[\\/]dist[\\/]util[\\/]import-module\.js$/ }, (file) => {
      const source = readFileSync(file.path, 'utf8');
      const direct = 'return import(specifier);';
      if (source.split(direct).length !== 2) throw new Error(`build-cli: ${file.path} no longer has exactly one '${direct}' to replace`);
      return { contents: source.replace(direct, "return typeof __adaptercImport === 'function' ? __adaptercImport(specifier) : import(specifier);"), loader: 'js' };
    });
  },
};

await build({
  entryPoints: [path.join(root, 'dist', 'cli', 'main.js')],
  outfile: bundle,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: ['onnxruntime-node', 'onnxruntime-web'],
  // The modules that find files beside themselves (the shipped specs, the packages) do it from the bundle's place.
  define: { 'import.meta.url': '__adaptercBundleUrl' },
  banner: { js: "var __adaptercBundleUrl = require('node:url').pathToFileURL(__filename).href;" },
  plugins: [replacedModules],
  logLevel: 'warning',
});

// The code cache: one compile, in this process, of a model written for it. Without it the CLI
// works as well, only starts slower (bin/cli-bundle.js), so a failure here is a warning.
rmSync(`${bundle}.cache`, { force: true });
const { loadCli } = await import('../bin/cli-bundle.js');
const { writeSyntheticBertSync } = await import('../dist/synth/index.js');
const scratch = mkdtempSync(path.join(tmpdir(), 'adapterc-code-cache-'));
try {
  const model = path.join(scratch, 'bert.onnx');
  writeSyntheticBertSync({ preset: 'tiny', seed: 1 }, model);
  // Recording: V8's flags as they are when a start-up checks the cache (see loadCli).
  const cli = loadCli({ recording: true });
  let stderr = '';
  const quiet = { stdout: () => {}, stderr: (text) => (stderr += `${text}\n`), cwd: root };
  const code = await cli.runCli(['compile', path.join(root, 'specs', 'houlsby.adp'), model, '-o', path.join(scratch, 'out')], quiet);
  if (code !== 0) throw new Error(`the compile that records it failed (exit ${code}):\n${stderr}`);
  cli.saveCodeCache();
} catch (error) {
  process.stderr.write(`build-cli: no code cache for ${path.relative(root, bundle)}; adapterc will start slower. ${error instanceof Error ? error.message : String(error)}\n`);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
