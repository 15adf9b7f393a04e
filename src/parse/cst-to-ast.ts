/**
 * The CST-to-AST visitor: one function per grammar rule, reading the children Chevrotain recorded
 * and building typed AST nodes. After error recovery a node can lack children; such nodes return
 * undefined and are dropped (the syntax error was already reported).
 */
import type { CstElement, CstNode, IToken } from 'chevrotain';
import { diagnostic, suggestion, type Diagnostic, type SourceSpan } from '../diagnostics/index.js';
import type * as A from './ast.js';
import { adapterSettingKeywords, statementKeywords, trainSettingKeywords } from './syntax-errors.js';

type Children = Record<string, CstElement[] | undefined>;

function isToken(e: CstElement | undefined): e is IToken {
  return e !== undefined && 'image' in e;
}
function node(c: Children, name: string, i = 0): CstNode | undefined {
  const e = c[name]?.[i];
  return e !== undefined && !isToken(e) ? e : undefined;
}
function nodes(c: Children, name: string): CstNode[] {
  return (c[name] ?? []).filter((e): e is CstNode => !isToken(e));
}
function token(c: Children, name: string, i = 0): IToken | undefined {
  const e = c[name]?.[i];
  return isToken(e) && !Number.isNaN(e.startOffset) && e.image !== '' ? e : undefined;
}
function tokens(c: Children, name: string): IToken[] {
  return (c[name] ?? []).filter(isToken).filter((t) => !Number.isNaN(t.startOffset) && t.image !== '');
}

export class AstBuilder {
  /** Misspelled statements and settings, found while building. */
  readonly diagnostics: Diagnostic[] = [];

  constructor(private readonly file: string) {}

  private unknown(n: CstNode | undefined, what: string, candidates: readonly string[]): undefined {
    const t = n && token(n.children, 'Identifier');
    if (t) this.diagnostics.push(diagnostic('ADP1004', { name: t.image, what }, { span: this.tokenSpan(t) }, suggestion(t.image, candidates)));
    return undefined;
  }

  tokenSpan(t: IToken): SourceSpan {
    return {
      file: this.file,
      start: { offset: t.startOffset, line: t.startLine ?? 1, column: t.startColumn ?? 1 },
      end: { offset: (t.endOffset ?? t.startOffset) + 1, line: t.endLine ?? t.startLine ?? 1, column: (t.endColumn ?? t.startColumn ?? 1) + 1 },
    };
  }

  private nodeSpan(n: CstNode): SourceSpan | undefined {
    const l = n.location;
    if (!l || Number.isNaN(l.startOffset) || l.endOffset === undefined || Number.isNaN(l.endOffset)) return undefined;
    return {
      file: this.file,
      start: { offset: l.startOffset, line: l.startLine ?? 1, column: l.startColumn ?? 1 },
      end: { offset: l.endOffset + 1, line: l.endLine ?? 1, column: (l.endColumn ?? 1) + 1 },
    };
  }

  private word(t: IToken | undefined): A.Word | undefined {
    return t ? { kind: 'word', text: t.image, span: this.tokenSpan(t) } : undefined;
  }

  private number(t: IToken | undefined, percent?: IToken): A.NumberValue | undefined {
    if (!t) return undefined;
    const span = this.tokenSpan(t);
    return {
      kind: 'number',
      value: Number(t.image),
      text: t.image,
      isInteger: /^-?\d+$/.test(t.image),
      percent: percent !== undefined,
      span: percent ? { ...span, end: this.tokenSpan(percent).end } : span,
    };
  }

  private string(t: IToken | undefined): A.StringValue | undefined {
    return t ? { kind: 'string', value: t.image.slice(1, -1), span: this.tokenSpan(t) } : undefined;
  }

  statements(spec: CstNode): A.Statement[] {
    return nodes(spec.children, 'statement').flatMap((s) => {
      const built = this.statement(s);
      return built ? [built] : [];
    });
  }

  private statement(n: CstNode): A.Statement | undefined {
    const c = n.children;
    const imp = node(c, 'importStatement') ?? node(c, 'useStatement');
    if (imp) return this.importStatement(imp, node(c, 'importStatement') ? 'import' : 'use');
    const adapter = node(c, 'adapterDeclaration');
    if (adapter) return this.adapterDeclaration(adapter);
    const place = node(c, 'placeStatement');
    if (place) return this.placeStatement(place);
    const train = node(c, 'trainBlock');
    if (train) return this.trainBlock(train);
    const target = node(c, 'targetStatement');
    if (target) {
      const value = this.word(token(target.children, 'Name'));
      const span = this.nodeSpan(target);
      return value && span ? { kind: 'target', value, span } : undefined;
    }
    const unknown = node(c, 'unknownStatement');
    if (unknown) return this.unknown(unknown, 'statement', statementKeywords);
    const seed = node(c, 'seedStatement');
    if (seed) {
      const value = this.number(token(seed.children, 'IntegerLiteral'));
      const span = this.nodeSpan(seed);
      return value && span ? { kind: 'seed', value, span } : undefined;
    }
    return undefined;
  }

