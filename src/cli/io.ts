/** What a command may touch of the outside world, so tests can run commands in-process. */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** Directory relative paths are resolved against. */
  readonly cwd: string;
  /** Standard input's text, for commands that read it (default: the process's). */
  readonly stdin?: () => string;
}

export const processIo: CliIo = {
  stdout: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
  stderr: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
  cwd: process.cwd(),
};

/** Exit codes: 0 ok, 1 the user's input is wrong, 2 adapterc itself failed. */
export const ExitCode = { ok: 0, userError: 1, internalError: 2 } as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export interface Command {
  readonly name: string;
  /** One line for `adapterc --help`. */
  readonly summary: string;
  /** The full text of `adapterc <name> --help`. */
  readonly help: string;
  run(argv: readonly string[], io: CliIo): Promise<ExitCode>;
}
