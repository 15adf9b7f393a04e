/**
 * Reading spec files, and which files an `import` may read. A spec can come from someone else (a
 * build service that checks its users' specs), so an import must not become a way to read, or
 * hang on, any file of the machine: only regular `.adp` files, inside the importing spec's folder
 * tree or a folder the caller names, are read, and code frames show at most one clipped line.
 */
import { closeSync, constants, existsSync, fstatSync, openSync, readFileSync, readSync, realpathSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { diagnostic, type Diagnostic, type SourceSpan } from '../diagnostics/index.js';

/** A spec larger than this is refused before it is read (the largest checked-in spec has 2 KB). */
export const MAX_SPEC_BYTES = 8 * 1024 * 1024;

/** Why the file at `file` cannot be a spec (checked without opening it), or undefined when it can. */
export function specFileProblem(file: string): string | undefined {
  let stats;
  try {
    stats = statSync(file);
  } catch {
    return undefined; // Missing or unreadable: reading it reports that (ADP1201).
  }
  if (!stats.isFile()) return stats.isDirectory() ? 'it is a folder' : 'it is not a regular file';
  if (stats.size > MAX_SPEC_BYTES) return `it has ${stats.size} bytes, more than the ${MAX_SPEC_BYTES} a spec may have`;
  return undefined;
}

/**
 * The text of a regular file of at most MAX_SPEC_BYTES, or undefined. Opened without blocking and
 * checked through its descriptor, so a FIFO or device swapped in after `specFileProblem` looked is
 * still never read.
 */
export function readSpecFile(file: string): string | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
    const stats = fstatSync(fd);
    if (!stats.isFile() || stats.size > MAX_SPEC_BYTES) return undefined;
    const buffer = Buffer.alloc(stats.size);
    let read = 0;
    while (read < buffer.length) {
      const n = readSync(fd, buffer, read, buffer.length - read, read);
      if (n === 0) break;
      read += n;
    }
    return buffer.subarray(0, read).toString('utf8');
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export function realSpecPath(file: string): string | undefined {
  try {
    return realpathSync(file);
  } catch {
    return undefined;
  }
}

/** Whether `file` is `root` or lies below it (both absolute). */
function inside(file: string, root: string): boolean {
  const rel = path.relative(root, file);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}

export interface ImportRoots {
  /** Absolute folders imports may read from: the main spec's folder first, then the caller's. */
  readonly folders: readonly string[];
  /** A path with symbolic links resolved; undefined when it does not exist. */
  readonly realpath: (file: string) => string | undefined;
}

/**
 * What is wrong with importing `target` (written as `written` at `at`), before anything is read:
 * not a `.adp` file (ADP1205), or outside every import root, by its path or through a symbolic
 * link (ADP1206). Undefined when it may be read.
 */
export function importProblem(written: string, target: string, at: SourceSpan, roots: ImportRoots): Diagnostic | undefined {
  if (path.extname(target) !== '.adp') {
    return diagnostic('ADP1205', { path: written }, { span: at }, 'imports name spec files, which end in .adp');
  }
  return outsideRoots(written, target, at, roots);
}

/**
 * ADP1206 when `target` (a spec, or an AdapterHub adapter folder a spec names) lies outside every
 * import root, by its path or through a symbolic link; undefined when it may be read.
 */
export function outsideRoots(written: string, target: string, at: SourceSpan, roots: ImportRoots): Diagnostic | undefined {
  const absolute = path.resolve(target);
  const real = roots.realpath(absolute);
  const allowed = (f: string) => roots.folders.some((root) => inside(f, root) || inside(f, roots.realpath(root) ?? root));
  // The written path is judged first, so that whether a file outside exists is not given away.
  if (!allowed(absolute) || (real !== undefined && !allowed(real))) {
    const root = roots.folders[0]!;
    return diagnostic('ADP1206', { path: written, roots: roots.folders.join(', ') }, { span: at }, `move it under ${root}, or name the folder that holds it with --import-root (importRoots in the library)`);
  }
  return undefined;
}

let shipped: string | null | undefined;
/**
 * adapterc's own `specs/` folder (the variants of the paper, shipped in the package): a library
 * meant to be imported (`import ".../specs/houlsby.adp"`), so always an import root. Found by
 * walking up from this module to adapterc's package.json, from src/, dist/ or the bundle alike.
 */
export function shippedSpecs(): string | undefined {
  if (shipped !== undefined) return shipped ?? undefined;
  shipped = null;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++, dir = path.dirname(dir)) {
    try {
      const manifest = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string };
      if (manifest.name === 'adapterc' && existsSync(path.join(dir, 'specs'))) {
        shipped = path.join(dir, 'specs');
        break;
      }
    } catch {
      // No package.json here: look further up.
    }
  }
  return shipped ?? undefined;
}
