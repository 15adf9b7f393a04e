/**
 * The `adapterc` command line: dispatches to one module per command and turns failures into exit
 * codes (0 ok, 1 bad input with rendered diagnostics, 2 an internal error with a stack trace).
 */
import { AdapterError, diagnostic, renderDiagnostics } from '../diagnostics/index.js';
import { closestMatch } from '../diagnostics/suggest.js';
import { commands } from './commands/index.js';
import { failureJson } from './json.js';
import { ExitCode, processIo, type CliIo } from './io.js';
import { VERSION } from '../version.js';

function mainHelp(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    `adapterc ${VERSION} — compiles adapter specs (.adp) and BERT ONNX models into ONNX Runtime training artifacts.`,
    '',
    'Usage: adapterc <command> [options]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Options:',
    '  -h, --help     show this help, or a command\'s help after the command',
    '  -v, --version  print the version',
    '',
    'Exit codes: 0 ok, 1 bad input (the message says what and where), 2 internal error.',
    "Run 'adapterc <command> --help' for a command's options.",
  ].join('\n');
}

export async function runCli(argv: readonly string[], io: CliIo = processIo): Promise<ExitCode> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    io.stdout(mainHelp());
    return name === undefined ? ExitCode.userError : ExitCode.ok;
  }
  if (name === '-v' || name === '--version') {
    io.stdout(VERSION);
    return ExitCode.ok;
  }
  const command = commands.find((c) => c.name === name);
  if (command === undefined) {
    const near = closestMatch(name, commands.map((c) => c.name));
    const hint = near ? `did you mean '${near}'? Run 'adapterc --help' for the list.` : "run 'adapterc --help' for the list of commands";
    io.stderr(renderDiagnostics([diagnostic('ADP4001', { text: `Unknown command '${name}'.` }, undefined, hint)]));
    return ExitCode.userError;
  }
  if (rest.includes('-h') || rest.includes('--help')) {
    io.stdout(command.help);
    return ExitCode.ok;
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    // With --json, bad input is JSON on standard output too (the text still goes to standard error).
    if (error instanceof AdapterError && rest.includes('--json')) io.stdout(failureJson(error.diagnostics));
    return reportFailure(error, io);
  }
}

export function reportFailure(error: unknown, io: CliIo): ExitCode {
  if (error instanceof AdapterError) {
    io.stderr(renderDiagnostics(error.diagnostics, error.sources));
    return ExitCode.userError;
  }
  const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
  io.stderr(`adapterc: internal error (this is a bug in adapterc, please report it):\n${detail}`);
  return ExitCode.internalError;
}
