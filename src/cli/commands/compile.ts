/** `adapterc compile`: spec + model → adapted model (and, as the compiler grows, training artifacts). */
import * as path from 'node:path';
import { compile } from '../../api/compile.js';
import { AdapterError, diagnostic, renderDiagnostics } from '../../diagnostics/index.js';
import { ADAPTED_MODEL } from '../../emit/inference.js';
import { renderSummary } from '../../rewrite/summary.js';
import { recordStages, renderStageTimes, stageTimes } from '../../util/stages.js';
import { expectPositionals, importRootOption, importRootsOf, parseCommandArgs } from '../args.js';
import { diagnosticJson, jsonOption, okJson } from '../json.js';
import { ExitCode, type CliIo, type Command } from '../io.js';

/** Said after every shared-base compile: which runtimes load the layout as it is. */
const SHARED_BASE_RUNTIMES = `note: the training and eval models read their frozen weights from base.data as ONNX external data.
  ONNX Runtime's C++/C#/Python/Java training APIs read external data from the models' folder (not
  verified here); onnxruntime-web loads models from buffers and cannot: 'adapterc train' (and
  src/runtime) inline base.data for it.`;

const help = `Usage: adapterc compile <spec.adp> <model.onnx> [-o <folder>] [--layout default|shared-base] [--allow-cpu-fallback] [--inference] [--timings] [--import-root DIR] [--json]

Checks the spec, finds the adapter sites in the model, inserts the adapters the spec places
(h + up(f(down(h))) before each residual Add + LayerNorm, initialized from the spec's seed), adds
the head and loss, builds the gradient graph, and writes ONNX Runtime training artifacts and the
step models ('adapterc train' runs step_model.onnx by default):

  training_model.onnx    forward + loss + backward; only the spec's trainable parameters get
                         gradients (accumulated in place by InPlaceAccumulatorV2)
  eval_model.onnx        forward + loss
  optimizer_model.onnx   AdamW or SGD with the spec's hyper-parameters
  checkpoint             the parameters, trainable and frozen (only the trainable ones with
                         --layout shared-base), in ONNX Runtime's ODTC format
  step_model.onnx        a whole training step in standard ONNX for any ONNX Runtime (1.20 and
                         later have no training runtime): batch, step and the trainable
                         parameters with their AdamW moments in; loss and their new values out
  step_eval_model.onnx   forward + loss + the head's output, the trainable parameters as inputs
  base.data              with --layout shared-base: the model's frozen weights
  ${ADAPTED_MODEL}     the adapted model for inference
  summary.json           adapters per layer, parameter counts, trainable share, inputs, outputs

Options:
  -o, --out DIR    the output folder (default: next to the model, named <model>.<spec>)
  --allow-cpu-fallback
                   for 'target cuda': accept nodes without a CUDA kernel in ONNX Runtime (listed
                   as warnings) instead of failing
  --layout L       where frozen weights go: 'default' (in the checkpoint, with everything else) or
                   'shared-base' (in base.data, which the training and eval models reference;
                   the checkpoint holds only what trains, and every task compiled against the
                   same model writes the same base.data byte for byte). See README, "Layouts".
  --timings        print the wall time of each stage to stderr
  --json           print what was written and the summary as JSON (errors too)
  --import-root DIR
                   a folder the spec's imports may read besides the spec's own folder tree
                   (repeatable; imports elsewhere are refused)
  --inference      write only ${ADAPTED_MODEL} and summary.json (no gradients, no artifacts)
  -h, --help       show this help

The folder appears complete or not at all. An existing folder is replaced only if adapterc made it
(it holds summary.json). Input files are never modified. The shapes the gradients need are
inferred from the graph (symbolic batch and sequence dims), without running the model or reading
its weights; a shape that cannot be inferred is an error (ADP3002) naming the node and why.

With 'target cuda' (the default) every node of the training, eval, optimizer and step models is
looked up in ONNX Runtime's CUDA kernel registrations (by domain, opset and element types); a node that
would run on the CPU is an error naming it, unless --allow-cpu-fallback.

Exit codes: 0 ok, 1 bad spec, model or output folder (nothing written), 2 internal error.`;

export const compileCommand: Command = {
  name: 'compile',
  summary: 'compile a spec and a model into ONNX Runtime training artifacts (--inference: adapted model only)',
  help,
  async run(argv: readonly string[], io: CliIo): Promise<ExitCode> {
    const { values, positionals } = parseCommandArgs('compile', argv, {
      inference: { type: 'boolean' },
      out: { type: 'string', short: 'o' },
      'allow-cpu-fallback': { type: 'boolean' },
      layout: { type: 'string' },
      timings: { type: 'boolean' },
      ...importRootOption,
      ...jsonOption,
    });
    const startup = performance.now();
    if (values['timings']) recordStages();
    const layout = values['layout'] ?? 'default';
    if (layout !== 'default' && layout !== 'shared-base') {
      throw new AdapterError([diagnostic('ADP4001', { text: `Unknown layout '${String(layout)}'.` }, undefined, "use '--layout default' or '--layout shared-base'")]);
    }
    const [spec, model] = expectPositionals('compile', positionals, ['spec.adp', 'model.onnx']);
    const result = await compile({
      spec: spec!,
      model: model!,
      cwd: io.cwd,
      layout,
      ...(values['out'] === undefined ? {} : { out: String(values['out']) }),
      allowCpuFallback: values['allow-cpu-fallback'] === true,
      inference: values['inference'] === true,
      importRoots: importRootsOf(values),
    });
    if (result.warnings.length > 0) io.stderr(renderDiagnostics(result.warnings, result.sources));
    if (values['json']) {
      io.stdout(okJson({ out: result.out, files: result.files, summary: result.summary, warnings: result.warnings.map(diagnosticJson) }));
      return ExitCode.ok;
    }
    const written = result.files.filter((f) => f !== 'summary.json');
    io.stdout(`${renderSummary(result.summary)}\n\nwrote ${values['inference'] ? path.join(result.out, ADAPTED_MODEL) : written.join(', ')} and ${values['inference'] ? path.join(result.out, 'summary.json') : `summary.json to ${result.out}`}`);
    if (layout === 'shared-base' && !values['inference']) io.stdout(SHARED_BASE_RUNTIMES);
    if (values['timings']) io.stderr(renderStageTimes(stageTimes(), startup, performance.now()));
    return ExitCode.ok;
  },
};
