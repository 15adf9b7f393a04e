import * as path from 'node:path';

/**
 * An input path as the caller gave it, made relative to `cwd` when that is not the process's own
 * working directory: messages then name the file as the user typed it.
 */
export function inputPath(cwd: string | undefined, file: string): string {
  if (cwd === undefined || path.isAbsolute(file) || path.resolve(cwd) === process.cwd()) return file;
  return path.join(cwd, file);
}
