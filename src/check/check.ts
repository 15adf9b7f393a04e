/**
 * check: the second stage. Parses a spec and everything it imports, gives each statement its
 * meaning and returns a typed Plan, or every problem found (never an exception for bad input).
 *
 * Imports: `import "base.adp"` brings everything the base defines, places and sets; `use "lib.adp"`
 * brings only its adapter definitions. Imports come first; what the importing file sets itself
 * replaces what it imported (field by field inside `train { }`), an imported adapter changes only
 * through `override adapter`, and placements add up. Paths are relative to the importing file.
 */
import * as path from 'node:path';
import { diagnostic, hasErrors, suggestion, type Diagnostic, type SourceSpan } from '../diagnostics/index.js';
import type * as A from '../parse/ast.js';
import { adapterHubSpec, isConfigPath } from '../adapterhub/source.js';
import { parseSpec } from '../parse/parse.js';
import { importProblem, outsideRoots, readSpecFile, realSpecPath, shippedSpecs, specFileProblem, type ImportRoots } from './spec-files.js';
import { staticConflicts } from './conflicts.js';
import { readLayerSet } from './layers.js';
import { adapterSize, hiddenLayerCount, labelCount } from './limits.js';
import {
  activations,
  blockSites,
  ia3Sites,
  projectionSites,
  sites,
  type Activation,
  type AdapterDefinition,
  type AdapterForm,
  type BottleneckSize,
  type Head,
  type Initializer,
  type LayerSelector,
  type Loss,
  type Optimizer,
  type ParameterKind,
  type Placement,
  type Plan,
  type Schedule,
  type Site,
  type Target,
  type TrainableSet,
} from './plan.js';
import {
  betaValue,
  nonNegativeNumber,
  positiveInteger,
  positiveNumber,
  readOptions,
  stringValue,
  tupleOf,
  warmupValue,
  wordFrom,
  type CallSchema,
} from './values.js';

/** Where spec files come from; the CLI reads the file system, tests can pass texts. */
export interface SpecHost {
  /** The file's text, or undefined when it cannot be read. */
  read(file: string): string | undefined;
  /** Why the file cannot be a spec (not a regular file, too large), asked before `read`; undefined when it can. */
  refuse?(file: string): string | undefined;
  /** The path with symbolic links resolved (undefined when missing), for the import-root check; the path itself when omitted. */
  realpath?(file: string): string | undefined;
}

export const fileSystemHost: SpecHost = { read: readSpecFile, refuse: specFileProblem, realpath: realSpecPath };

export interface CheckOptions {
  /**
   * Folders besides the main spec's own folder tree that imports may read from. Imports outside
   * them are refused (ADP1206), so that a spec cannot read the machine's files.
   */
  readonly importRoots?: readonly string[];
}

export interface CheckResult {
  /** Undefined when any error was found. */
  readonly plan: Plan | undefined;
  readonly diagnostics: readonly Diagnostic[];
  /** Texts of every file read, for code frames. */
  readonly sources: ReadonlyMap<string, string>;
}

/** Defaults, shown by `adapterc check` so that nothing is implicit. */
export const defaults = {
  activation: 'gelu' as Activation,
  /** The reference implementation's default: truncated normal, std 1e-3, cut at two deviations. */
  init: { kind: 'normal', std: 1e-3, truncate: 2 } as Initializer,
  identityStd: 1e-3,
  /** AdapterHub's ParBnConfig scaling (He et al. 2022 use 4 beside the FFN). */
  parallelScaling: 4,
  /** PEFT's LoraConfig defaults (r 8, lora_alpha 8). */
  loraRank: 8,
  loraAlpha: 8,
  hiddenLayers: 1,
  optimizer: { kind: 'adamw', lr: 1e-4, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.01, noDecay: ['bias', 'layernorm'] } as Optimizer,
  schedule: { kind: 'constant' } as Schedule,
  target: 'cuda' as Target,
  seed: 0,
};

export function checkSpecFile(file: string, host: SpecHost = fileSystemHost, options: CheckOptions = {}): CheckResult {
  const shipped = shippedSpecs();
  const folders = [path.dirname(path.resolve(file)), ...(options.importRoots ?? []).map((r) => path.resolve(r)), ...(shipped ? [shipped] : [])];
  const checker = new Checker(host, { folders, realpath: (f) => (host.realpath ? host.realpath(f) : f) });
  const scope = checker.evaluateFile(path.normalize(file), undefined);
  const plan = scope && !hasErrors(checker.diagnostics) ? checker.finish(scope, path.normalize(file)) : undefined;
  const diagnostics = sortDiagnostics(checker.diagnostics);
  return { plan: hasErrors(diagnostics) ? undefined : plan, diagnostics, sources: checker.sources };
}

