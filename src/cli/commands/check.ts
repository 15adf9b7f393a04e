/** `adapterc check`: parse and check a spec, then show the plan it stands for. */
import { check } from '../../api/check.js';
import { fitDiagnostics, fitJson, fitText, readModelFit } from '../../api/check-model.js';
import type { BoundPlan } from '../../check/bind.js';
import { describeAdapter, describeHead, describeInit, describeOptimizer, describeSchedule, describeSize, describeTrainable } from '../../check/describe.js';
import { describeSelector } from '../../check/layers.js';
import { adapterParameterFormula, totalAdapterParameters } from '../../check/parameters.js';
import { AdapterError, diagnostic, renderDiagnostics, type Diagnostic } from '../../diagnostics/index.js';
import { diagnosticsJson } from '../json.js';
import { expectPositionals, importRootOption, importRootsOf, parseCommandArgs } from '../args.js';
import { ExitCode, type CliIo, type Command } from '../io.js';
import { groupDigits } from '../../util/format.js';

const help = `Usage: adapterc check <spec.adp> [--json] [--layers N] [--hidden D] [--model FILE] [--import-root DIR]

Parses and checks a spec and everything it imports, then prints the plan: the adapters, where
each goes in every layer (size, activation, init), what trains, the head, loss, optimizer,
target and seed, and the adapter parameter count as a formula in the hidden size d.

Layer indexes such as -1 and reductions such as 'reduction 12' depend on the model; they are
shown for a model of --layers layers and hidden size --hidden (default: BERT-base, 12 and 768).
'adapterc compile' repeats those checks against the real model.

Options:
  --json        print the plan as JSON instead of text
  --layers N    number of transformer layers to show the placement for (default 12)
  --hidden D    hidden size to evaluate sizes and parameter counts for (default 768)
  --model FILE  an ONNX model to check the spec against: its layers and hidden size replace
                --layers and --hidden, a pooled head needs its pooler, and the plan ends with its
                architecture and the spec of adapterc's specs/ that fits it
  --import-root DIR
                a folder the spec's imports may read besides the spec's own folder tree
                (repeatable; imports elsewhere are refused)
  -h, --help    show this help

Exit codes: 0 the spec is valid, 1 it is not (every problem is listed), 2 internal error.`;

function positiveInt(name: string, raw: string | boolean | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (typeof raw !== 'string' || !Number.isInteger(n) || n < 1) {
    throw new AdapterError([diagnostic('ADP4001', { text: `--${name} must be a positive integer, but is '${String(raw)}'.` }, undefined, `e.g. --${name} ${fallback}`)]);
  }
  return n;
}

export const checkCommand: Command = {
  name: 'check',
  summary: 'check a spec and print its plan (adapters per layer, training setup, parameter count)',
  help,
  async run(argv: readonly string[], io: CliIo): Promise<ExitCode> {
    const { values, positionals } = parseCommandArgs('check', argv, {
      json: { type: 'boolean' },
      layers: { type: 'string' },
      hidden: { type: 'string' },
      model: { type: 'string' },
      ...importRootOption,
    });
    const [file] = expectPositionals('check', positionals, ['spec.adp']);
    const layers = positiveInt('layers', values['layers'], 12);
    const hidden = positiveInt('hidden', values['hidden'], 768);
    const json = values['json'] === true;

    const fit = typeof values['model'] === 'string' ? await readModelFit(values['model'], io.cwd) : undefined;
    const checked = check(file!, { cwd: io.cwd, layers: fit?.layers ?? layers, hidden: fit?.hidden ?? hidden, importRoots: importRootsOf(values) });
    const misfits = fit && checked.plan ? fitDiagnostics(checked.plan, fit, io.cwd) : [];
    const diagnostics = [...checked.diagnostics, ...misfits];
    const sources = checked.sources;
    const bound = misfits.some((d) => d.severity === 'error') ? undefined : checked.bound;
    const rendered = renderDiagnostics(diagnostics, sources);
    if (json) {
      io.stdout(JSON.stringify(bound ? { ...planJson(bound, diagnostics), ...(fit ? { model: fitJson(fit) } : {}) } : { ok: false, ...diagnosticsJson(diagnostics) }, null, 2));
      if (!bound && diagnostics.length > 0) io.stderr(rendered);
      return bound ? ExitCode.ok : ExitCode.userError;
    }
    if (diagnostics.length > 0) io.stderr(rendered);
    if (!bound) return ExitCode.userError;
    io.stdout(fit ? `${planText(bound)}\n\n${fitText(fit)}` : planText(bound));
    return ExitCode.ok;
  },
};

