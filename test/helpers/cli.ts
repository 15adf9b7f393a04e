import { runCli } from '../../src/cli/main.js';

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the CLI in-process, capturing its output. */
/** `where`: the working folder, or that and the text standard input gives. */
export async function cli(args: readonly string[], where: string | { readonly cwd?: string; readonly stdin?: string } = process.cwd()): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const { cwd = process.cwd(), stdin } = typeof where === 'string' ? { cwd: where } : where;
  const code = await runCli(args, {
    cwd,
    ...(stdin === undefined ? {} : { stdin: () => stdin }),
    stdout: (t) => {
      stdout += t.endsWith('\n') ? t : `${t}\n`;
    },
    stderr: (t) => {
      stderr += t.endsWith('\n') ? t : `${t}\n`;
    },
  });
  return { code, stdout, stderr };
}