/** Checks a spec given as text (imports are still read through `host`). */
export function checkSpecText(text: string, file: string, host: SpecHost = fileSystemHost, options: CheckOptions = {}): CheckResult {
  const normalized = path.normalize(file);
  const isMain = (f: string) => path.resolve(f) === path.resolve(normalized);
  const textHost: SpecHost = {
    read: (f) => (isMain(f) ? text : host.read(f)),
    refuse: (f) => (isMain(f) ? undefined : host.refuse?.(f)),
    ...(host.realpath ? { realpath: host.realpath } : {}),
  };
  return checkSpecFile(normalized, textHost, options);
}

function sortDiagnostics(ds: readonly Diagnostic[]): Diagnostic[] {
  return [...ds].sort((a, b) => (a.file ?? '').localeCompare(b.file ?? '') || (a.span?.start.offset ?? 0) - (b.span?.start.offset ?? 0));
}

interface Setting<T> {
  readonly value: T;
  readonly span: SourceSpan;
}

interface AdapterFields {
  size?: Setting<BottleneckSize>;
  activation?: Setting<Activation>;
  init?: Setting<Initializer>;
  layerNorm?: Setting<boolean>;
  hiddenLayers?: Setting<number>;
  form?: Setting<AdapterForm>;
}

interface AdapterDraft {
  readonly name: string;
  readonly fields: AdapterFields;
  readonly span: SourceSpan;
  readonly file: string;
}

interface PlacementDraft {
  readonly adapter: A.Word;
  readonly size: BottleneckSize | undefined;
  readonly preposition: 'after' | 'on';
  readonly site: Site;
  readonly siteSpan: SourceSpan;
  readonly layers: LayerSelector;
  readonly span: SourceSpan;
}

/** Everything one file (with its imports) defines, places and sets. */
interface Scope {
  readonly adapters: Map<string, AdapterDraft>;
  readonly placements: PlacementDraft[];
  trainable?: Setting<TrainableSet>;
  head?: Setting<Head>;
  loss?: Setting<Loss>;
  optimizer?: Setting<Optimizer>;
  schedule?: Setting<Schedule>;
  target?: Setting<Target>;
  seed?: Setting<number>;
}

const settingKeys = ['trainable', 'head', 'loss', 'optimizer', 'schedule', 'target', 'seed'] as const;

class Checker {
  readonly diagnostics: Diagnostic[] = [];
  readonly sources = new Map<string, string>();
  private readonly evaluated = new Map<string, Scope | undefined>();
  private readonly stack: string[] = [];

  constructor(
    private readonly host: SpecHost,
    private readonly roots: ImportRoots,
  ) {}

  private report = (d: Diagnostic): void => {
    this.diagnostics.push(d);
  };

  evaluateFile(file: string, importedAt: SourceSpan | undefined): Scope | undefined {
    const key = path.resolve(file);
    if (this.stack.includes(key)) {
      const chain = [...this.stack.slice(this.stack.indexOf(key)), key].map((f) => path.relative(path.dirname(this.stack[0]!), f) || f);
      this.report(diagnostic('ADP1202', { chain: chain.join(' → ') }, importedAt ? { span: importedAt } : { file }, 'move what both files need into a third file that both import'));
      return undefined;
    }
    if (this.evaluated.has(key)) return this.evaluated.get(key);
    const refused = this.host.refuse?.(file);
    if (refused !== undefined) {
      this.report(diagnostic('ADP1207', { path: file, reason: refused }, importedAt ? { span: importedAt } : { file }, 'a spec is a text file ending in .adp'));
      this.evaluated.set(key, undefined);
      return undefined;
    }
    const text = this.host.read(file);
    if (text === undefined) {
      this.report(diagnostic('ADP1201', { path: file }, importedAt ? { span: importedAt } : { file }, 'check the path (imports are relative to the importing file)'));
      this.evaluated.set(key, undefined);
      return undefined;
    }
    this.sources.set(file, text);
    const parsed = parseSpec(text, file);
    this.diagnostics.push(...parsed.diagnostics);
    if (hasErrors(parsed.diagnostics)) {
      this.evaluated.set(key, undefined);
      return undefined;
    }
    this.stack.push(key);
    const scope = this.evaluateStatements(parsed.spec);
    this.stack.pop();
    this.evaluated.set(key, scope);
    return scope;
  }

