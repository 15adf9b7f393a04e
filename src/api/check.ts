/**
 * `check`: parses and checks a spec and its imports, and binds it to a model shape (BERT-base's by
 * default) to resolve what depends on the model. Returns the plan and every diagnostic; prints nothing.
 */
import { bindPlan, type BoundPlan } from '../check/bind.js';
import { checkSpecFile } from '../check/check.js';
import type { Plan } from '../check/plan.js';
import type { Diagnostic } from '../diagnostics/index.js';
import { inputPath } from './paths.js';

export interface CheckOptions {
  /** Layers of the model the plan is shown for (default 12: BERT-base). */
  readonly layers?: number;
  /** Hidden size of that model (default 768). */
  readonly hidden?: number;
  /** What a relative path is resolved against (default: the process's working directory). */
  readonly cwd?: string;
  /** Folders besides the spec's own folder tree that its imports may read (the CLI's --import-root). */
  readonly importRoots?: readonly string[];
}

export interface CheckResult {
  /** Whether the spec is valid (warnings allowed). */
  readonly ok: boolean;
  readonly plan?: Plan;
  /** The plan bound to the model shape: adapters per layer, sizes, parameter counts. */
  readonly bound?: BoundPlan;
  /** Errors and warnings, in source order per file. */
  readonly diagnostics: readonly Diagnostic[];
  /** The spec and its imports' text, by file: what `renderDiagnostics` quotes in code frames. */
  readonly sources: ReadonlyMap<string, string>;
}

export function check(spec: string, options: CheckOptions = {}): CheckResult {
  const checked = checkSpecFile(inputPath(options.cwd, spec), undefined, { importRoots: (options.importRoots ?? []).map((r) => inputPath(options.cwd, r)) });
  let diagnostics: readonly Diagnostic[] = checked.diagnostics;
  let bound: BoundPlan | undefined;
  if (checked.plan) {
    const bind = bindPlan(checked.plan, { layers: options.layers ?? 12, hidden: options.hidden ?? 768 });
    diagnostics = [...diagnostics, ...bind.diagnostics];
    bound = bind.bound;
  }
  return { ok: bound !== undefined, ...(checked.plan ? { plan: checked.plan } : {}), ...(bound ? { bound } : {}), diagnostics, sources: checked.sources };
}
