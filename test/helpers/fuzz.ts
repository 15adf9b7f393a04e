/**
 * Fuzzing adapterc through its library API, shared by the property tests (test/fuzz/) and the
 * longer run behind `npm run fuzz` (scripts/fuzz.ts). An input's outcome is one of:
 *   ok          it was accepted (a plan; artifacts written)
 *   diagnostic  it was refused with catalogued diagnostics (an AdapterError)
 *   defect      anything else: another exception, a code outside the catalogue, a fmt round trip
 *               that changes meaning, or a diagnostic whose place lies outside the input
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { compile } from '../../src/api/compile.js';
import { inspect } from '../../src/api/inspect.js';
import { checkSpecText } from '../../src/check/check.js';
import { AdapterError, catalogue, hasErrors, type Diagnostic } from '../../src/diagnostics/index.js';
import { parseSpec } from '../../src/parse/parse.js';
import { printSpec } from '../../src/print/print.js';
import { Xoshiro128 } from '../../src/util/prng.js';
import type { SpecHost } from '../../src/check/check.js';

export type Outcome = { readonly kind: 'ok' } | { readonly kind: 'diagnostic'; readonly codes: readonly string[] } | { readonly kind: 'defect'; readonly what: string };

/** A seeded generator of numbers in [0, 1) (the project's xoshiro128**), so that a run repeats exactly from its seed. */
export function random(seed: number): () => number {
  const source = new Xoshiro128(seed);
  return () => source.nextUint32() / 4294967296;
}

const pick = <T>(rng: () => number, xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)]!;

const SPEC_WORDS = ['adapter', 'place', 'after', 'in', 'layers', 'all', 'except', 'train', 'size', 'activation', 'init', 'gelu', 'relu', 'normal', 'std', 'attention', 'ffn', 'on', 'lora', 'ia3', 'rank', 'alpha', 'query', 'key', 'value', 'intermediate', 'ffn_in', 'head', 'classifier', 'labels', 'optimizer', 'adamw', 'lr', 'schedule', 'linear', 'warmup', 'seed', 'target', 'cuda', '{', '}', '(', ')', ',', '..', '-1', '0', '64', '1e-2', '10%', '"', '#', '\n'];

/** A mutation of `text`: characters deleted, replaced or inserted, a line repeated or dropped, a word swapped in. */
export function mutateSpec(text: string, rng: () => number): string {
  let out = text;
  const edits = 1 + Math.floor(rng() * 4);
  for (let e = 0; e < edits; e++) {
    const at = Math.floor(rng() * (out.length + 1));
    const lines = out.split('\n');
    const line = Math.floor(rng() * lines.length);
    switch (Math.floor(rng() * 6)) {
      case 0:
        out = out.slice(0, at) + out.slice(at + 1 + Math.floor(rng() * 8));
        break;
      case 1:
        out = out.slice(0, at) + String.fromCharCode(32 + Math.floor(rng() * 95)) + out.slice(at + 1);
        break;
      case 2:
        out = `${out.slice(0, at)} ${pick(rng, SPEC_WORDS)} ${out.slice(at)}`;
        break;
      case 3:
        lines.splice(line, 0, lines[line]!);
        out = lines.join('\n');
        break;
      case 4:
        lines.splice(line, 1);
        out = lines.join('\n');
        break;
      default:
        out = out.slice(0, at) + String.fromCharCode(Math.floor(rng() * 0x3000)) + out.slice(at);
    }
  }
  return out;
}

function codesOf(ds: readonly Diagnostic[]): string[] {
  return [...new Set(ds.map((d) => d.code))].sort();
}

function uncatalogued(ds: readonly Diagnostic[]): string | undefined {
  const bad = ds.find((d) => !(d.code in catalogue));
  return bad ? `uncatalogued code ${bad.code}` : undefined;
}

/**
 * A spec text through `check` (imports read from `host`), and, when it parses, `fmt`'s round trip:
 * the formatted text formats to itself and checks to the same outcome.
 */
export function specOutcome(text: string, host: SpecHost, file = 'fuzz.adp'): Outcome {
  try {
    const checked = checkSpecText(text, file, host);
    const problem = uncatalogued(checked.diagnostics) ?? checked.diagnostics.map((d) => (d.span && d.span.file === file && (d.span.start.offset < 0 || d.span.start.offset > text.length) ? `${d.code} placed outside the text` : undefined)).find((x) => x);
    if (problem) return { kind: 'defect', what: problem };
    const parsed = parseSpec(text, file);
    if (!hasErrors(parsed.diagnostics)) {
      const formatted = printSpec(parsed.spec);
      const again = parseSpec(formatted, file);
      if (hasErrors(again.diagnostics)) return { kind: 'defect', what: `fmt output does not parse: ${again.diagnostics[0]!.code}` };
      if (printSpec(again.spec) !== formatted) return { kind: 'defect', what: 'fmt is not idempotent' };
      const rechecked = checkSpecText(formatted, file, host);
      if ((rechecked.plan === undefined) !== (checked.plan === undefined) || codesOf(rechecked.diagnostics).join() !== codesOf(checked.diagnostics).join()) return { kind: 'defect', what: 'fmt changed what the spec means' };
    }
    return checked.plan ? { kind: 'ok' } : { kind: 'diagnostic', codes: codesOf(checked.diagnostics) };
  } catch (error) {
    return { kind: 'defect', what: `exception: ${error instanceof Error ? (error.stack ?? error.message).split('\n').slice(0, 3).join(' | ') : String(error)}` };
  }
}