  private importStatement(n: CstNode, kind: 'import' | 'use'): A.ImportStatement | undefined {
    const path = this.string(token(n.children, 'StringLiteral'));
    const span = this.nodeSpan(n);
    return path && span ? { kind, path, span } : undefined;
  }

  private adapterDeclaration(n: CstNode): A.AdapterDeclaration | undefined {
    const c = n.children;
    const name = this.word(token(c, 'Identifier'));
    const span = this.nodeSpan(n);
    if (!name || !span) return undefined;
    const settings = nodes(c, 'adapterSetting').flatMap((s) => {
      const built = this.adapterSetting(s);
      return built ? [built] : [];
    });
    return { kind: 'adapter', override: token(c, 'Kw_override') !== undefined, name, settings, span };
  }

  private adapterSetting(n: CstNode): A.AdapterSetting | undefined {
    const c = n.children;
    const span = this.nodeSpan(n);
    if (!span) return undefined;
    const integer = this.number(token(c, 'IntegerLiteral'));
    if (token(c, 'Kw_size')) return integer && { kind: 'size', value: integer, span };
    if (token(c, 'Kw_reduction')) return integer && { kind: 'reduction', value: integer, span };
    if (token(c, 'Kw_hidden_layers')) return integer && { kind: 'hidden_layers', value: integer, span };
    if (token(c, 'Kw_layernorm')) return { kind: 'layernorm', span };
    if (token(c, 'Kw_parallel')) {
      const argsNode = node(c, 'arguments');
      const args = argsNode ? this.arguments(argsNode) : undefined;
      return argsNode && !args ? undefined : { kind: 'parallel', args, span };
    }
    if (token(c, 'Kw_lora')) {
      const argsNode = node(c, 'arguments');
      const args = argsNode ? this.arguments(argsNode) : undefined;
      return argsNode && !args ? undefined : { kind: 'lora', args, span };
    }
    if (token(c, 'Kw_ia3')) return { kind: 'ia3', span };
    if (token(c, 'Kw_activation')) {
      const value = this.word(token(c, 'Name'));
      return value && { kind: 'activation', value, span };
    }
    const unknown = node(c, 'unknownSetting');
    if (unknown) return this.unknown(unknown, 'adapter setting', adapterSettingKeywords);
    const call = node(c, 'call');
    const value = call && this.call(call);
    return value && { kind: 'init', value, span };
  }

  private placeStatement(n: CstNode): A.PlaceStatement | undefined {
    const c = n.children;
    const adapter = this.word(token(c, 'Identifier'));
    const sites = nodes(c, 'siteName').flatMap((s) => {
      const w = this.word(token(s.children, 'Name'));
      return w ? [w] : [];
    });
    const clause = node(c, 'layerClause');
    const layers = clause && this.layerClause(clause);
    const argsNode = node(c, 'arguments');
    const args = argsNode ? this.arguments(argsNode) : undefined;
    const span = this.nodeSpan(n);
    if (!adapter || sites.length === 0 || !layers || !span || (argsNode && !args)) return undefined;
    return { kind: 'place', adapter, args, preposition: token(c, 'Kw_on') ? 'on' : 'after', sites, layers, span };
  }

  private layerClause(n: CstNode): A.LayerClause | undefined {
    const c = n.children;
    const setNode = node(c, 'layerSet');
    const set = setNode && this.layerSet(setNode);
    const span = this.nodeSpan(n);
    if (!set || !span) return undefined;
    return { keyword: token(c, 'Kw_layer') ? 'layer' : 'layers', set, span };
  }

  private layerSet(n: CstNode): A.LayerSet | undefined {
    const c = n.children;
    const span = this.nodeSpan(n);
    if (!span) return undefined;
    const list = node(c, 'layerList');
    const items = list ? this.layerList(list) : undefined;
    if (token(c, 'Kw_all')) {
      if (list && !items) return undefined;
      return { kind: 'all', except: items ?? [], span };
    }
    return items && items.length > 0 ? { kind: 'list', items, span } : undefined;
  }

