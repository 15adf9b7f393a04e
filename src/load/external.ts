/**
 * External data: tensors whose bytes live in a side file next to the model (data_location =
 * EXTERNAL, with external_data entries `location`, `offset`, `length` relative to the model's
 * folder), as ONNX writes models over 2 GiB.
 *
 * Reading copies each tensor's bytes into memory (`rawData`), so the model no longer depends on the
 * side file and can be written anywhere, even over the file it came from.
 */
import { Buffer } from 'node:buffer';
import { open, type FileHandle } from 'node:fs/promises';
import { isAbsolute, join, normalize, sep } from 'node:path';
import { AdapterError, diagnostic } from '../diagnostics/index.js';
import { tensorLabel } from '../ir/tensor.js';
import { deferTensorData, hasRawData, tensorSource, type SourceFile, type WritePart } from './deferred.js';
import { DataLocation, type Model, type StringEntry, type Tensor } from '../ir/types.js';
import { allTensors } from '../ir/walk.js';

/** The parsed external_data entries of one tensor. */
export interface ExternalRef {
  /** Relative to the model's folder, as written in the model. */
  readonly location: string;
  readonly offset: number;
  /** Undefined means "to the end of the file". */
  readonly length?: number;
}

export function hasExternalData(t: Tensor): boolean {
  return t.dataLocation === DataLocation.EXTERNAL;
}

/** Every tensor of the model that keeps its data in a side file. */
export function externalTensors(model: Model): Tensor[] {
  return allTensors(model.graph).filter(hasExternalData);
}

function invalid(t: Tensor, problem: string, file: string): AdapterError {
  return new AdapterError([
    diagnostic('ADP2009', { tensor: tensorLabel(t), problem }, { file }, 'save the model again with onnx.save(..., save_as_external_data=True)'),
  ]);
}

/** Parses and checks a tensor's external_data entries. `file` is the model, for messages. */
export function externalRef(t: Tensor, file: string): ExternalRef {
  const entry = (key: string): string | undefined => t.externalData?.find((e) => e.key === key)?.value;
  const location = entry('location');
  if (location === undefined || location === '') throw invalid(t, "it has no 'location'", file);
  // Like onnx.checker: the side file must be inside the model's folder.
  const normal = normalize(location);
  if (isAbsolute(location) || normal === '..' || normal.startsWith(`..${sep}`)) {
    throw invalid(t, `its location '${location}' is outside the model's folder`, file);
  }
  const number = (key: string): number | undefined => {
    const text = entry(key);
    if (text === undefined) return undefined;
    if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text))) throw invalid(t, `its ${key} '${text}' is not a byte count`, file);
    return Number(text);
  };
  const length = number('length');
  return { location, offset: number('offset') ?? 0, ...(length === undefined ? {} : { length }) };
}

function fsProblem(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'does not exist';
  if (code === 'EISDIR') return 'is a folder';
  if (code === 'EACCES' || code === 'EPERM') return 'cannot be read (permission denied)';
  return `cannot be read (${code ?? String(error)})`;
}

/**
 * Reads the bytes of every tensor with external data into its `rawData`; paths are relative to
 * `folder` (the model's folder). `file` names the model in messages. Tensors whose data was already
 * read are skipped. With `deferFrom`, the files and ranges are checked the same way but the bytes
 * of tensors of at least that many bytes are left in their files until something reads them (see
 * `deferred.ts`).
 */
