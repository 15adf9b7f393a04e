/** Argument parsing shared by the commands, with errors as ADP4001 diagnostics. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { AdapterError, closestMatch, diagnostic } from '../diagnostics/index.js';

type Options = NonNullable<ParseArgsConfig['options']>;

export interface ParsedArgs {
  readonly values: Readonly<Record<string, string | boolean | undefined>>;
  readonly positionals: readonly string[];
}

/**
 * `elsewhere`: advice for options a user may expect that the command takes elsewhere (train's
 * learning rate is the spec's), keyed by the option's name without dashes.
 */
export function parseCommandArgs(command: string, argv: readonly string[], options: Options, elsewhere: Readonly<Record<string, string>> = {}): ParsedArgs {
  try {
    const { values, positionals } = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
    return { values: values as ParsedArgs['values'], positionals };
  } catch (error) {
    const code = (error as { code?: string }).code;
    const unknown = code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? /'(-{1,2}[^'\s=]+)/.exec(error instanceof Error ? error.message : '')?.[1] : undefined;
    if (unknown !== undefined) {
      const name = unknown.replace(/^-+/, '');
      const known = Object.keys(options);
      const near = closestMatch(name, known);
      const hint = elsewhere[name] ?? (near !== undefined ? `did you mean '--${near}'?` : `its options are ${known.map((k) => `--${k}`).join(', ')}; run 'adapterc ${command} --help'`);
      throw new AdapterError([diagnostic('ADP4001', { text: `Unknown option '${unknown}' for 'adapterc ${command}'.` }, undefined, hint)]);
    }
    // Node's other messages (a missing value, a value given to a flag): its first sentence, quotes balanced.
    const text = error instanceof Error ? error.message.split('\n')[0]!.replace(/\.$/, '') : String(error);
    const balanced = (text.match(/'/g)?.length ?? 0) % 2 === 0 ? text : text.replace(/'([^']*)$/, '$1');
    throw new AdapterError([diagnostic('ADP4001', { text: `${balanced}.` }, undefined, `run 'adapterc ${command} --help' for its options`)]);
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
