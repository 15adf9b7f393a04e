/** `adapterc export`: trained artifacts → an inference model, a small adapters file, or both joined again. */
import * as path from 'node:path';
import { exportModel, type ExportResult } from '../../api/export.js';
import { AdapterError, diagnostic, renderDiagnostics } from '../../diagnostics/index.js';
import { ADAPTED_MODEL } from '../../emit/inference.js';
import { describeLayers, type DropResult, type FoldResult } from '../../export/index.js';
import { elementCount, type Tensor } from '../../ir/index.js';
import { parseCommandArgs } from '../args.js';
import { diagnosticJson, jsonOption, okJson } from '../json.js';
import { ExitCode, type CliIo, type Command } from '../io.js';
import { groupDigits } from '../../util/format.js';

const help = `Usage: adapterc export <artifacts> -o <model.onnx> [--checkpoint FILE] [--drop-layers LAYERS] [--without-head] [--keep-apart]
       adapterc export <artifacts> --adapters-only -o <task.adapters> [--checkpoint FILE] [--spec FILE] [--drop-layers LAYERS]
       adapterc export --base <model.onnx> --adapters <task.adapters> -o <model.onnx> [--drop-layers LAYERS] [--keep-apart]
       adapterc export <artifacts> --adapterhub -o <folder> [--name NAME] [--checkpoint FILE]

Makes what training produced deployable. From an artifacts folder ('adapterc compile' output):

  (default)        ${ADAPTED_MODEL} with the checkpoint's trained parameters in place of the
                   initial ones (matched by name; shapes must agree): one ONNX model that
                   onnxruntime runs, with standard ops at the model's own opset
  --adapters-only  only the trained parameters (adapters, and the LayerNorms or head the spec
                   trains) in a small ONNX file with no nodes, plus the spec's text and a sha256
                   of the base model's weights: a few MB per task instead of a whole model
  --adapterhub     an AdapterHub adapter folder (adapter_config.json, adapter.safetensors, and
                   head_config.json and model_head.safetensors for a classifier head), as the
                   'adapters' library's save_adapter(..., use_safetensors=True) writes it:
                   model.load_adapter(folder, use_safetensors=True) loads it onto the same
                   pretrained BERT in PyTorch

The checkpoint is --checkpoint, else <artifacts>/trained/checkpoint ('adapterc train' writes it),
else <artifacts>/checkpoint (the one compile wrote); without any, or when the checkpoint holds only
the initial values, the untrained values are exported with a warning. A checkpoint of other
artifacts, or of the same spec on another base model, is an error.

With --base and --adapters, an adapters file is attached to a base model again: the recorded
spec adapts the base model as 'adapterc compile --inference' would, then the stored values are
set by name. A base model whose depth, width or weights differ from the one the adapters were
trained on is refused.

Options:
  -o, --out FILE         the file to write (required; with --adapterhub, a folder); written
                         atomically. Inputs never change: an input, or an existing file in the
                         artifacts folder, is refused
  --checkpoint FILE      the checkpoint to take trained values from
  --adapters-only        write only the trained parameters (see above)
  --spec FILE            for --adapters-only: the spec the artifacts were compiled from (default:
                         the path summary.json records, from here or beside the folder)
  --base FILE            the base model to attach --adapters to
  --adapters FILE        an adapters file written by --adapters-only
  --without-head         for artifacts compiled with 'head masked_lm': write the encoder without
                         the head (its output is the last hidden state), a pretrained base to
                         compile other specs against
  --name NAME            for --adapterhub: the adapter's name in AdapterHub (default: the
                         output folder's name)
  --json                 print what was written as JSON (errors too)
  --keep-apart           keep LoRA and (IA)³ adapters as nodes of their own. By default they are
                         folded into the weights they adapt (W + (alpha/rank)·A·B, W·diag(l)):
                         no extra nodes, the base model's inference cost
  --drop-layers LAYERS   remove the adapters of these layers (the paper's ablation; faster
                         inference): '0..4', '0, 2, 4', '-1' (the last), 'all except 10..11'.
                         The residual path reads the layer's hidden state directly again.
  -h, --help             show this help

Exit codes: 0 ok, 1 bad input (nothing written), 2 internal error.`;

function usage(text: string): AdapterError {
  return new AdapterError([diagnostic('ADP4001', { text }, undefined, "run 'adapterc export --help' for its usage")]);
}



const count = groupDigits;
const parameterCount = (tensors: readonly Tensor[]) => tensors.reduce((n, t) => n + elementCount(t), 0);

function bytes(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(2)} MB` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} kB` : `${n} bytes`;
}

function foldLines(folded: FoldResult): string[] {
  return folded.merged.length === 0 ? [] : [`  folded     ${folded.merged.length} LoRA/(IA)³ adapter(s) into the weights they adapt (--keep-apart keeps them as nodes)`];
}

