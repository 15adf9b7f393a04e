/**
 * `fromAdapterHub`: an AdapterHub adapter configuration as adapterc spec text. The input is a config
 * string (`double_seq_bn[reduction_factor=16]`), an adapter_config.json, or the adapter folder
 * holding one. Returns the text in canonical form (as `adapterc fmt` writes it), or rejects with
 * AdapterError naming each option the spec cannot express.
 */
import { readSpecFile } from '../check/spec-files.js';
import type { AdapterHubConfig } from '../adapterhub/config.js';
import { adapterHubSpec } from '../adapterhub/source.js';
import { AdapterError, diagnostic, hasErrors, type Diagnostic } from '../diagnostics/index.js';
import { parseSpec } from '../parse/parse.js';
import { printSpec } from '../print/print.js';

export interface FromAdapterHubOptions {
  /** The adapter definition's name in the spec (default: the config's name, or the folder's adapter name). */
  readonly name?: string;
  /** What a relative path is resolved against (default: the process's working directory). */
  readonly cwd?: string;
}

export interface FromAdapterHubResult {
  /** The spec text: adapter definitions and place statements, canonical. */
  readonly text: string;
  /** The AdapterHub config dict it was made from (every field resolved). */
  readonly config: AdapterHubConfig;
  readonly warnings: readonly Diagnostic[];
}

export function fromAdapterHub(input: string, options: FromAdapterHubOptions = {}): FromAdapterHubResult {
  if (options.name !== undefined && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(options.name)) {
    throw new AdapterError([diagnostic('ADP4001', { text: `The adapter name '${options.name}' is not a spec name (letters, digits and underscores, not starting with a digit).` }, undefined, 'pass another --name')]);
  }
  const translated = adapterHubSpec({ input, baseDir: options.cwd ?? process.cwd(), read: readSpecFile, ...(options.name === undefined ? {} : { name: options.name }) });
  if (translated.text === undefined || hasErrors(translated.diagnostics)) throw new AdapterError([...translated.diagnostics]);
  const parsed = parseSpec(translated.text, 'from-adapterhub.adp');
  // The translation writes only what the grammar takes; a failure here is adapterc's bug, not the input's.
  if (hasErrors(parsed.diagnostics)) throw new Error(`from-adapterhub wrote text its own parser refuses: ${parsed.diagnostics.map((d) => d.message).join('; ')}`);
  return { text: printSpec(parsed.spec), config: translated.config!, warnings: translated.diagnostics };
}
