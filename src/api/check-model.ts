/**
 * `check --model`: a spec checked against a real model rather than BERT-base's shape. The model's
 * layers and hidden size bind the plan; a classifier on the pooled output needs a pooler (ADP2206);
 * and when the spec is (or imports) one of adapterc's specs per architecture (specs/<folder>/) written
 * for another architecture than the model's, a warning (ADP2211) names the spec that fits it.
 */
import * as path from 'node:path';
import type { Plan } from '../check/plan.js';
import { shippedSpecs } from '../check/spec-files.js';
import { AdapterError, diagnostic, type Diagnostic } from '../diagnostics/index.js';
import { architectureSpecs, architectureText, fittingSpecsText, recognizeArchitecture, type Architecture } from '../discover/architecture.js';
import { discover, type Discovery } from '../discover/index.js';
import type { Model } from '../ir/index.js';
import { readModel } from '../load/index.js';
import { inputPath } from './paths.js';

export interface ModelFit {
  /** The model file as given. */
  readonly file: string;
  readonly layers: number;
  readonly hidden: number;
  readonly pooled: boolean;
  readonly architecture: Architecture;
}

/** Reads and discovers the model (an AdapterError when it is not an encoder adapterc adapts). */
export async function readModelFit(file: string, cwd?: string): Promise<ModelFit> {
  const model = await readModel(inputPath(cwd, file));
  const d = discover(model, file);
  return { file, layers: d.layers.length, hidden: d.hidden, pooled: d.pooledOutput !== undefined, architecture: recognizeArchitecture(model, d) };
}

/** Problems of the spec on this model that its plan alone cannot show. */
export function fitDiagnostics(plan: Plan, fit: ModelFit, cwd?: string): Diagnostic[] {
  const out: Diagnostic[] = [];
  const fits = fittingSpecsText(fit.architecture);
  if (plan.head.kind === 'classifier' && plan.head.from === 'pooled' && !fit.pooled) {
    out.push(diagnostic('ADP2206', { file: fit.file, reason: 'it has no pooled output (a pooler: tanh(dense(first token))) for a classifier \'from pooled\' to read' }, { file: plan.file }, `use ${fits}, which fits ${fit.architecture.name}; or 'head classifier(labels N, from first_token)'`));
  }
  const written = writtenFor(plan, cwd);
  const fitting = new Set(fit.architecture.specs.map((s) => s.split('/')[0]!));
  if (written && !fitting.has(written.folder)) {
    out.push(
      diagnostic(
        'ADP2211',
        { spec: written.spec, architecture: `${written.architecture} (${written.layers} layers, hidden ${written.hidden})`, file: fit.file, found: architectureText(fit.architecture) },
        { file: plan.file },
        `use ${fits}, which fits it`,
      ),
    );
  }
  return out;
}

/**
 * Runs `bind` (compile's binding of the plan to the model) and, when it refuses a classifier the
 * model cannot take (ADP2206: a pooled head and no pooler), names the spec of specs/ that fits.
 */
export function namingFittingSpec<T>(model: Model, d: Discovery, bind: () => T): T {
  try {
    return bind();
  } catch (error) {
    if (!(error instanceof AdapterError) || !error.diagnostics.some((x) => x.code === 'ADP2206')) throw error;
    const a = recognizeArchitecture(model, d);
    const fits = fittingSpecsText(a);
    const named = error.diagnostics.map((x) => (x.code === 'ADP2206' ? { ...x, hint: `use ${fits}, which fits ${a.name}${x.hint ? `; or ${x.hint.replace(/^use /, '')}` : ''}` } : x));
    throw new AdapterError(named, error.sources);
  }
}

/** The spec of specs/<folder>/ the plan is, or imports first, with its architecture. */
function writtenFor(plan: Plan, cwd?: string): { spec: string; folder: string; architecture: string; layers: number; hidden: number } | undefined {
  const specs = shippedSpecs();
  if (specs === undefined) return undefined;
  for (const file of [plan.file, ...plan.sources]) {
    const relative = path.relative(specs, path.resolve(cwd ?? process.cwd(), file));
    const folder = relative.split(path.sep)[0]!;
    const entry = architectureSpecs.find((a) => a.folder === folder);
    if (entry && !relative.startsWith('..')) return { spec: `specs/${relative.split(path.sep).join('/')}`, ...entry };
  }
  return undefined;
}

export function fitText(fit: ModelFit): string {
  return [
    `Model ${fit.file}: ${fit.layers} layers, hidden size ${fit.hidden}, ${fit.pooled ? 'a pooler' : 'no pooler'}`,
    `  architecture     ${architectureText(fit.architecture)}`,
    `  spec that fits   ${fittingSpecsText(fit.architecture)}`,
  ].join('\n');
}

export function fitJson(fit: ModelFit) {
  return { file: fit.file, layers: fit.layers, hidden: fit.hidden, pooled: fit.pooled, architecture: fit.architecture };
}
