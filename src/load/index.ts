/** Reading and writing .onnx files (see files.ts), and models in memory (see bytes.ts). */
export { copySourceFile, readModel, sourceRange, writeModel, writeFileAtomically, type ReadOptions, type SourceFile, type SourceRange, type WriteOptions } from './files.js';
export { decodeModel, encodeModel, MAX_MODEL_BYTES } from './bytes.js';
export type { EncodeOptions } from './encode.js';
export { resolveExternalData, externalRef, externalTensors, hasExternalData, type ExternalRef } from './external.js';
export { unknownFields, unknownFieldsWarning, type UnknownFieldCount } from './unknown.js';
