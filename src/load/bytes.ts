/**
 * Models in memory: `decodeModel` turns the bytes of an .onnx file into the IR (with diagnostics for
 * everything that is not a readable ONNX model), `encodeModel` turns the IR back into bytes.
 */
import { Buffer } from 'node:buffer';
import { AdapterError, diagnostic, type Diagnostic } from '../diagnostics/index.js';
import type { Model } from '../ir/types.js';
import { decodeModelProto, type DecodedModel, type TopLevelTrace } from './decode.js';
import { encodeModelParts, joinParts, type EncodeOptions } from './encode.js';
import { WireError } from './wire.js';

/** Protobuf messages (and so ONNX files) cannot exceed 2 GiB; larger weights must be external. */
export const MAX_MODEL_BYTES = 2 ** 31 - 1;

/**
 * Decodes an ONNX model. Tensor data stays a view into `bytes` (keep it unchanged while the model
 * is in use). External data is not read here: see `resolveExternalData`, or use `readModel`.
 * `file` names the model in messages.
 */
export function decodeModel(bytes: Uint8Array, file: string): Model {
  const fail = (d: Diagnostic): never => {
    throw new AdapterError([d]);
  };
  if (bytes.length === 0) {
    fail(diagnostic('ADP2003', { file }, { file }, 'the export probably failed; export the model again'));
  }
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const trace: TopLevelTrace = { plausible: true, sawField: false };
  let model: DecodedModel;
  try {
    model = decodeModelProto(buf, trace);
  } catch (error) {
    if (!(error instanceof WireError)) throw error;
    return fail(wireDiagnostic(error, buf, file, trace));
  }
  const graph = model.graph;
  if (graph === undefined) {
    const sniffed = sniffFormat(buf);
    if (sniffed !== undefined) return fail(diagnostic('ADP2005', { file, reason: sniffed.reason }, { file }, sniffed.hint));
    return fail(
      diagnostic(
        'ADP2006',
        { file },
        { file },
        'it may be another kind of protobuf file (a TensorFlow .pb, say); convert it to ONNX first, e.g. with tf2onnx',
      ),
    );
  }
  return { ...model, graph };
}

const REEXPORT_HINT = 'export or download the model again';

function wireDiagnostic(error: WireError, buf: Buffer, file: string, trace: TopLevelTrace): Diagnostic {
  const where = { file };
  if (error.kind === 'range') return diagnostic('ADP2010', { file, value: error.message, offset: error.offset }, where, REEXPORT_HINT);
  if (error.kind === 'utf8') return diagnostic('ADP2011', { file, offset: error.offset }, where, REEXPORT_HINT);
  const sniffed = sniffFormat(buf);
  if (sniffed !== undefined) return diagnostic('ADP2005', { file, reason: sniffed.reason }, where, sniffed.hint);
  // Only a file whose top level reads as a model up to the cut is called truncated; random bytes
  // run past the end too, but almost never through valid ModelProto fields.
  if (error.kind === 'eof' && trace.plausible && trace.sawField) {
    return diagnostic(
      'ADP2004',
      { file, size: buf.length, needed: error.offset },
      where,
      `the file was cut short, probably by an interrupted download or copy; ${REEXPORT_HINT}`,
    );
  }
  if (trace.plausible && trace.sawField) {
    return diagnostic('ADP2005', { file, reason: `its contents are damaged at byte ${error.offset}` }, where, REEXPORT_HINT);
  }
  return diagnostic(
    'ADP2005',
    { file, reason: 'its bytes are not an ONNX protobuf' },
    where,
    'pass the .onnx file your exporter wrote (torch.onnx.export, tf2onnx, keras2onnx)',
  );
}

/** Recognises files people pass by mistake, for a more helpful message. */
function sniffFormat(buf: Buffer): { reason: string; hint: string } | undefined {
  const head = buf.subarray(0, 8);
  if (head.subarray(0, 4).equals(Buffer.from('PK\x03\x04', 'latin1'))) {
    return {
      reason: 'it is a ZIP archive, such as a PyTorch checkpoint or a Keras .keras file',
      hint: 'export the model to ONNX first, e.g. with torch.onnx.export, and pass the .onnx file',
    };
  }
  if (head.equals(Buffer.from('\x89HDF\r\n\x1a\n', 'latin1'))) {
    return { reason: 'it is an HDF5 file, such as a Keras .h5 model', hint: 'convert it to ONNX first, e.g. with tf2onnx' };
  }
  const text = buf.subarray(0, 256).toString('latin1');
  if (/^\s*(ir_version|<|\{)/.test(text)) {
    return {
      reason: 'it is a text file',
      hint: 'adapterc reads binary .onnx files; save the model with onnx.save instead of as text or JSON',
    };
  }
  return undefined;
}

/**
 * Encodes a model into one buffer of exactly its size. Large tensor data is copied once, straight
 * into that buffer. See `EncodeOptions` for tensors with external data.
 */
export function encodeModel(model: Model, options: EncodeOptions = {}): Buffer {
  const encoded = encodeModelParts(model, options);
  if (encoded.length > MAX_MODEL_BYTES) {
    throw new AdapterError([diagnostic('ADP2013', { size: encoded.length }, undefined, 'write the large tensors as external data')]);
  }
  return joinParts(encoded);
}
