/**
 * Output folders that appear whole or not at all: everything is written into a temporary folder
 * beside the target, and one rename puts it in place. A folder adapterc made before (it holds
 * `summary.json`) is replaced; any other existing folder is left alone and reported. Missing
 * parent folders are created (and removed again if nothing is written).
 *
 * The temporary folder is named `.NAME.tmp-PID-XXXXXXXX` and holds a marker naming its process.
 * A run killed before its rename leaves it behind; the next write beside it removes every such
 * folder whose process no longer exists (only folders with adapterc's marker, made on this host).
 * Killed between its two renames, a run leaves the previous output as `.NAME.tmp-PID-X.previous`
 * and no NAME: that folder is put back.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import * as path from 'node:path';
import { AdapterError, diagnostic } from '../diagnostics/index.js';
import { processAlive } from '../util/process.js';

/** The file whose presence marks a folder as adapterc's output. */
export const MARKER = 'summary.json';

/** The file whose presence marks a temporary folder as adapterc's, with the process that made it. */
export const STAGING_MARKER = '.adapterc-staging.json';

function failure(target: string, reason: string, hint: string): AdapterError {
  return new AdapterError([diagnostic('ADP4002', { path: target, reason }, { file: target }, hint)]);
}

const STAGING = /^\.(.+)\.tmp-(\d+)-[0-9a-f]{8}(\.previous)?$/;

/** Removes (or, for a `.previous` whose output is missing, restores) what dead adapterc runs left in `parent`. */
export function removeLeftovers(parent: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(parent);
  } catch {
    return [];
  }
  const handled: string[] = [];
  for (const entry of entries) {
    const match = STAGING.exec(entry);
    if (!match || processAlive(Number(match[2]))) continue;
    const folder = path.join(parent, entry);
    try {
      if (!statSync(folder).isDirectory()) continue;
      if (match[3] === undefined) {
        const marker = JSON.parse(readFileSync(path.join(folder, STAGING_MARKER), 'utf8')) as { pid?: number; host?: string };
        if (marker.pid !== Number(match[2]) || marker.host !== hostname()) continue;
        rmSync(folder, { recursive: true, force: true });
      } else {
        // A previous output (adapterc's: it has summary.json), moved aside by a run that died before it finished.
        if (!existsSync(path.join(folder, MARKER))) continue;
        const output = path.join(parent, match[1]!);
        if (existsSync(output)) rmSync(folder, { recursive: true, force: true });
        else renameSync(folder, output);
      }
      handled.push(entry);
    } catch {
      // No marker, or it changed under us: not ours to touch.
    }
  }
  return handled;
}

/** ENOSPC and EDQUOT anywhere in the write: one message, nothing left. */
function spaceFailure(error: unknown, target: string): AdapterError | undefined {
  const system = error instanceof AdapterError ? error.cause : error;
  const code = (system as NodeJS.ErrnoException | undefined)?.code;
  if (code !== 'ENOSPC' && code !== 'EDQUOT') return undefined;
  const reason = code === 'ENOSPC' ? 'the disk holding it is full' : 'the disk quota is used up';
  return failure(target, `${reason} (nothing was written)`, 'free some space, or choose an output folder on another disk with -o');
}

/**
 * A symbolic link given as the output is followed, and the folder it points to written (the rename
 * below would otherwise replace the link itself with a real folder, leaving its target stale). A
 * link to nothing is refused rather than guessed at.
 */
function followLink(target: string): string {
  try {
    if (!lstatSync(target).isSymbolicLink()) return target;
  } catch {
    return target; // Nothing there yet.
  }
  try {
    return realpathSync(target);
  } catch {
    throw failure(target, 'it is a symbolic link to a folder that does not exist', 'create the folder it points to, or choose another output folder with -o');
  }
}

/**
 * Runs `fill` on a fresh temporary folder, then moves it to `target`. Nothing is left behind on
 * failure. An existing non-empty `target` is replaced only when `ours` says adapterc wrote it
 * (default: it holds summary.json, as compile's output folders do).
 */
export async function writeOutputFolder<T>(given: string, fill: (folder: string) => Promise<T>, ours: (folder: string, entries: readonly string[]) => boolean = (_, entries) => entries.includes(MARKER)): Promise<T> {
  const target = followLink(given);
  const parent = path.dirname(path.resolve(target));
  if (existsSync(target)) {
    if (!statSync(target).isDirectory()) throw failure(target, 'it is a file', 'choose a folder name with -o');
    const entries = readdirSync(target);
    if (entries.length > 0 && !ours(target, entries)) {
      throw failure(target, 'it exists and is not an adapterc output folder', 'choose another folder with -o, or empty this one');
    }
  }
  let created: string | undefined;
  try {
    created = mkdirSync(parent, { recursive: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOTDIR' || code === 'EEXIST' ? `a part of '${parent}' is a file` : code === 'EACCES' || code === 'EPERM' || code === 'EROFS' ? `'${parent}' cannot be created here` : `the system reports ${code}`;
    throw failure(target, reason, 'choose a writable output folder with -o');
  }
  removeLeftovers(parent);
  const temporary = path.join(parent, `.${path.basename(target)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  const removeCreated = () => {
    if (created !== undefined) rmSync(created, { recursive: true, force: true });
  };
  try {
    mkdirSync(temporary, { recursive: false });
    writeFileSync(path.join(temporary, STAGING_MARKER), JSON.stringify({ pid: process.pid, host: hostname(), target: path.resolve(target) }));
  } catch (error) {
    rmSync(temporary, { recursive: true, force: true });
    removeCreated();
    const code = (error as NodeJS.ErrnoException).code;
    throw spaceFailure(error, target) ?? failure(target, code === 'EACCES' || code === 'EPERM' || code === 'EROFS' ? `its folder '${parent}' is not writable` : `the system reports ${code}`, 'choose a writable output folder with -o');
  }
  try {
    const result = await fill(temporary);
    rmSync(path.join(temporary, STAGING_MARKER), { force: true });
    const previous = existsSync(target) ? `${temporary}.previous` : undefined;
    if (previous) renameSync(target, previous);
    renameSync(temporary, target);
    if (previous) rmSync(previous, { recursive: true, force: true });
    return result;
  } catch (error) {
    rmSync(temporary, { recursive: true, force: true });
    removeCreated();
    throw spaceFailure(error, target) ?? error;
  }
}