  /**
   * `import "adapterhub:CONFIG"`: an AdapterHub config string, or an adapter folder (whose adapters,
   * and head, start from its weights), evaluated as the spec text `from-adapterhub` writes for it.
   * Problems with the config are reported at the import's string.
   */
  private evaluateAdapterHub(input: string, at: SourceSpan, imported: Set<string>): Scope | undefined {
    const baseDir = path.dirname(at.file);
    const read = (f: string) => this.host.read(f);
    const key = `${ADAPTERHUB_SCHEME}${isConfigPath(input, baseDir, read) ? path.resolve(baseDir, input) : input}`;
    if (imported.has(key)) {
      this.report(diagnostic('ADP1203', { path: `${ADAPTERHUB_SCHEME}${input}` }, { span: at }, 'remove one of the two lines'));
      return undefined;
    }
    imported.add(key);
    if (this.evaluated.has(key)) return this.evaluated.get(key);
    // A folder is read (its JSON, then its weights) only inside the import roots, as specs are.
    const outside = isConfigPath(input, baseDir, read) ? outsideRoots(`${ADAPTERHUB_SCHEME}${input}`, path.resolve(baseDir, input), at, this.roots) : undefined;
    if (outside) {
      this.report(outside);
      return undefined;
    }
    const translated = adapterHubSpec({ input, baseDir, read, withWeights: true });
    for (const d of translated.diagnostics) this.report({ ...d, file: at.file, span: at });
    if (translated.text === undefined || hasErrors(translated.diagnostics)) {
      this.evaluated.set(key, undefined);
      return undefined;
    }
    // The translation is spec text in its own (virtual) file, so that what it defines points there.
    const parsed = parseSpec(translated.text, key);
    if (hasErrors(parsed.diagnostics)) throw new Error(`the spec text for ${key} does not parse: ${parsed.diagnostics.map((d) => d.message).join('; ')}`);
    this.sources.set(key, translated.text);
    const scope = this.evaluateStatements(parsed.spec);
    this.evaluated.set(key, scope);
    return scope;
  }

  /** An AdapterHub folder a spec names (relative to the spec), checked against the import roots. */
  private adapterHubFolder(span: SourceSpan, written: string): string {
    const folder = relativeToSpec(span, written);
    const outside = outsideRoots(written, folder, span, this.roots);
    if (outside) this.report(outside);
    return folder;
  }

  private evaluateStatements(spec: A.SpecFile): Scope {
    const scope: Scope = { adapters: new Map(), placements: [] };
    const local = new Set<string>();
    const imported = new Set<string>();
    let importsAllowed = true;
    for (const statement of spec.statements) {
      if (statement.kind === 'import' || statement.kind === 'use') {
        if (!importsAllowed) {
          this.report(diagnostic('ADP1204', { keyword: statement.kind }, { span: statement.span }, 'move it to the top of the file'));
          continue;
        }
        const written = statement.path.value;
        if (written.startsWith(ADAPTERHUB_SCHEME)) {
          const child = this.evaluateAdapterHub(written.slice(ADAPTERHUB_SCHEME.length), statement.path.span, imported);
          if (child) this.merge(scope, child, statement.kind);
          continue;
        }
        const target = path.normalize(path.isAbsolute(written) ? written : path.join(path.dirname(spec.file), written));
        if (imported.has(path.resolve(target))) {
          this.report(diagnostic('ADP1203', { path: statement.path.value }, { span: statement.path.span }, 'remove one of the two lines'));
          continue;
        }
        imported.add(path.resolve(target));
        const refused = importProblem(written, target, statement.path.span, this.roots);
        if (refused) {
          this.report(refused);
          continue;
        }
        const child = this.evaluateFile(target, statement.path.span);
        if (child) this.merge(scope, child, statement.kind);
        continue;
      }
      importsAllowed = false;
      switch (statement.kind) {
        case 'adapter':
          this.adapterDeclaration(scope, statement, local, spec.file);
          break;
        case 'place':
          scope.placements.push(...this.placement(statement));
          break;
        case 'train':
          this.trainBlock(scope, statement, local);
          break;
        case 'target':
          if (this.once(local, 'target', statement.span, 'the spec')) {
            const value = wordFrom(['cuda', 'cpu'] as const, 'target', { gpu: 'cuda', nvidia: 'cuda' })(statement.value, 'target', this.report);
            if (value) scope.target = { value, span: statement.span };
          }
          break;
        case 'seed':
          if (this.once(local, 'seed', statement.span, 'the spec')) {
            const value = seedValue(statement.value, 'seed', this.report);
            if (value !== undefined) scope.seed = { value, span: statement.span };
          }
          break;
      }
    }
    return scope;
  }

