/**
 * Policy for fields adapterc's copy of onnx.proto does not know (written by a newer ONNX, or by a
 * tool's private extension): they are kept, byte for byte, on the message they belong to, and
 * written back in field-number order, so an unchanged model round-trips exactly. Because adapterc
 * cannot know what they mean, it cannot keep them consistent with its own changes (a field that
 * names values, say); `unknownFieldsWarning` tells the user they are there.
 */
import { diagnostic, type Diagnostic } from '../diagnostics/index.js';
import type { Model, RawField } from '../ir/types.js';

export interface UnknownFieldCount {
  /** The message type that held the field, e.g. 'NodeProto'. */
  readonly message: string;
  readonly field: number;
  readonly count: number;
}

/** Counts the unknown fields anywhere in the model, by message type and field number. */
export function unknownFields(model: Model): UnknownFieldCount[] {
  const counts = new Map<string, UnknownFieldCount>();
  visit(model, (raw) => {
    if (raw.unknownIn === undefined) return;
    const key = `${raw.unknownIn}#${raw.field}`;
    const previous = counts.get(key);
    counts.set(key, { message: raw.unknownIn, field: raw.field, count: (previous?.count ?? 0) + 1 });
  });
  return [...counts.values()].sort((a, b) => (a.message === b.message ? a.field - b.field : a.message < b.message ? -1 : 1));
}

/** Walks the IR's plain objects and arrays (not typed arrays or byte views) for preserved fields. */
function visit(value: unknown, onRaw: (raw: RawField) => void): void {
  if (typeof value !== 'object' || value === null || ArrayBuffer.isView(value)) return;
  if (Array.isArray(value)) {
    for (const item of value) visit(item, onRaw);
    return;
  }
  for (const [key, child] of Object.entries(value)) {
    if (key === 'preserved' && Array.isArray(child)) for (const raw of child as RawField[]) onRaw(raw);
    else visit(child, onRaw);
  }
}

/** An ADP2014 warning when the model holds unknown fields, else undefined. */
export function unknownFieldsWarning(model: Model, file: string): Diagnostic | undefined {
  const fields = unknownFields(model);
  if (fields.length === 0) return undefined;
  const list = fields.map((f) => `${f.message} field ${f.field}${f.count > 1 ? ` ×${f.count}` : ''}`).join(', ');
  return diagnostic(
    'ADP2014',
    { file, fields: list },
    { file },
    'they come from a newer ONNX or a tool extension, and adapterc cannot check them against its changes; if the output misbehaves, export the model with ONNX 1.17 or older',
  );
}
