/** Argument parsing shared by the commands, with errors as ADP4001 diagnostics. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { AdapterError, diagnostic } from '../diagnostics/index.js';

type Options = NonNullable<ParseArgsConfig['options']>;

export interface ParsedArgs {
  readonly values: Readonly<Record<string, string | boolean | undefined>>;
  readonly positionals: readonly string[];
}

export function parseCommandArgs(command: string, argv: readonly string[], options: Options): ParsedArgs {
  try {
    const { values, positionals } = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
    return { values: values as ParsedArgs['values'], positionals };
  } catch (error) {
    const text = error instanceof Error ? error.message.split('\n')[0]!.replace(/\.$/, '') : String(error);
    throw new AdapterError([diagnostic('ADP4001', { text: `${text}.` }, undefined, `run 'adapterc ${command} --help' for its options`)]);
  }
}

/** Fails unless exactly `names.length` positional arguments were given. */
export function expectPositionals(command: string, positionals: readonly string[], names: readonly string[]): string[] {
  if (positionals.length !== names.length) {
    const wanted = names.map((n) => `<${n}>`).join(' ');
    throw new AdapterError([
      diagnostic(
        'ADP4001',
        { text: `'adapterc ${command}' takes ${wanted}, but was given ${positionals.length === 0 ? 'nothing' : positionals.map((p) => `'${p}'`).join(' ')}.` },
        undefined,
        `run 'adapterc ${command} --help' for its usage`,
      ),
    ]);
  }
  return [...positionals];
}

export { inputPath } from '../api/paths.js';

/** `--import-root DIR` (repeatable): folders besides the spec's own that its imports may read. */
export const importRootOption = { 'import-root': { type: 'string', multiple: true } } as const;

export function importRootsOf(values: ParsedArgs['values']): string[] {
  const raw: unknown = values['import-root'];
  return Array.isArray(raw) ? raw.filter((r): r is string => typeof r === 'string') : [];
}