  /** Records that `key` was set in this file; reports and returns false the second time. */
  private once(local: Set<string>, key: string, span: SourceSpan, where: string): boolean {
    if (local.has(key)) {
      this.report(diagnostic('ADP1102', { name: key, where }, { span }, 'keep one of them'));
      return false;
    }
    local.add(key);
    return true;
  }

  private merge(into: Scope, from: Scope, kind: 'import' | 'use'): void {
    for (const [name, draft] of from.adapters) {
      const existing = into.adapters.get(name);
      if (existing && existing !== draft) {
        this.report(diagnostic('ADP1105', { name }, { span: draft.span }, `it is also defined in ${existing.file}; rename one of them`));
        continue;
      }
      into.adapters.set(name, draft);
    }
    if (kind === 'use') return;
    for (const p of from.placements) if (!into.placements.includes(p)) into.placements.push(p);
    for (const key of settingKeys) {
      if (from[key] !== undefined) Object.assign(into, { [key]: from[key] });
    }
  }

  private adapterDeclaration(scope: Scope, d: A.AdapterDeclaration, local: Set<string>, file: string): void {
    const name = d.name.text;
    const existing = scope.adapters.get(name);
    const definedHere = local.has(`adapter ${name}`);
    if (d.override && (!existing || definedHere)) {
      this.report(diagnostic('ADP1113', { name }, { span: d.name.span }, existing ? 'it is defined in this file; change it there' : "remove 'override' to define a new adapter"));
      return;
    }
    if (!d.override && existing) {
      const hint = definedHere ? 'rename one of them' : `it is imported from ${existing.file}; write 'override adapter ${name} { … }' to change it`;
      this.report(diagnostic('ADP1105', { name }, { span: d.name.span }, hint));
      return;
    }
    local.add(`adapter ${name}`);
    const fields: AdapterFields = d.override && existing ? { ...existing.fields } : {};
    const seen = new Set<string>();
    let sizeKinds = 0;
    for (const s of d.settings) {
      if (seen.has(s.kind)) {
        this.report(diagnostic('ADP1102', { name: s.kind, where: `adapter '${name}'` }, { span: s.span }, 'keep one of them'));
        continue;
      }
      seen.add(s.kind);
      switch (s.kind) {
        case 'size':
        case 'reduction': {
          sizeKinds++;
          const n = (s.kind === 'size' ? adapterSize : positiveInteger)(s.value, s.kind, this.report);
          if (n !== undefined) fields.size = { value: s.kind === 'size' ? { kind: 'absolute', units: n } : { kind: 'reduction', factor: n }, span: s.span };
          break;
        }
        case 'activation': {
          const value = wordFrom(activations, 'activation')(s.value, 'activation', this.report);
          if (value) fields.activation = { value, span: s.span };
          break;
        }
        case 'init': {
          const value = this.initializer(s.value);
          if (value) fields.init = { value, span: s.span };
          break;
        }
        case 'layernorm':
          fields.layerNorm = { value: true, span: s.span };
          break;
        case 'hidden_layers': {
          const n = hiddenLayerCount(s.value, 'hidden_layers', this.report);
          if (n !== undefined) fields.hiddenLayers = { value: n, span: s.span };
          break;
        }
        case 'parallel': {
          const o = readOptions({ name: { kind: 'word', text: 'parallel', span: s.span }, args: s.args, span: s.span }, { options: { scaling: positiveNumber } }, this.report);
          fields.form = { value: { kind: 'parallel', scaling: (o.get('scaling') as number | undefined) ?? defaults.parallelScaling }, span: s.span };
          break;
        }
        case 'lora': {
          const o = readOptions({ name: { kind: 'word', text: 'lora', span: s.span }, args: s.args, span: s.span }, { options: { rank: adapterSize, alpha: positiveNumber } }, this.report);
          fields.form = { value: { kind: 'lora', rank: (o.get('rank') as number | undefined) ?? defaults.loraRank, alpha: (o.get('alpha') as number | undefined) ?? defaults.loraAlpha }, span: s.span };
          break;
        }
        case 'ia3':
          fields.form = { value: { kind: 'ia3' }, span: s.span };
          break;
      }
    }
    if (sizeKinds > 1) {
      this.report(diagnostic('ADP1106', { name }, { span: d.name.span }, "keep one: 'size' is the bottleneck width, 'reduction' divides the hidden size"));
    }
    scope.adapters.set(name, { name, fields, span: d.name.span, file });
  }

