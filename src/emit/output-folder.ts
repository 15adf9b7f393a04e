/**
 * Output folders that appear whole or not at all: everything is written into a temporary folder
 * beside the target, and one rename puts it in place. A folder adapterc made before (it holds
 * `summary.json`) is replaced; any other existing folder is left alone and reported.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { AdapterError, diagnostic } from '../diagnostics/index.js';

/** The file whose presence marks a folder as adapterc's output. */
export const MARKER = 'summary.json';

function failure(target: string, reason: string, hint: string): AdapterError {
  return new AdapterError([diagnostic('ADP4002', { path: target, reason }, { file: target }, hint)]);
}

/** Runs `fill` on a fresh temporary folder, then moves it to `target`. Nothing is left behind on failure. */
export async function writeOutputFolder<T>(target: string, fill: (folder: string) => Promise<T>): Promise<T> {
  const parent = path.dirname(path.resolve(target));
  if (existsSync(target)) {
    if (!statSync(target).isDirectory()) throw failure(target, 'it is a file', 'choose a folder name with -o');
    const entries = readdirSync(target);
    if (entries.length > 0 && !entries.includes(MARKER)) {
      throw failure(target, 'it exists and is not an adapterc output folder', 'choose another folder with -o, or empty this one');
    }
  }
  const temporary = path.join(parent, `.${path.basename(target)}.tmp-${randomBytes(4).toString('hex')}`);
  try {
    mkdirSync(temporary, { recursive: false });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? `its parent folder '${parent}' does not exist` : code === 'EACCES' || code === 'EPERM' || code === 'EROFS' ? `its folder '${parent}' is not writable` : `the system reports ${code}`;
    throw failure(target, reason, 'choose a writable output folder with -o');
  }
  try {
    const result = await fill(temporary);
    const previous = existsSync(target) ? `${temporary}.previous` : undefined;
    if (previous) renameSync(target, previous);
    renameSync(temporary, target);
    if (previous) rmSync(previous, { recursive: true, force: true });
    return result;
  } catch (error) {
    rmSync(temporary, { recursive: true, force: true });
    throw error;
  }
}
