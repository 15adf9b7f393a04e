// Assembles src/util/normal.wat (WebAssembly text) into src/util/normal-wasm.generated.ts, the
// module's bytes in base64, which src/util/normal-wasm.ts instantiates. The generated file is checked
// in, so that building and running adapterc need no assembler; test/util/normal-wasm.test.ts
// assembles the text again and fails when the two differ.
//
// Usage: node scripts/build-wasm.mjs           (writes the generated file)
//        node scripts/build-wasm.mjs --check   (exit 1 when it is not what the text assembles to)
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { assembleNormalWasm, generatedModule } from './wasm/assemble.mjs';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const target = path.join(root, 'src', 'util', 'normal-wasm.generated.ts');
const text = generatedModule(await assembleNormalWasm(path.join(root, 'src', 'util', 'normal.wat')));

if (process.argv.includes('--check')) {
  if (readFileSync(target, 'utf8') !== text) {
    process.stderr.write(`build-wasm: ${path.relative(root, target)} is not what src/util/normal.wat assembles to: run 'node scripts/build-wasm.mjs'\n`);
    process.exitCode = 1;
  }
} else {
  const temporary = `${target}.${process.pid}.tmp`;
  writeFileSync(temporary, text);
  renameSync(temporary, target);
  process.stdout.write(`wrote ${path.relative(root, target)}\n`);
}
