/**
 * An AdapterHub config, wherever it comes from, as spec text: a config string, an
 * adapter_config.json, or the adapter folder holding one. Shared by `adapterc from-adapterhub` and
 * by specs that import one (`import "adapterhub:double_seq_bn[reduction_factor=16]"`, or
 * `import "adapterhub:path/to/folder"`, whose adapters, and head if it has one, then start from the
 * folder's trained weights). Files are read through `read`, as the checker reads imports.
 */
import * as path from 'node:path';
import { diagnostic, hasErrors, type Diagnostic } from '../diagnostics/index.js';
import { resolveConfigString, translateConfig, type AdapterHubConfig, type TranslatedHead } from './config.js';

export interface AdapterHubSource {
  /** A config string, or a path (absolute, or relative to `baseDir`) to adapter_config.json or its folder. */
  readonly input: string;
  readonly baseDir: string;
  /** A file's text, or undefined when it cannot be read (or is a folder). */
  readonly read: (file: string) => string | undefined;
  /** The adapter definition's name (default: the config's name, or the folder's adapter name). */
  readonly name?: string;
  /** For a folder: start the adapters (and a one-layer classification head) from its weights. */
  readonly withWeights?: boolean;
}

export interface AdapterHubSpec {
  /** Undefined when a diagnostic is an error. */
  readonly text: string | undefined;
  readonly config: AdapterHubConfig | undefined;
  readonly diagnostics: readonly Diagnostic[];
}

/**
 * Whether `input` names a file or folder rather than a config: it has a path separator or ends in
 * .json, or an adapter folder of that name is beside the spec (`sst2` is a folder before it is an
 * unknown config name; `./double_seq_bn` says folder outright).
 */
export function isConfigPath(input: string, baseDir: string, read: (file: string) => string | undefined): boolean {
  return /[/\\]|\.json$/.test(input) || input === '.' || input === '..' || read(path.resolve(baseDir, input, 'adapter_config.json')) !== undefined;
}

export function adapterHubSpec(source: AdapterHubSource): AdapterHubSpec {
  const { input } = source;
  if (!isConfigPath(input, source.baseDir, source.read)) {
    const origin = `'${input}'`;
    const resolved = resolveConfigString(input, origin);
    if (hasErrors(resolved.diagnostics)) return { text: undefined, config: undefined, diagnostics: resolved.diagnostics };
    return named(resolved.config!, source.name ?? resolved.name!, origin);
  }
  const given = path.resolve(source.baseDir, input);
  const folder = given.endsWith('.json') ? path.dirname(given) : given;
  const file = given.endsWith('.json') ? given : path.join(given, 'adapter_config.json');
  const origin = `'${file}'`;
  const fail = (reason: string, fix: string): AdapterHubSpec => ({ text: undefined, config: undefined, diagnostics: [diagnostic('ADP6001', { source: origin, reason }, { file }, fix)] });
  const text = source.read(file);
  if (text === undefined) return fail('it cannot be read', 'give an adapter_config.json, the adapter folder holding one, or a config string');
  const json = parseObject(text);
  if (typeof json === 'string') return fail(json, 'give the adapter_config.json save_adapter wrote');
  const inner = typeof json['config'] === 'object' && json['config'] !== null && !Array.isArray(json['config']) ? (json['config'] as AdapterHubConfig) : (json as AdapterHubConfig);
  const adapterName = typeof json['name'] === 'string' ? json['name'] : 'adapter';
  if (!source.withWeights) return named(inner, source.name ?? adapterName, origin);
  if (/["\n\r]/.test(folder)) return fail('its folder path has a quote or a line break, which a spec string cannot hold', 'move the folder to a plainer path');
  const head = folderHead(source.read(path.join(folder, 'head_config.json')), folder);
  return named(inner, source.name ?? adapterName, origin, { weightsFrom: folder, ...(head.head ? { head: head.head } : {}) }, head.diagnostics);
}

/** The folder's head as a spec classifier, or a warning saying why it is not imported. */
function folderHead(text: string | undefined, folder: string): { head?: TranslatedHead; diagnostics: Diagnostic[] } {
  if (text === undefined) return { diagnostics: [] };
  const parsed = parseObject(text);
  const config = (typeof parsed === 'string' ? {} : (parsed['config'] ?? {})) as Record<string, unknown>;
  const labels = config['num_labels'];
  if (config['head_type'] !== 'classification' || config['layers'] !== 1 || typeof labels !== 'number') {
    const reason = `it is a ${String(config['head_type'])} head of ${String(config['layers'])} layer(s), and adapterc's classifier is a one-layer classification head`;
    return { diagnostics: [diagnostic('ADP6004', { folder, reason }, { file: path.join(folder, 'head_config.json') }, 'set the spec\'s own head in its train block')] };
  }
  return { head: { labels, from: config['use_pooler'] === true ? 'pooled' : 'first_token', folder }, diagnostics: [] };
}

function named(config: AdapterHubConfig, name: string, origin: string, options: Parameters<typeof translateConfig>[3] = {}, extra: Diagnostic[] = []): AdapterHubSpec {
  const spelled = name.replace(/[^A-Za-z0-9_]/g, '_');
  const adapter = /^[A-Za-z_]/.test(spelled) ? spelled : `a_${spelled}`;
  const translated = translateConfig(config, adapter, origin, options);
  return { text: translated.text, config, diagnostics: [...extra, ...translated.diagnostics] };
}

/** The JSON object `text` holds, or why it holds none. */
export function parseObject(text: string): Record<string, unknown> | string {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // Not the parser's message: it quotes the file, which may not be a config at all.
    return 'it is not valid JSON';
  }
  return typeof json === 'object' && json !== null && !Array.isArray(json) ? (json as Record<string, unknown>) : 'it is not a JSON object';
}
