/**
 * Writing without half-written results: data goes to a temporary file beside the target, then one
 * rename replaces the target. A reader sees the old file or the new one, never a mix.
 */
import { randomBytes } from 'node:crypto';
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';

export function temporarySibling(target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

export function writeFileAtomic(target: string, data: string | Uint8Array): void {
  const temporary = temporarySibling(target);
  try {
    writeFileSync(temporary, data);
    renameSync(temporary, target);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}
