/**
 * `fromAdapterHub`: an AdapterHub adapter configuration as adapterc spec text. The input is a config
 * string (`double_seq_bn[reduction_factor=16]`), an adapter_config.json, or the adapter folder
 * holding one. Returns the text in canonical form (as `adapterc fmt` writes it), or rejects with
 * AdapterError naming each option the spec cannot express.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { resolveConfigString, translateConfig, type AdapterHubConfig } from '../adapterhub/config.js';
import { AdapterError, diagnostic, hasErrors, type Diagnostic } from '../diagnostics/index.js';
import { parseSpec } from '../parse/parse.js';
import { printSpec } from '../print/print.js';
import { inputPath } from './paths.js';

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
  const file = inputPath(options.cwd, input);
  const looksLikePath = existsSync(file) || /[/\\]|\.json$/.test(input);
  let config: AdapterHubConfig | undefined;
  let origin: string;
  let defaultName: string;
  if (looksLikePath) {
    const json = existsSync(file) && statSync(file).isDirectory() ? path.join(file, 'adapter_config.json') : file;
    origin = `'${json}'`;
    const read = readConfigFile(json);
    config = read.config;
    defaultName = read.name ?? 'adapter';
  } else {
    origin = `'${input}'`;
    const resolved = resolveConfigString(input, origin);
    if (hasErrors(resolved.diagnostics)) throw new AdapterError(resolved.diagnostics);
    config = resolved.config!;
    defaultName = resolved.name!;
  }
  const name = options.name ?? defaultName.replace(/[^A-Za-z0-9_]/g, '_');
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new AdapterError([diagnostic('ADP4001', { text: `The adapter name '${name}' is not a spec name (letters, digits and underscores, not starting with a digit).` }, undefined, 'pass --name')]);
  const translated = translateConfig(config, name, origin);
  if (translated.text === undefined || hasErrors(translated.diagnostics)) throw new AdapterError([...translated.diagnostics]);
  const parsed = parseSpec(translated.text, `${name}.adp`);
  // The translation writes only what the grammar takes; a failure here is adapterc's bug, not the input's.
  if (hasErrors(parsed.diagnostics)) throw new Error(`from-adapterhub wrote text its own parser refuses: ${parsed.diagnostics.map((d) => d.message).join('; ')}`);
  return { text: printSpec(parsed.spec), config, warnings: translated.diagnostics };
}

/** adapter_config.json as `save_adapter` writes it ({ config, name, ... }), or a bare config dict. */
function readConfigFile(file: string): { config: AdapterHubConfig; name: string | undefined } {
  const where = { file };
  let json: unknown;
  try {
    if (!statSync(file).isFile()) throw Object.assign(new Error('not a file'), { code: 'EISDIR' });
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    const reason = error instanceof SyntaxError ? `it is not valid JSON (${error.message})` : `it cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`;
    throw new AdapterError([diagnostic('ADP6001', { source: `'${file}'`, reason }, where, 'pass an adapter_config.json, the adapter folder holding one, or a config string')]);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new AdapterError([diagnostic('ADP6001', { source: `'${file}'`, reason: 'it is not a JSON object' }, where, 'pass an adapter_config.json')]);
  }
  const record = json as Record<string, unknown>;
  const inner = typeof record['config'] === 'object' && record['config'] !== null ? (record['config'] as AdapterHubConfig) : (record as AdapterHubConfig);
  return { config: inner, name: typeof record['name'] === 'string' ? record['name'] : undefined };
}