  private layerList(n: CstNode): A.LayerItem[] | undefined {
    const items = nodes(n.children, 'layerItem').map((i) => this.layerItem(i));
    return items.every((i): i is A.LayerItem => i !== undefined) ? items : undefined;
  }

  private layerItem(n: CstNode): A.LayerItem | undefined {
    const ints = tokens(n.children, 'IntegerLiteral');
    const start = this.number(ints[0]);
    const span = this.nodeSpan(n);
    if (!start || !span) return undefined;
    const hasRange = token(n.children, 'DotDot') !== undefined;
    const end = this.number(ints[1]);
    if (hasRange && !end) return undefined;
    return { start, end, span };
  }

  private trainBlock(n: CstNode): A.TrainBlock | undefined {
    const span = this.nodeSpan(n);
    if (!span) return undefined;
    const settings = nodes(n.children, 'trainSetting').flatMap((s) => {
      const built = this.trainSetting(s);
      return built ? [built] : [];
    });
    return { kind: 'train', settings, span };
  }

  private trainSetting(n: CstNode): A.TrainSetting | undefined {
    const c = n.children;
    const span = this.nodeSpan(n);
    if (!span) return undefined;
    if (token(c, 'Kw_trainable')) {
      const items = nodes(c, 'trainableItem').map((i) => this.trainableItem(i));
      if (items.length === 0 || !items.every((i): i is A.TrainableItem => i !== undefined)) return undefined;
      return { kind: 'trainable', items, span };
    }
    const unknown = node(c, 'unknownSetting');
    if (unknown) return this.unknown(unknown, 'train setting', trainSettingKeywords);
    if (token(c, 'Kw_loss')) {
      const value = this.word(token(c, 'Name'));
      return value && { kind: 'loss', value, span };
    }
    const callNode = node(c, 'call');
    const value = callNode && this.call(callNode);
    if (!value) return undefined;
    if (token(c, 'Kw_head')) return { kind: 'head', value, span };
    if (token(c, 'Kw_optimizer')) return { kind: 'optimizer', value, span };
    if (token(c, 'Kw_schedule')) return { kind: 'schedule', value, span };
    return undefined;
  }

  private trainableItem(n: CstNode): A.TrainableItem | undefined {
    const c = n.children;
    const nameToken = token(c, 'Kw_all') ?? token(c, 'Kw_head') ?? token(c, 'Kw_layernorm') ?? token(c, 'Identifier');
    const name = this.word(nameToken);
    const span = this.nodeSpan(n);
    if (!name || !span) return undefined;
    const clauseNode = node(c, 'layerClause');
    const layers = clauseNode ? this.layerClause(clauseNode) : undefined;
    if (clauseNode && !layers) return undefined;
    return { name, layers, span };
  }

  private call(n: CstNode): A.Call | undefined {
    const c = n.children;
    const name = this.word(token(c, 'Name'));
    const span = this.nodeSpan(n);
    const argsNode = node(c, 'arguments');
    const args = argsNode ? this.arguments(argsNode) : undefined;
    if (!name || !span || (argsNode && !args)) return undefined;
    return { name, args, span };
  }

  private arguments(n: CstNode): A.Argument[] | undefined {
    if (!token(n.children, 'RParen')) return undefined;
    const args = nodes(n.children, 'argument').map((a) => this.argument(a));
    return args.every((a): a is A.Argument => a !== undefined) ? args : undefined;
  }

  private argument(n: CstNode): A.Argument | undefined {
    const name = this.word(token(n.children, 'Name'));
    const valueNode = node(n.children, 'value');
    const value = valueNode && this.value(valueNode);
    const span = this.nodeSpan(n);
    return name && value && span ? { name, value, span } : undefined;
  }

  private value(n: CstNode): A.Value | undefined {
    const c = n.children;
    const span = this.nodeSpan(n);
    if (!span) return undefined;
    const num = token(c, 'NumberLiteral') ?? token(c, 'IntegerLiteral') ?? token(c, 'FloatLiteral');
    if (num) return this.number(num, token(c, 'Percent'));
    const str = token(c, 'StringLiteral');
    if (str) return this.string(str);
    const inner = nodes(c, 'value');
    if (token(c, 'LParen')) {
      if (!token(c, 'RParen')) return undefined;
      const items = inner.map((v) => this.value(v));
      return items.every((v): v is A.Value => v !== undefined) ? { kind: 'tuple', items, span } : undefined;
    }
    return this.word(token(c, 'Name'));
  }
}
