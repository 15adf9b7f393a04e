/**
 * `base.data`, the shared-base layout's weight file: every weight of the model as it was read,
 * which the training, eval and adapted models reference as ONNX external data.
 *
 * Most of those bytes already sit in one file the model was read from: the model file itself
 * (exporters keep weights inline below 2 GiB) or its one side file (above). base.data starts as a
 * copy of that file, made by the kernel or the file system (a clone), so the bytes never pass
 * through this process, and the tensors are referenced at their offsets inside it; the bytes in
 * between (protobuf framing, or another model's leftovers) are never read. Tensors from elsewhere
 * (small ones an exporter kept inline beside a side file, data in typed fields) are appended after
 * it, large ones page-aligned. On the 2-core development machine the copy of BERT-base took
 * 0.14-0.31 s (`fs.copyFileSync` into a new file, two runs; see copySourceFile on why new), where
 * writing the same 438 MB from memory takes about 1 s (`dd bs=4M`: 1.08 s).
 *
 * Copied offsets are not page-aligned, so onnxruntime on CPU reads those weights instead of mapping
 * them (on CUDA they are copied to the device either way). The file is the same bytes for every
 * task compiled against the same model, whatever the spec trains.
 */
import { open } from 'node:fs/promises';
import type { Model, StringEntry, Tensor } from '../ir/index.js';
import { copySourceFile, sourceRange, writeFileAtomically, writeParts, type SourceFile, type SourceRange } from '../load/index.js';
import { externalDataEntries, layoutExternalData } from '../load/external.js';

/** The file name, beside the models that reference it. */
export const BASE_DATA = 'base.data';

/** What `writeBaseData` wrote. */
export interface BaseData {
  /** Where each tensor is in base.data, as external_data entries. */
  readonly entries: ReadonlyMap<Tensor, readonly StringEntry[]>;
  /** The source file base.data starts as a copy of (its first `copied.size` bytes), if any. */
  readonly copied?: SourceFile;
}

/**
 * Starts writing `file` for `tensors` of `model` (as `readModel` returned it): where each tensor
 * will be is known at once, so the models that reference base.data can be encoded and written
 * while it is; `written` settles when the file is complete.
 */
export function startBaseData(file: string, model: Model, tensors: readonly Tensor[]): { readonly layout: BaseData; readonly written: Promise<void> } {
  const ranges = new Map<Tensor, SourceRange>();
  for (const t of tensors) {
    const range = sourceRange(model, t);
    if (range !== undefined) ranges.set(t, range);
  }
  const copied = largestSource(ranges);
  const entries = new Map<Tensor, readonly StringEntry[]>();
  for (const [t, range] of ranges) if (range.file === copied) entries.set(t, externalDataEntries(BASE_DATA, range.offset, range.length));
  const appended = layoutExternalData(
    tensors.filter((t) => !entries.has(t)),
    BASE_DATA,
    copied?.size ?? 0,
  );
  for (const [t, e] of appended.entries) entries.set(t, e);
  const write = async (): Promise<void> => {
    if (copied === undefined) return writeFileAtomically(file, appended.parts, false);
    await copySourceFile(copied, file);
    if (appended.parts.length === 0) return;
    const handle = await open(file, 'a');
    try {
      await writeParts(handle, appended.parts);
    } finally {
      await handle.close();
    }
  };
  return { layout: { entries, ...(copied === undefined ? {} : { copied }) }, written: write() };
}

/** The source file that holds the most of the tensors' bytes. */
function largestSource(ranges: ReadonlyMap<Tensor, SourceRange>): SourceFile | undefined {
  const bytes = new Map<SourceFile, number>();
  for (const r of ranges.values()) bytes.set(r.file, (bytes.get(r.file) ?? 0) + r.length);
  let best: SourceFile | undefined;
  for (const [file, n] of bytes) if (best === undefined || n > bytes.get(best)!) best = file;
  return best;
}
