/** Reading and writing .onnx files (see files.ts), and models in memory (see bytes.ts). */
export { copySourceFile, DEFERRED_FROM, modelSourceFile, readModel, sourceRange, writeModel, writeFileAtomically, writeParts, type ReadOptions, type SourceFile, type SourceRange, type WriteOptions, type WritePart, withCopyWorkerAhead } from './files.js';
export { deferredRange, deferredReads, forEachChunk, hasRawData, isSourceRange, readRange, sameContents, tensorSource } from './deferred.js';
export { decodeModel, encodeModel, MAX_MODEL_BYTES } from './bytes.js';
export type { EncodeOptions } from './encode.js';
export { resolveExternalData, externalRef, externalTensors, hasExternalData, type ExternalRef } from './external.js';
export { unknownFields, unknownFieldsWarning, type UnknownFieldCount } from './unknown.js';