function dropLines(drop: DropResult | undefined): string[] {
  if (drop === undefined) return [];
  if (drop.dropped.length === 0) return ['  dropped no adapters'];
  const layers = describeLayers([...new Set(drop.dropped.map((a) => a.layer))]);
  return [`  dropped ${drop.dropped.length} adapter(s) in layer(s) ${layers} (${count(drop.removedInitializers)} initializers removed)`];
}

export const exportCommand: Command = {
  name: 'export',
  summary: 'merge trained parameters into an inference model, or write/attach a small per-task adapters file',
  help,
  async run(argv: readonly string[], io: CliIo): Promise<ExitCode> {
    // `--drop-layers -1` (the last layer) would read as an option: join it to its flag.
    const args = argv.map((a, i) => (argv[i - 1] === '--drop-layers' && /^-\d/.test(a) ? `--drop-layers=${a}` : a)).filter((a, i) => !(a === '--drop-layers' && /^-\d/.test(argv[i + 1] ?? '')));
    const { values, positionals } = parseCommandArgs('export', args, {
      out: { type: 'string', short: 'o' },
      checkpoint: { type: 'string' },
      'adapters-only': { type: 'boolean' },
      spec: { type: 'string' },
      base: { type: 'string' },
      adapters: { type: 'string' },
      'drop-layers': { type: 'string' },
      'without-head': { type: 'boolean' },
      adapterhub: { type: 'boolean' },
      name: { type: 'string' },
      'keep-apart': { type: 'boolean' },
      ...jsonOption,
    });
    const str = (name: string) => values[name] as string | undefined;
    const attach = str('base') !== undefined || str('adapters') !== undefined;
    if (attach) {
      if (str('base') === undefined || str('adapters') === undefined) throw usage(`--base and --adapters go together, but only ${str('base') === undefined ? '--adapters' : '--base'} was given.`);
      if (positionals.length > 0) throw usage(`With --base and --adapters, 'adapterc export' takes no artifacts folder, but was given ${positionals.map((p) => `'${p}'`).join(' ')}.`);
      for (const option of ['checkpoint', 'spec', 'adapters-only', 'without-head']) if (values[option] !== undefined) throw usage(`--${option} does not go with --base and --adapters.`);
    } else {
      if (positionals.length !== 1) throw usage(`'adapterc export' takes one artifacts folder (or --base and --adapters), but was given ${positionals.length === 0 ? 'nothing' : positionals.map((p) => `'${p}'`).join(' ')}.`);
      if (str('spec') !== undefined && values['adapters-only'] !== true) throw usage('--spec is only used with --adapters-only.');
      if (values['without-head'] === true && values['adapters-only'] === true) throw usage('--without-head does not go with --adapters-only.');
    }
    const adapterHub = values['adapterhub'] === true;
    if (adapterHub) {
      for (const option of ['adapters-only', 'without-head', 'spec', 'drop-layers', 'base', 'adapters']) if (values[option] !== undefined) throw usage(`--${option} does not go with --adapterhub.`);
    } else if (str('name') !== undefined) throw usage('--name is only used with --adapterhub.');
    if (str('out') === undefined) throw usage(`'adapterc export' needs the ${adapterHub ? 'folder' : 'file'} to write: -o ${adapterHub ? 'adapter-folder' : values['adapters-only'] ? 'task.adapters' : 'model.onnx'}.`);
    const started = performance.now();
    if (values['keep-apart'] === true && (adapterHub || values['adapters-only'] === true)) throw usage(`--keep-apart does not go with --${adapterHub ? 'adapterhub' : 'adapters-only'}.`);
    const common = { out: str('out')!, cwd: io.cwd, ...(str('drop-layers') === undefined ? {} : { dropLayers: str('drop-layers')! }), ...(values['keep-apart'] === true ? { keepApart: true } : {}) };
    const checkpoint = str('checkpoint') === undefined ? {} : { checkpoint: str('checkpoint')! };
    const result = await exportModel(
      adapterHub
        ? { kind: 'adapterhub', artifacts: positionals[0]!, out: str('out')!, cwd: io.cwd, ...checkpoint, ...(str('name') === undefined ? {} : { name: str('name')! }) }
        : attach
        ? { ...common, kind: 'attach', base: str('base')!, adapters: str('adapters')! }
        : values['adapters-only']
          ? { ...common, ...checkpoint, kind: 'adapters', artifacts: positionals[0]!, ...(str('spec') === undefined ? {} : { spec: str('spec')! }) }
          : { ...common, ...checkpoint, kind: 'merged', artifacts: positionals[0]!, withoutHead: values['without-head'] === true },
    );
    const { warnings } = result;
    if (values['json']) {
      if (warnings.length > 0) io.stderr(renderDiagnostics(warnings));
      io.stdout(okJson(exportJson(result)));
      return ExitCode.ok;
    }
    const lines: string[] = [];
    if (result.kind === 'attach') {
      const { record } = result.attached.file;
      lines.push(
        `attached ${str('adapters')} to ${str('base')}: wrote ${str('out')} (${timeText(started)})`,
        `  spec       ${path.basename(record.spec.main)}, ${record.adapters.length} adapter(s)${record.dropped.length > 0 ? `, layers ${describeLayers(record.dropped)} left out` : ''}`,
        `  parameters ${count(parameterCount(result.attached.file.tensors))} values in ${result.attached.file.tensors.length} tensors`,
        ...dropLines(result.attached.drop),
        ...foldLines(result.attached.folded),
      );
    } else if (result.kind === 'adapterhub') {
      const { exported } = result;
      lines.push(
        `wrote ${str('out')}: AdapterHub adapter '${exported.name}' (${exported.adapters} adapters${exported.head ? ' and the classifier head' : ''}) in ${[...exported.files.keys()].join(', ')} (${timeText(started)})`,
        `  from       ${result.source}`,
        `  config     reduction_factor ${exported.config['reduction_factor']}, non_linearity ${exported.config['non_linearity']}, mh_adapter ${exported.config['mh_adapter']}, output_adapter ${exported.config['output_adapter']}${(exported.config['leave_out'] as number[]).length > 0 ? `, leave_out [${(exported.config['leave_out'] as number[]).join(', ')}]` : ''}`,
        `  load       model.load_adapter('${str('out')}', use_safetensors=True, set_active=True)  # adapters, PyTorch`,
      );
    } else if (result.kind === 'adapters') {
      const { exported, spec } = result;
      const imports = Object.keys(exported.record.spec.files).length - 1;
      lines.push(
        `wrote ${str('out')}: ${count(parameterCount(exported.tensors))} trainable parameters in ${exported.tensors.length} tensors, ${bytes(result.bytes)} (${timeText(started)})`,
        `  from       ${result.source}`,
        `  spec       ${shortPath(io.cwd, spec)}${imports > 0 ? ` (and ${imports} imported file${imports > 1 ? 's' : ''})` : ''}, ${exported.record.adapters.length} adapter(s)${exported.record.dropped.length > 0 ? `, layers ${describeLayers(exported.record.dropped)} left out` : ''}`,
        `  base model ${exported.record.base.layers} layers, hidden size ${exported.record.base.hidden}, weights sha256 ${exported.record.base.sha256.slice(0, 16)}…`,
        `  attach     adapterc export --base ${exported.record.base.model ?? 'MODEL.onnx'} --adapters ${str('out')} -o model.onnx`,
      );
    } else {
      const { merged } = result;
      lines.push(
        `wrote ${str('out')}: ${ADAPTED_MODEL} of ${positionals[0]} with ${count(parameterCount(merged.parameters.tensors))} trainable parameters in ${merged.parameters.tensors.length} tensors (${timeText(started)})`,
        `  from       ${result.source}`,
        ...(merged.head === undefined ? [] : [`  without    the masked_lm head (${merged.head.removedNodes} nodes, ${merged.head.removedInitializers} initializers removed); output '${merged.head.output}'`]),
        ...dropLines(merged.drop),
        ...foldLines(merged.folded),
      );
    }
    if (warnings.length > 0) io.stderr(renderDiagnostics(warnings));
    io.stdout(lines.join('\n'));
    return ExitCode.ok;
  },
};