  private initializer(call: A.Call): Initializer | undefined {
    const kinds = ['normal', 'identity', 'mam', 'adapterhub'] as const;
    const kind = wordFrom(kinds, 'initializer')(call.name, 'init', this.report);
    if (kind === 'normal') {
      const o = readOptions(call, { options: { std: positiveNumber, truncate: positiveNumber }, required: ['std'] }, this.report);
      const std = o.get('std') as number | undefined;
      return std === undefined ? undefined : { kind: 'normal', std, truncate: o.get('truncate') as number | undefined };
    }
    if (kind === 'identity') {
      const o = readOptions(call, { options: { std: positiveNumber } }, this.report);
      return { kind: 'identity', std: (o.get('std') as number | undefined) ?? defaults.identityStd };
    }
    if (kind === 'mam') {
      readOptions(call, { options: {} }, this.report);
      return { kind: 'mam' };
    }
    if (kind === 'adapterhub') {
      const o = readOptions(call, { options: { folder: stringValue }, required: ['folder'] }, this.report);
      const folder = o.get('folder') as string | undefined;
      return folder === undefined ? undefined : { kind: 'adapterhub', folder: this.adapterHubFolder(call.span, folder), span: call.span };
    }
    return undefined;
  }

  private placement(p: A.PlaceStatement): PlacementDraft[] {
    let size: BottleneckSize | undefined;
    if (p.args) {
      const call: A.Call = { name: p.adapter, args: p.args, span: p.span };
      const o = readOptions(call, { options: { size: adapterSize, reduction: positiveInteger } }, this.report);
      if (o.has('size') && o.has('reduction')) {
        this.report(diagnostic('ADP1106', { name: p.adapter.text }, { span: p.adapter.span }, 'keep one of them'));
      }
      const units = o.get('size') as number | undefined;
      const factor = o.get('reduction') as number | undefined;
      size = units !== undefined ? { kind: 'absolute', units } : factor !== undefined ? { kind: 'reduction', factor } : undefined;
    }
    const layers = readLayerSet(p.layers.set, this.report);
    const drafts: PlacementDraft[] = [];
    const seenSites = new Set<string>();
    for (const siteWord of p.sites) {
      const site = wordFrom(sites, 'site')(siteWord, 'after', this.report);
      if (!site) continue;
      if (seenSites.has(site)) {
        this.report(diagnostic('ADP1102', { name: site, where: 'this placement' }, { span: siteWord.span }, 'name each site once'));
        continue;
      }
      seenSites.add(site);
      drafts.push({ adapter: p.adapter, size, preposition: p.preposition, site, siteSpan: siteWord.span, layers, span: p.span });
    }
    return drafts;
  }

  private trainBlock(scope: Scope, block: A.TrainBlock, local: Set<string>): void {
    if (!this.once(local, 'train', block.span, 'the spec')) return;
    const seen = new Set<string>();
    for (const s of block.settings) {
      if (seen.has(s.kind)) {
        this.report(diagnostic('ADP1102', { name: s.kind, where: "the 'train' block" }, { span: s.span }, 'keep one of them'));
        continue;
      }
      seen.add(s.kind);
      switch (s.kind) {
        case 'trainable': {
          const value = this.trainable(s.items);
          if (value) scope.trainable = { value, span: s.span };
          break;
        }
        case 'head': {
          const value = this.head(s.value);
          if (value) scope.head = { value, span: s.span };
          break;
        }
        case 'loss': {
          const value = wordFrom(['cross_entropy', 'mse'] as const, 'loss')(s.value, 'loss', this.report);
          if (value) scope.loss = { value, span: s.span };
          break;
        }
        case 'optimizer': {
          const value = this.optimizer(s.value);
          if (value) scope.optimizer = { value, span: s.span };
          break;
        }
        case 'schedule': {
          const value = this.schedule(s.value);
          if (value) scope.schedule = { value, span: s.span };
          break;
        }
      }
    }
  }

  private trainable(items: readonly A.TrainableItem[]): TrainableSet | undefined {
    const names = ['adapters', 'layernorm', 'head', 'embeddings', 'all'] as const;
    const set = { adapters: true as const, layerNorm: undefined as LayerSelector | undefined, head: false, embeddings: false, all: false };
    const seen = new Set<string>();
    let ok = true;
    for (const item of items) {
      const name = wordFrom(names, 'trainable part')(item.name, 'trainable', this.report);
      if (!name) {
        ok = false;
        continue;
      }
      if (seen.has(name)) {
        this.report(diagnostic('ADP1102', { name, where: "'trainable'" }, { span: item.span }, 'list it once'));
        continue;
      }
      seen.add(name);
      if (item.layers && name !== 'layernorm') {
        this.report(diagnostic('ADP1111', { option: 'in layers', callee: name }, { span: item.layers.span }, "only 'layernorm' can be limited to some layers"));
      }
      if (name === 'layernorm') {
        set.layerNorm = item.layers ? readLayerSet(item.layers.set, this.report) : { kind: 'all', except: [], span: item.span };
      } else if (name === 'head') set.head = true;
      else if (name === 'embeddings') set.embeddings = true;
      else if (name === 'all') set.all = true;
    }
    if (set.all) {
      for (const item of items) {
        if (['layernorm', 'head', 'embeddings'].includes(item.name.text)) {
          this.report(diagnostic('ADP1117', { item: item.name.text }, { span: item.span }, `remove '${item.name.text}'`));
        }
      }
    }
    return ok ? set : undefined;
  }

