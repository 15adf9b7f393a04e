/**
 * The onnx-proto runtime classes.
 *
 * onnx-proto is CommonJS (`module.exports = $root`), and Node's ESM loader cannot see its `onnx`
 * property as a named export, so `import { onnx } from 'onnx-proto'` type-checks and works under
 * vitest but throws in plain Node. Going through the default export works everywhere; type positions
 * keep using `import type { onnx } from 'onnx-proto'`.
 */
import onnxProto from 'onnx-proto';

export const proto = onnxProto.onnx;