/** What export wrote, as data (--json). */
function exportJson(result: ExportResult) {
  const common = { kind: result.kind, out: result.out, warnings: result.warnings.map(diagnosticJson) };
  switch (result.kind) {
    case 'merged':
      return { ...common, source: result.source, parameters: parameterCount(result.merged.parameters.tensors), tensors: result.merged.parameters.tensors.length, droppedLayers: [...new Set(result.merged.drop?.dropped.map((a) => a.layer) ?? [])], folded: result.merged.folded.merged };
    case 'adapters':
      return { ...common, source: result.source, spec: result.spec, bytes: result.bytes, parameters: parameterCount(result.exported.tensors), tensors: result.exported.tensors.length, base: result.exported.record.base };
    case 'attach':
      return { ...common, adapters: result.attached.file.record.adapters.length, droppedLayers: result.attached.droppedLayers, folded: result.attached.folded.merged };
    case 'adapterhub':
      return { ...common, source: result.source, name: result.exported.name, files: [...result.exported.files.keys()], config: result.exported.config, head: result.exported.head };
  }
}

/** A path relative to `cwd` when it lies below it, else absolute. */
function shortPath(cwd: string, file: string): string {
  const relative = path.relative(cwd, file);
  return relative === '' || relative.startsWith('..') || path.isAbsolute(relative) ? file : relative;
}

function timeText(started: number): string {
  const ms = performance.now() - started;
  return ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`;
}
