/** `adapterc compile`: spec + model → adapted model (and, as the compiler grows, training artifacts). */
import * as path from 'node:path';
import { checkSpecFile } from '../../check/check.js';
import { discover } from '../../discover/index.js';
import { AdapterError, diagnostic, throwIfErrors, renderDiagnostics } from '../../diagnostics/index.js';
import { ADAPTED_MODEL, writeInferenceModel } from '../../emit/inference.js';
import { elementCount } from '../../ir/index.js';
import { readModel } from '../../load/index.js';
import { adaptModel, bindToModel } from '../../rewrite/rewrite.js';
import { renderSummary, summarize } from '../../rewrite/summary.js';
import { expectPositionals, inputPath, parseCommandArgs } from '../args.js';
import { ExitCode, type CliIo, type Command } from '../io.js';

const help = `Usage: adapterc compile <spec.adp> <model.onnx> --inference [-o <folder>]

Checks the spec, finds the adapter sites in the model, and inserts the adapters the spec places
(h + up(f(down(h))) before each residual Add + LayerNorm), initialized from the spec's seed.

  --inference      write the adapted inference model: <folder>/${ADAPTED_MODEL} and
                   <folder>/summary.json (adapters per layer, parameter counts, trainable share)
  -o, --out DIR    the output folder (default: next to the model, named <model>.<spec>)
  -h, --help       show this help

The folder appears complete or not at all. An existing folder is replaced only if adapterc made it
(it holds summary.json). Input files are never modified.

ONNX Runtime training artifacts (training_model.onnx, eval_model.onnx, optimizer_model.onnx,
checkpoint) are not emitted by this version yet; --inference is required.

Exit codes: 0 ok, 1 bad spec, model or output folder (nothing written), 2 internal error.`;

export const compileCommand: Command = {
  name: 'compile',
  summary: 'insert the spec\'s adapters into a model (--inference: write the adapted model)',
  help,
  async run(argv: readonly string[], io: CliIo): Promise<ExitCode> {
    const { values, positionals } = parseCommandArgs('compile', argv, { inference: { type: 'boolean' }, out: { type: 'string', short: 'o' } });
    const [specArg, modelArg] = expectPositionals('compile', positionals, ['spec.adp', 'model.onnx']);
    if (!values['inference']) {
      throw new AdapterError([
        diagnostic('ADP4001', { text: 'This version of adapterc writes only the adapted inference model.' }, undefined, "add --inference; training artifacts come in a later version"),
      ]);
    }
    const specFile = inputPath(io.cwd, specArg!);
    const modelFile = inputPath(io.cwd, modelArg!);
    const checked = checkSpecFile(specFile);
    throwIfErrors(checked.diagnostics, checked.sources);
    const warnings = checked.diagnostics.filter((d) => d.severity === 'warning');
    if (warnings.length > 0) io.stderr(renderDiagnostics(warnings, checked.sources));

    const model = await readModel(modelFile);
    const found = discover(model, modelArg!);
    const bound = bindToModel(checked.plan!, found, checked.sources, modelArg!);
    const adaptation = adaptModel(model, found, bound);
    const sizes = new Map(model.graph.initializers.map((t) => [t.name ?? '', elementCount(t)]));
    const summary = summarize(adaptation, sizes, specArg!, modelArg!);

    const defaultOut = path.join(path.dirname(modelFile), `${path.basename(modelFile, '.onnx')}.${path.basename(specFile, '.adp')}`);
    const out = values['out'] === undefined ? defaultOut : inputPath(io.cwd, values['out'] as string);
    await writeInferenceModel(out, model, summary);
    io.stdout(`${renderSummary(summary)}\n\nwrote ${path.join(out, ADAPTED_MODEL)} and ${path.join(out, 'summary.json')}`);
    return ExitCode.ok;
  },
};
