/** `adapterc from-adapterhub`: an AdapterHub config (string, adapter_config.json or folder) as spec text. */
import { fromAdapterHub } from '../../api/from-adapterhub.js';
import { AdapterError, diagnostic, renderDiagnostics } from '../../diagnostics/index.js';
import { writeFileAtomic } from '../../util/atomic-write.js';
import { inputPath, parseCommandArgs } from '../args.js';
import { ExitCode, type CliIo, type Command } from '../io.js';
import { diagnosticJson, jsonOption, okJson } from '../json.js';

const help = `Usage: adapterc from-adapterhub <config> [-o spec.adp] [--name NAME]

Translates an AdapterHub (the 'adapters' library) bottleneck configuration into adapterc spec
text: an adapter definition and its place statements, in canonical form. <config> is

  a config string    double_seq_bn, seq_bn, houlsby, pfeiffer, with options in brackets as
                     AdapterHub reads them: "double_seq_bn[reduction_factor=16, non_linearity='relu']"
  a file or folder   an adapter_config.json (as save_adapter writes it), or the folder holding one

reduction_factor (a number, or a dict of "default" and layer numbers), non_linearity,
mh_adapter / output_adapter (the sites), leave_out and init_weights='bert' translate. An option
the spec cannot express is an error naming it (ADP6002): seq_bn's original_ln_before (AdapterHub
applies the model's Add + LayerNorm before the adapter too), scaling, gating, dropout, adapter
LayerNorms, PHM layers, invertible adapters; other methods (LoRA, prefix tuning, ...) are ADP6001.
The text defines and places adapters only: import it from a spec with a train block.

Options:
  -o, --out FILE   write the text to FILE (atomically) instead of printing it
  --name NAME      the adapter definition's name (default: the config's name, or the folder's adapter)
  --json           print the text and the resolved AdapterHub config as JSON (errors too)
  -h, --help       show this help

Exit codes: 0 ok, 1 bad input (nothing written), 2 internal error.`;

export const fromAdapterHubCommand: Command = {
  name: 'from-adapterhub',
  summary: 'translate an AdapterHub adapter config (string, adapter_config.json, folder) into spec text',
  help,
  async run(argv: readonly string[], io: CliIo): Promise<ExitCode> {
    const { values, positionals } = parseCommandArgs('from-adapterhub', argv, { out: { type: 'string', short: 'o' }, name: { type: 'string' }, ...jsonOption });
    if (positionals.length !== 1) {
      throw new AdapterError([diagnostic('ADP4001', { text: `'adapterc from-adapterhub' takes one config (a string, an adapter_config.json or its folder), but was given ${positionals.length === 0 ? 'nothing' : positionals.length}.` }, undefined, "run 'adapterc from-adapterhub --help'")]);
    }
    const name = values['name'] as string | undefined;
    const result = fromAdapterHub(positionals[0]!, { cwd: io.cwd, ...(name === undefined ? {} : { name }) });
    if (result.warnings.length > 0) io.stderr(renderDiagnostics(result.warnings));
    const out = values['out'] as string | undefined;
    if (out !== undefined) writeFileAtomic(inputPath(io.cwd, out), result.text);
    if (values['json']) io.stdout(okJson({ text: result.text, config: result.config, ...(out === undefined ? {} : { out }), warnings: result.warnings.map(diagnosticJson) }));
    else io.stdout(out === undefined ? result.text.replace(/\n$/, '') : `wrote ${out}`);
    return ExitCode.ok;
  },
};