  private head(call: A.Call): Head | undefined {
    const kind = wordFrom(['output', 'classifier', 'masked_lm'] as const, 'head')(call.name, 'head', this.report);
    if (kind === 'masked_lm') {
      readOptions(call, { options: {} }, this.report);
      return { kind: 'masked_lm' };
    }
    if (kind === 'output') {
      const o = readOptions(call, { options: { name: stringValue } }, this.report);
      return { kind: 'output', output: o.get('name') as string | undefined };
    }
    if (kind === 'classifier') {
      const schema: CallSchema = { options: { labels: labelCount, from: wordFrom(['pooled', 'first_token'] as const, 'classifier input'), adapterhub: stringValue }, required: ['labels'] };
      const o = readOptions(call, schema, this.report);
      const labels = o.get('labels') as number | undefined;
      if (labels === undefined) return undefined;
      const folder = o.get('adapterhub') as string | undefined;
      return {
        kind: 'classifier',
        labels,
        from: (o.get('from') as 'pooled' | 'first_token' | undefined) ?? 'pooled',
        ...(folder === undefined ? {} : { adapterhub: { folder: this.adapterHubFolder(call.span, folder), span: call.span } }),
      };
    }
    return undefined;
  }

  private optimizer(call: A.Call): Optimizer | undefined {
    const kind = wordFrom(['adamw', 'sgd'] as const, 'optimizer')(call.name, 'optimizer', this.report);
    if (kind === 'adamw') {
      const base = defaults.optimizer as Extract<Optimizer, { kind: 'adamw' }>;
      const schema: CallSchema = {
        options: {
          lr: positiveNumber,
          betas: tupleOf(betaValue, 2, 'two numbers from 0 up to 1, e.g. (0.9, 0.999)'),
          eps: positiveNumber,
          weight_decay: nonNegativeNumber,
          no_decay: tupleOf(wordFrom(['bias', 'layernorm'] as const, 'parameter kind'), undefined, "a list of parameter kinds, e.g. (bias, layernorm)"),
        },
      };
      const o = readOptions(call, schema, this.report);
      const betas = o.get('betas') as [number, number] | undefined;
      return {
        kind: 'adamw',
        lr: (o.get('lr') as number | undefined) ?? base.lr,
        betas: betas ?? base.betas,
        eps: (o.get('eps') as number | undefined) ?? base.eps,
        weightDecay: (o.get('weight_decay') as number | undefined) ?? base.weightDecay,
        noDecay: [...new Set((o.get('no_decay') as ParameterKind[] | undefined) ?? base.noDecay)],
      };
    }
    if (kind === 'sgd') {
      const o = readOptions(call, { options: { lr: positiveNumber } }, this.report);
      return { kind: 'sgd', lr: (o.get('lr') as number | undefined) ?? defaults.optimizer.lr };
    }
    return undefined;
  }

  private schedule(call: A.Call): Schedule | undefined {
    const kind = wordFrom(['constant', 'linear'] as const, 'schedule')(call.name, 'schedule', this.report);
    if (kind === 'constant') {
      readOptions(call, { options: {} }, this.report);
      return { kind: 'constant' };
    }
    if (kind === 'linear') {
      const o = readOptions(call, { options: { warmup: warmupValue } }, this.report);
      return { kind: 'linear', warmup: (o.get('warmup') as { steps: number } | { fraction: number } | undefined) ?? { steps: 0 } };
    }
    return undefined;
  }