function planJson(bound: BoundPlan, diagnostics: readonly Diagnostic[]) {
  const { plan, shape } = bound;
  return {
    ok: true,
    file: plan.file,
    sources: plan.sources,
    adapters: plan.adapters.map((a) => ({ name: a.name, size: a.size, activation: a.activation, init: a.init, layerNorm: a.layerNorm, hiddenLayers: a.hiddenLayers })),
    placements: plan.placements.map((p) => ({ adapter: p.adapter.name, size: p.adapter.size, site: p.site, layers: describeSelector(p.layers) })),
    trainable: { ...plan.trainable, layerNorm: plan.trainable.layerNorm ? describeSelector(plan.trainable.layerNorm) : null },
    head: plan.head,
    loss: plan.loss,
    optimizer: plan.optimizer,
    schedule: plan.schedule,
    target: plan.target,
    seed: plan.seed,
    model: { layers: shape.layers, hidden: shape.hidden },
    instances: bound.instances.map((i) => ({
      layer: i.layer,
      site: i.site,
      adapter: i.adapter.name,
      units: i.units,
      activation: i.adapter.activation,
      init: i.adapter.init,
      parameters: i.parameters,
    })),
    parameters: { formula: parameterFormula(bound), adapters: totalAdapterParameters(bound) },
    ...diagnosticsJson(diagnostics),
  };
}

/** `24 × (2·d·64 + d + 64)`, one term per distinct adapter shape. */
function parameterFormula(bound: BoundPlan): string {
  const groups = new Map<string, number>();
  for (const i of bound.instances) {
    const key = adapterParameterFormula(i.adapter, i.adapter.size);
    groups.set(key, (groups.get(key) ?? 0) + 1);
  }
  return [...groups].map(([formula, count]) => `${count} × (${formula})`).join(' + ') || '0';
}

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => `  ${r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  ')}`.trimEnd());
}

/** Size, activation and init as each family has them: LoRA's rank, (IA)³'s vector length. */
function instanceColumns(i: BoundPlan['instances'][number]): string[] {
  const form = i.adapter.form;
  if (form.kind === 'lora') return [`rank ${i.units}`, `none (alpha ${form.alpha})`, describeInit(i.adapter.init)];
  if (form.kind === 'ia3') return [`${i.units} (the site's width)`, 'none', i.adapter.init.kind === 'normal' ? `1 + ${describeInit(i.adapter.init)}` : 'ones'];
  return [i.adapter.size.kind === 'absolute' ? `${i.units}` : `${i.units} (${describeSize(i.adapter.size)})`, i.adapter.activation, describeInit(i.adapter.init)];
}

function planText(bound: BoundPlan): string {
  const { plan, shape } = bound;
  const lines: string[] = [];
  const imports = plan.sources.filter((s) => s !== plan.file);
  lines.push(`${plan.file}: ok${imports.length > 0 ? ` (imports ${imports.join(', ')})` : ''}`, '');
  lines.push('Adapters');
  if (plan.adapters.length === 0) lines.push('  (none)');
  lines.push(...table(plan.adapters.map((a) => [a.name, describeAdapter(a)])).filter(() => plan.adapters.length > 0), '');
  lines.push(`Placement in a model of ${shape.layers} layers, hidden size d = ${shape.hidden} (change with --layers, --hidden)`);
  if (bound.instances.length === 0) lines.push('  (no adapters placed)');
  else {
    lines.push(
      ...table([
        ['layer', 'site', 'adapter', 'size', 'activation', 'init'],
        ...bound.instances.map((i) => [
          `${i.layer}`,
          i.site,
          i.adapter.name,
          ...instanceColumns(i),
        ]),
      ]),
    );
  }
  lines.push('', 'Training');
  lines.push(
    ...table([
      ['trainable', describeTrainable(plan.trainable)],
      ['head', describeHead(plan.head)],
      ['loss', plan.loss],
      ['optimizer', describeOptimizer(plan.optimizer)],
      ['schedule', describeSchedule(plan.schedule)],
      ['target', plan.target],
      ['seed', `${plan.seed}`],
    ]),
  );
  lines.push('', 'Adapter parameters');
  lines.push(`  formula   ${parameterFormula(bound)}`);
  lines.push(`  d = ${shape.hidden}   ${groupDigits(totalAdapterParameters(bound))}`);
  return lines.join('\n');
}
