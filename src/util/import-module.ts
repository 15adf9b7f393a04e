/**
 * Loads a module at run time (onnxruntime-node, onnxruntime-web's training build): what `train`,
 * `predict` and the runtimes need, and `compile` never loads.
 *
 * The bundled CLI replaces this module (scripts/build-cli.mjs) with one that asks its loader
 * (bin/cli-bundle.js) to do the import: the bundle runs from V8's code cache, and functions V8
 * restores from a cache cannot call import() themselves (Node 20 rejects it with
 * ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING).
 */
export function importModule<T>(specifier: string): Promise<T> {
  return import(specifier) as Promise<T>;
}

/** onnxruntime-node, for train's step runtime and predict. */
export function importOnnxruntimeNode(): Promise<typeof import('onnxruntime-node')> {
  return importModule('onnxruntime-node');
}