  /**
   * A LoRA or (IA)³ definition: the bottleneck settings mean nothing there (ADP1122). LoRA's width
   * is its rank; (IA)³'s is the site's, known once the model is (`size` is then unused).
   */
  private projectionAdapter(name: string, draft: AdapterDraft, form: AdapterForm): AdapterDefinition | undefined {
    const f = draft.fields;
    const family = form.kind === 'lora' ? 'a LoRA adapter' : 'an (IA)³ adapter';
    const fix = form.kind === 'lora' ? "remove it: a LoRA adapter's width is its rank, 'lora(rank 8, alpha 16)'" : 'remove it: an (IA)³ adapter is one learned vector per site';
    let ok = true;
    const settings: [string, SourceSpan | undefined][] = [
      ['size', f.size?.span],
      ['activation', f.activation?.span],
      ['layernorm', f.layerNorm?.span],
      ['hidden_layers', f.hiddenLayers?.span],
    ];
    for (const [setting, span] of settings) {
      if (!span) continue;
      ok = false;
      this.report(diagnostic('ADP1122', { setting: setting === 'size' && f.size?.value.kind === 'reduction' ? 'reduction' : setting, name, family }, { span }, fix));
    }
    // LoRA: A Kaiming-uniform and B zero, as PEFT draws them. (IA)³: ones (any init but `normal`).
    const init = f.init?.value ?? (form.kind === 'lora' ? { kind: 'mam' } : { kind: 'identity', std: defaults.identityStd });
    if (init.kind === 'adapterhub') {
      ok = false;
      const fix = form.kind === 'lora' ? "use 'init mam' (PEFT's: A Kaiming-uniform, B zero), 'identity(std S)' or 'normal(std S)'" : "remove it (the vectors start at ones), or use 'init normal(std S)' for ones plus N(0, S²)";
      this.report(diagnostic('ADP1122', { setting: 'init adapterhub', name, family }, { span: f.init!.span }, fix));
    }
    if (!ok) return undefined;
    return {
      name,
      size: { kind: 'absolute', units: form.kind === 'lora' ? form.rank : 1 },
      activation: 'identity',
      init,
      layerNorm: false,
      hiddenLayers: 1,
      form,
      span: draft.span,
    };
  }

  /** ADP1123 when a placement puts an adapter where its family does not go, or says 'after' for 'on'. */
  private placementFits(definition: AdapterDefinition, p: PlacementDraft): boolean {
    const kind = definition.form.kind;
    const allowed: readonly Site[] = kind === 'lora' ? projectionSites : kind === 'ia3' ? ia3Sites : blockSites;
    const preposition = kind === 'lora' || kind === 'ia3' ? 'on' : 'after';
    const family = kind === 'lora' ? 'a LoRA adapter' : kind === 'ia3' ? 'an (IA)³ adapter' : 'a bottleneck adapter';
    const where = `place ${definition.name} ${preposition} ${allowed.includes(p.site) ? p.site : allowed.join(', ')} …`;
    if (!allowed.includes(p.site)) {
      this.report(diagnostic('ADP1123', { name: definition.name, family, site: p.site, preposition, allowed: allowed.join(', ') }, { span: p.siteSpan }, `write '${where}'`));
      return false;
    }
    if (p.preposition !== preposition) {
      this.report(diagnostic('ADP1124', { name: definition.name, family, preposition }, { span: p.span }, `write '${where}'`));
      return false;
    }
    if (p.size && (kind === 'lora' || kind === 'ia3')) {
      this.report(diagnostic('ADP1122', { setting: 'size', name: definition.name, family }, { span: p.span }, kind === 'lora' ? "set the rank in the adapter: 'lora(rank 4)'" : 'remove it: an (IA)³ adapter is one learned vector per site'));
      return false;
    }
    return true;
  }

