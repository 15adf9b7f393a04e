/**
 * A fix for a memory-corruption bug in onnxruntime-web 1.19.2's training build, the last release
 * with the training API (so there is no newer version to move to).
 *
 * Its `getContiguousParameters` and `loadParametersBuffer` (lib/wasm/wasm-training-core-impl.ts)
 * take 4 bytes for the tensor dimensions with `stackAlloc` and later hand that stack pointer to
 * `_free`. Whether the allocator then corrupts its free lists depends on whatever the stack word
 * before that address holds, so it depends on the heap layout, which depends on things as remote
 * as the length of the environment's variables. When it strikes, a later call traps with "memory
 * access out of bounds" or waits forever on a lock inside WebAssembly (seen in CI: a test worker
 * blocked in `Atomics.wait`, where no test timeout can reach it).
 *
 * The fix loads the build's Emscripten factory through a small wrapper module, passed to
 * onnxruntime-web as `env.wasm.wasmPaths.mjs`. The wrapper returns the same Emscripten module with
 * `stackAlloc` and `_free` replaced for callers in JavaScript (the WebAssembly code calls its own
 * functions and is not affected): every pointer `stackAlloc` returns is remembered, and `_free` of
 * such a pointer is dropped, since the stack is released by `stackRestore`. Heap and stack are
 * disjoint, so a heap pointer is never mistaken for one.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Where the wrapper keeps its count, so tests can see the fix at work. */
const COUNTER = Symbol.for('adapterc.ortTraining.droppedStackFrees');

type CounterHolder = { [COUNTER]?: number };

/**
 * The wrapper module as a `data:` URL, around the Emscripten factory in `distFolder` (onnxruntime-web's
 * dist/). Node imports `data:` modules and lets them import absolute `file:` URLs, so nothing has
 * to be written to disk or shipped as a separate JavaScript file.
 */
export function fixedFactoryUrl(distFolder: string): string {
  const factory = JSON.stringify(pathToFileURL(join(distFolder, 'ort-training-wasm-simd-threaded.mjs')).href);
  const counter = JSON.stringify(COUNTER.description);
  const source = `import factory from ${factory};
export default async function fixedFactory(moduleArg) {
  const module = await factory(moduleArg);
  // The build's exports replace themselves with the raw WebAssembly export on their first call
  // (module._free = raw); free(NULL) does nothing but settles that before the replacement below.
  module._free(0);
  const stackAlloc = module.stackAlloc;
  const free = module._free;
  const stackPointers = new Set();
  globalThis[Symbol.for(${counter})] ??= 0;
  module.stackAlloc = (size) => {
    const pointer = stackAlloc(size);
    stackPointers.add(pointer);
    return pointer;
  };
  module._free = (pointer) => {
    if (stackPointers.has(pointer)) {
      globalThis[Symbol.for(${counter})] += 1;
      return;
    }
    free(pointer);
  };
  return module;
}
`;
  return `data:text/javascript;base64,${Buffer.from(source).toString('base64')}`;
}

/** How many `_free` calls on stack pointers the fix has dropped in this process (undefined before the runtime started). */
export function droppedStackFrees(): number | undefined {
  return (globalThis as CounterHolder)[COUNTER];
}