export async function resolveExternalData(model: Model, folder: string, file: string, options: { readonly deferFrom?: number } = {}): Promise<void> {
  const pending = externalTensors(model).filter((t) => !hasRawData(t));
  const byLocation = new Map<string, { tensor: Tensor; ref: ExternalRef }[]>();
  for (const tensor of pending) {
    const ref = externalRef(tensor, file);
    const list = byLocation.get(ref.location) ?? [];
    list.push({ tensor, ref });
    byLocation.set(ref.location, list);
  }
  for (const [location, items] of byLocation) {
    let handle: FileHandle;
    try {
      handle = await open(join(folder, location), 'r');
    } catch (error) {
      const first = items[0]!.tensor;
      throw new AdapterError([
        diagnostic(
          'ADP2007',
          { tensor: tensorLabel(first), location, problem: fsProblem(error) },
          { file },
          `keep '${location}' next to the model, at the same relative place it had when the model was saved`,
        ),
      ]);
    }
    try {
      const info = await handle.stat();
      const size = info.size;
      const source: SourceFile = { path: join(folder, location), size, mtimeMs: info.mtimeMs };
      for (const { tensor, ref } of items) {
        const end = ref.offset + (ref.length ?? Math.max(0, size - ref.offset));
        if (end > size || ref.offset > size) {
          throw new AdapterError([
            diagnostic('ADP2008', { tensor: tensorLabel(tensor), location, end, size }, { file }, `'${location}' is incomplete; copy or download it again`),
          ]);
        }
        if (options.deferFrom !== undefined && end - ref.offset >= options.deferFrom) deferTensorData(tensor, { file: source, offset: ref.offset, length: end - ref.offset });
        else tensor.rawData = await readRange(handle, ref.offset, end - ref.offset, location, file, tensor);
      }
    } finally {
      await handle.close();
    }
  }
}

async function readRange(handle: FileHandle, offset: number, length: number, location: string, file: string, tensor: Tensor): Promise<Buffer> {
  const buffer = Buffer.allocUnsafe(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(buffer, done, length - done, offset + done);
    if (bytesRead === 0) {
      // The file shrank after stat: report it as too short.
      throw new AdapterError([diagnostic('ADP2008', { tensor: tensorLabel(tensor), location, end: offset + length, size: offset + done }, { file })]);
    }
    done += bytesRead;
  }
  return buffer;
}

/** Where `writeModel` puts external tensors: one side file, each tensor at an offset. */
export interface ExternalLayout {
  /** New external_data entries per tensor. */
  readonly entries: Map<Tensor, StringEntry[]>;
  /** The side file's contents, in order (views of the tensors' bytes, ranges of deferred ones, and zero padding). */
  readonly parts: WritePart[];
  readonly length: number;
}

/** The external_data entries that place a tensor's `length` bytes at `offset` in the file `location`. */
export function externalDataEntries(location: string, offset: number, length: number): StringEntry[] {
  return [
    { key: 'location', value: location },
    { key: 'offset', value: String(offset) },
    { key: 'length', value: String(length) },
  ];
}

/** Large tensors start at page boundaries so that ONNX Runtime can memory-map them. */
const ALIGN_FROM = 1024 * 1024;
const PAGE = 4096;

/**
 * Lays out the given tensors (whose external data must have been read) in one side file named
 * `location`, from byte `start` on (what comes before is the caller's; `parts` and `length` cover
 * only what this layout adds).
 * Entries other than location, offset and length (a checksum, say) are kept.
 */
export function layoutExternalData(tensors: readonly Tensor[], location: string, start = 0): ExternalLayout {
  const entries = new Map<Tensor, StringEntry[]>();
  const parts: WritePart[] = [];
  let length = start;
  for (const tensor of tensors) {
    // Tensors marked external by the caller may still hold their data in a typed field.
    const data = tensorSource(tensor);
    if (data.length >= ALIGN_FROM && length % PAGE !== 0) {
      const padding = PAGE - (length % PAGE);
      parts.push(new Uint8Array(padding));
      length += padding;
    }
    const kept = (tensor.externalData ?? []).filter((e) => e.key !== 'location' && e.key !== 'offset' && e.key !== 'length');
    entries.set(tensor, [...externalDataEntries(location, length, data.length), ...kept]);
    parts.push(data);
    length += data.length;
  }
  return { entries, parts, length: length - start };
}
