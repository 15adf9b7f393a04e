/** Output folders given as symbolic links (issue 22, item 7): followed and written through, never replaced. */
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AdapterError } from '../../src/diagnostics/index.js';
import { writeOutputFolder } from '../../src/emit/output-folder.js';

const scratch = mkdtempSync(path.join(tmpdir(), 'adapterc-output-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const fill = async (folder: string) => {
  writeFileSync(path.join(folder, 'summary.json'), '{"new":true}');
};

describe('a symbolic link as the output folder', () => {
  it('is followed: the folder it points to is written, the link stays a link', async () => {
    const real = path.join(scratch, 'real');
    mkdirSync(real);
    writeFileSync(path.join(real, 'summary.json'), '{"old":true}');
    const link = path.join(scratch, 'link');
    symlinkSync(real, link);
    await writeOutputFolder(link, fill);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readlinkSync(link)).toBe(real);
    expect(readFileSync(path.join(real, 'summary.json'), 'utf8')).toBe('{"new":true}');
  });
  it('to a folder that is not an output folder is refused, as that folder would be', async () => {
    const real = path.join(scratch, 'other');
    mkdirSync(real);
    writeFileSync(path.join(real, 'notes.txt'), 'mine');
    symlinkSync(real, path.join(scratch, 'other-link'));
    await expect(writeOutputFolder(path.join(scratch, 'other-link'), fill)).rejects.toThrow(AdapterError);
    expect(readFileSync(path.join(real, 'notes.txt'), 'utf8')).toBe('mine');
  });
  it('dangling, is refused with ADP4002 and left as it is', async () => {
    const link = path.join(scratch, 'dangling');
    symlinkSync(path.join(scratch, 'missing'), link);
    const error = await writeOutputFolder(link, fill).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AdapterError);
    expect((error as AdapterError).diagnostics.map((d) => d.code)).toEqual(['ADP4002']);
    expect((error as AdapterError).diagnostics[0]!.message).toContain('symbolic link to a folder that does not exist');
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
  });
});