/** A damaged copy of a model file: truncated, bytes flipped, or a range overwritten. */
export function mutateModel(bytes: Uint8Array, rng: () => number): { bytes: Uint8Array; how: string } {
  // A copy (Buffer's slice would share the source's memory, and damage accumulate across inputs).
  const out = new Uint8Array(bytes);
  switch (Math.floor(rng() * 3)) {
    case 0: {
      const at = Math.floor(rng() * bytes.length);
      return { bytes: out.subarray(0, at), how: `truncated to ${at} bytes` };
    }
    case 1: {
      const flips = 1 + Math.floor(rng() * 16);
      for (let i = 0; i < flips; i++) out[Math.floor(rng() * out.length)] ^= 1 << Math.floor(rng() * 8);
      return { bytes: out, how: `${flips} bits flipped` };
    }
    default: {
      const at = Math.floor(rng() * out.length);
      const length = 1 + Math.floor(rng() * 64);
      for (let i = at; i < Math.min(out.length, at + length); i++) out[i] = Math.floor(rng() * 256);
      return { bytes: out, how: `${length} bytes overwritten at ${at}` };
    }
  }
}

/** A damaged model through `inspect` and `compile` (full artifacts, into `scratch`). */
export async function modelOutcome(bytes: Uint8Array, scratch: string, spec: string): Promise<Outcome> {
  mkdirSync(scratch, { recursive: true });
  const file = path.join(scratch, 'model.onnx');
  writeFileSync(file, bytes);
  const out = path.join(scratch, 'out');
  const codes: string[] = [];
  for (const step of [() => inspect(file), () => compile({ spec, model: file, out })]) {
    try {
      await step();
    } catch (error) {
      if (!(error instanceof AdapterError)) return { kind: 'defect', what: `exception: ${error instanceof Error ? (error.stack ?? error.message).split('\n').slice(0, 3).join(' | ') : String(error)}` };
      const problem = uncatalogued(error.diagnostics);
      if (problem) return { kind: 'defect', what: problem };
      codes.push(...codesOf(error.diagnostics));
    }
  }
  rmSync(out, { recursive: true, force: true });
  return codes.length === 0 ? { kind: 'ok' } : { kind: 'diagnostic', codes: [...new Set(codes)].sort() };
}

/** One adversarial spec: its text, and the file it is checked as (imports resolve from its folder). */
export interface AdversarialSpec {
  readonly input: string;
  readonly text: string;
  readonly file: string;
}

/**
 * Specs written to break the checker (issue 22): deep nesting, huge layer ranges, one line repeated
 * thousands of times, random bytes of 64 KB to 1 MB, and imports of special files (a FIFO, a device,
 * a folder, files outside the spec's folder). `folder` is a scratch folder that gets the FIFO.
 */
export function adversarialSpecs(rng: () => number, folder: string, count: number, maxRandomBytes = 1 << 20): AdversarialSpec[] {
  mkdirSync(folder, { recursive: true });
  const file = path.join(folder, 'spec.adp');
  const fifo = path.join(folder, 'pipe.adp');
  try {
    execFileSync('mkfifo', [fifo]);
  } catch {
    // Exists already, or no mkfifo: the import is still tried.
  }
  const adapter = 'adapter a { size 8 }\n';
  const huge = () => `${Math.floor(rng() * 1e12)}`;
  const kinds: Array<[string, () => string]> = [
    ['deep nesting', () => `adapter a { size 8 init normal(std ${pick(rng, ['(', '{', '(('] as const).repeat(1000 + Math.floor(rng() * 20000))}`],
    ['huge range', () => `${adapter}place a after ${pick(rng, ['attention', 'ffn'] as const)} in layers ${pick(rng, [`0..${huge()}`, `all except 0..${huge()}`, `-${huge()}..-1`, `${huge()}`, `0, 3..${huge()}, 2`] as const)}\n`],
    ['repetition', () => adapter + pick(rng, ['place a after ffn in layers all\n', 'adapter b { size 8 }\n', 'seed 1\n', 'import "x.adp"\n', '((((\n'] as const).repeat(500 + Math.floor(rng() * 5000))],
    [
      'random bytes',
      () => {
        const length = (64 << 10) + Math.floor(rng() * (maxRandomBytes - (64 << 10)));
        return Buffer.from(Uint8Array.from({ length }, () => Math.floor(rng() * 256))).toString('utf8');
      },
    ],
    ['special file', () => `import "${pick(rng, [fifo, '/dev/zero', '/dev/null', '/etc/passwd', '/proc/self/environ', '../../../../etc/hosts.adp', folder, '/dev/stdin'] as const)}"\n${adapter}place a after ffn in layers all\n`],
    ['sizes', () => `adapter a { ${pick(rng, ['size', 'reduction', 'hidden_layers'] as const)} ${huge()} }\nplace a after ffn in layers all\ntrain {\n  trainable adapters, head\n  head classifier(labels ${huge()})\n}\n`],
  ];
  return Array.from({ length: count }, (_, i) => {
    const [kind, make] = kinds[i % kinds.length]!;
    return { input: `${kind} ${i}`, text: make(), file };
  });
}