  /** Turns the top-level scope into the plan: resolves adapter names, fills defaults, checks the whole. */
  finish(scope: Scope, file: string): Plan | undefined {
    const before = this.diagnostics.length;
    const definitions = new Map<string, AdapterDefinition>();
    for (const [name, draft] of scope.adapters) {
      const f = draft.fields;
      const family = f.form?.value.kind;
      if (family === 'lora' || family === 'ia3') {
        const definition = this.projectionAdapter(name, draft, f.form!.value);
        if (definition) definitions.set(name, definition);
        continue;
      }
      if (!f.size) {
        this.report(diagnostic('ADP1107', { name }, { span: draft.span }, "add 'size 64' (bottleneck width) or 'reduction 12' (hidden size / 12)"));
        continue;
      }
      definitions.set(name, {
        name,
        size: f.size.value,
        activation: f.activation?.value ?? defaults.activation,
        init: f.init?.value ?? defaults.init,
        layerNorm: f.layerNorm?.value ?? false,
        hiddenLayers: f.hiddenLayers?.value ?? defaults.hiddenLayers,
        form: f.form?.value ?? { kind: 'sequential' },
        span: draft.span,
      });
    }

    const placements: Placement[] = [];
    for (const p of scope.placements) {
      const definition = definitions.get(p.adapter.text);
      if (definition && !this.placementFits(definition, p)) continue;
      if (!definition) {
        if (!scope.adapters.has(p.adapter.text)) {
          this.report(diagnostic('ADP1104', { name: p.adapter.text }, { span: p.adapter.span }, scope.adapters.size > 0 ? suggestion(p.adapter.text, [...scope.adapters.keys()]) : "define it first with 'adapter NAME { size 64 }'"));
        }
        continue;
      }
      placements.push({ adapter: p.size ? { ...definition, size: p.size } : definition, site: p.site, layers: p.layers, span: p.span });
    }
    this.checkStaticConflicts(placements);

    // A file that places nothing is a library of definitions for others to import: no warning
    // there, nor while errors stand (a misspelt placement would make it look unused).
    const placesHere = scope.placements.some((p) => p.span.file === file) && !hasErrors(this.diagnostics);
    for (const [name, draft] of scope.adapters) {
      if (placesHere && draft.file === file && !scope.placements.some((p) => p.adapter.text === name)) {
        this.report(diagnostic('ADP1116', { name }, { span: draft.span }, `place it with 'place ${name} after attention in layers all', or remove it`));
      }
    }

    const trainable = scope.trainable?.value ?? { adapters: true, layerNorm: undefined, head: false, embeddings: false, all: false };
    const head = scope.head?.value ?? { kind: 'output', output: undefined };
    if (head.kind === 'classifier' && !trainable.head && !trainable.all) {
      this.report(diagnostic('ADP1119', {}, { span: scope.head!.span }, "add 'head' to 'trainable', e.g. 'trainable adapters, head'"));
    }
    if (head.kind === 'masked_lm' && !trainable.head && !trainable.all) {
      this.report(diagnostic('ADP1120', {}, { span: scope.head!.span }, "add 'head' to 'trainable', e.g. 'trainable all' for pretraining or 'trainable adapters, head'"));
    }
    const loss = scope.loss?.value ?? (head.kind === 'classifier' && head.labels === 1 ? 'mse' : 'cross_entropy');
    if (loss !== 'cross_entropy' && head.kind === 'masked_lm') {
      this.report(diagnostic('ADP1110', { loss, head: 'masked_lm' }, { span: (scope.loss ?? scope.head)!.span }, "a masked language model predicts token ids; use 'loss cross_entropy' (the default)"));
    }
    if (loss === 'cross_entropy' && head.kind === 'classifier' && head.labels < 2) {
      this.report(
        diagnostic('ADP1110', { loss, head: `classifier(labels ${head.labels})` }, { span: (scope.loss ?? scope.head)!.span }, "cross-entropy needs 2 or more labels; use 'loss mse' for regression"),
      );
    }
    if (scope.placements.length === 0 && !trainable.layerNorm && !trainable.head && !trainable.embeddings && !trainable.all) {
      const start = { offset: 0, line: 1, column: 1 };
      const span = scope.trainable?.span ?? { file, start, end: start };
      this.report(diagnostic('ADP1114', {}, { span }, "place an adapter ('place NAME after attention in layers all') or add to 'trainable'"));
    }
    if (hasErrors(this.diagnostics.slice(before))) return undefined;
    return {
      file,
      sources: [...this.sources.keys()],
      adapters: [...definitions.values()],
      placements,
      trainable,
      head,
      loss,
      optimizer: scope.optimizer?.value ?? defaults.optimizer,
      schedule: scope.schedule?.value ?? defaults.schedule,
      target: scope.target?.value ?? defaults.target,
      seed: scope.seed?.value ?? defaults.seed,
    };
  }

  /** Two adapters at one site (conflicts.ts). */
  private checkStaticConflicts(placements: readonly Placement[]): void {
    for (const d of staticConflicts(placements)) this.report(d);
  }
}

const seedValue = (v: A.Value, name: string, report: (d: Diagnostic) => void): number | undefined =>
  v.kind === 'number' && v.isInteger && v.value >= 0 && v.value <= 0xffffffff
    ? v.value
    : (report(diagnostic('ADP1103', { name, rule: 'an integer from 0 to 4294967295', found: v.kind === 'number' ? v.text : 'not a number' }, { span: v.span })), undefined);

/** A path written in a spec, as imports are: relative to the folder of the spec that names it. */
function relativeToSpec(span: SourceSpan, written: string): string {
  return path.resolve(path.dirname(span.file), written);
}

/** Imports of AdapterHub configs and adapter folders: `import "adapterhub:double_seq_bn[reduction_factor=16]"`. */
const ADAPTERHUB_SCHEME = 'adapterhub:';
