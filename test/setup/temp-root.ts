/**
 * vitest's global setup: every temporary file and folder the tests make goes under one fresh folder
 * (TMPDIR, which os.tmpdir() reads and the forked workers inherit), removed when the run ends.
 * Tests make hundreds of compiled folders with mkdtemp; without this every run left them in the
 * system's temporary folder, and repeated runs helped fill this machine's disk.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

export default function setup(): () => void {
  const root = mkdtempSync(path.join(tmpdir(), 'adapterc-tests-'));
  process.env['TMPDIR'] = root;
  return () => rmSync(root, { recursive: true, force: true });
}
