import * as path from 'node:path';
import type { SpecHost } from '../../src/check/check.js';

/** Spec files held in memory, keyed by normalized path. */
export function memoryHost(files: Record<string, string>): SpecHost {
  const byPath = new Map(Object.entries(files).map(([f, t]) => [path.resolve(f), t]));
  return { read: (file) => byPath.get(path.resolve(file)) };
}
