/** `adapterc fmt`: rewrite specs in canonical form. */
import { parseSpec } from '../../parse/parse.js';
import { printSpec } from '../../print/print.js';
import { AdapterError, diagnostic, hasErrors, type Diagnostic } from '../../diagnostics/index.js';
import { writeFileAtomic } from '../../util/atomic-write.js';
import { inputPath, parseCommandArgs } from '../args.js';
import { jsonOption, okJson } from '../json.js';
import { ExitCode, type CliIo, type Command } from '../io.js';
import { readFileSync } from 'node:fs';
import { createTwoFilesPatch } from 'diff';

const help = `Usage: adapterc fmt <spec.adp>... [--check | --stdout]

Rewrites each spec in canonical form: two-space indentation, one statement or setting per line,
one blank line between top-level statements (none within runs of imports, placements, and
target/seed), comments kept. Formatting never changes what a spec means. A spec with syntax
errors is left untouched and the errors are reported.

Options:
  --check     change nothing; list the files that are not in canonical form, each with the diff
              formatting would apply, and exit 1 if any
  --stdout    print the formatted text instead of rewriting the file (one spec only)
  --json      print, per file, whether it was canonical (and the diff, the text or that it was
              rewritten) as JSON (errors too)
  -h, --help  show this help

Exit codes: 0 done (or, with --check, all formatted), 1 syntax errors or unformatted files, 2 internal error.`;

/** What `fmt` would change, as a unified diff (jsdiff's). */
function formattingDiff(file: string, before: string, after: string): string {
  const patch = createTwoFilesPatch(file, `${file} (formatted)`, before, after, undefined, undefined, { context: 2 });
  return patch.split('\n').filter((line) => !/^=+$/.test(line)).join('\n').replace(/\n$/, '');
}

export const fmtCommand: Command = {
  name: 'fmt',
  summary: 'rewrite specs in canonical form (--check to only verify)',
  help,
  async run(argv: readonly string[], io: CliIo): Promise<ExitCode> {
    const { values, positionals } = parseCommandArgs('fmt', argv, { check: { type: 'boolean' }, stdout: { type: 'boolean' }, ...jsonOption });
    const json = values['json'] === true;
    if (positionals.length === 0 || (values['stdout'] && positionals.length !== 1) || (values['stdout'] && values['check'])) {
      throw new AdapterError([diagnostic('ADP4001', { text: "'adapterc fmt' takes one or more spec files, or exactly one with --stdout (not with --check)." }, undefined, "run 'adapterc fmt --help'")]);
    }
    const problems: Diagnostic[] = [];
    const sources = new Map<string, string>();
    const unformatted: string[] = [];
    const formattedText = new Map<string, string>();
    for (const given of positionals) {
      const file = inputPath(io.cwd, given);
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch {
        problems.push(diagnostic('ADP1201', { path: given }, { file: given }, 'check the path'));
        continue;
      }
      sources.set(file, text);
      const parsed = parseSpec(text, file);
      if (hasErrors(parsed.diagnostics)) {
        problems.push(...parsed.diagnostics);
        continue;
      }
      const formatted = printSpec(parsed.spec);
      formattedText.set(given, formatted);
      if (values['stdout'] && !json) io.stdout(formatted.replace(/\n$/, ''));
      else if (formatted !== text) {
        unformatted.push(given);
        if (!values['check']) writeFileAtomic(file, formatted);
      }
    }
    if (problems.length > 0) throw new AdapterError(problems, sources);
    if (json) {
      const files = positionals.map((f) => ({
        file: f,
        canonical: !unformatted.includes(f),
        ...(unformatted.includes(f) && values['check'] ? { diff: formattingDiff(f, sources.get(inputPath(io.cwd, f))!, formattedText.get(f)!) } : {}),
        ...(values['stdout'] ? { text: formattedText.get(f) } : {}),
        ...(unformatted.includes(f) && !values['check'] && !values['stdout'] ? { rewritten: true } : {}),
      }));
      io.stdout(okJson({ files }));
      return values['check'] && unformatted.length > 0 ? ExitCode.userError : ExitCode.ok;
    }
    if (values['check']) {
      for (const f of unformatted) io.stdout(`${f}: not in canonical form\n${formattingDiff(f, sources.get(inputPath(io.cwd, f))!, formattedText.get(f)!)}`);
      return unformatted.length > 0 ? ExitCode.userError : ExitCode.ok;
    }
    if (!values['stdout']) for (const f of unformatted) io.stdout(`formatted ${f}`);
    return ExitCode.ok;
  },
};
