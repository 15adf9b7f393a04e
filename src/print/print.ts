/**
 * The canonical printer behind `adapterc fmt`: two-space indentation, one statement or setting per
 * line, one blank line between top-level statements except within runs of imports, placements and
 * top-level settings, numbers as written, comments kept where they were.
 * Printing and parsing again gives the same syntax tree (up to positions) and so the same plan.
 */
import type * as A from '../parse/ast.js';

export function printSpec(spec: A.SpecFile): string {
  return new Printer(spec).print();
}

function printValue(v: A.Value): string {
  switch (v.kind) {
    case 'number':
      return v.percent ? `${v.text}%` : v.text;
    case 'string':
      return `"${v.value}"`;
    case 'word':
      return v.text;
    case 'tuple':
      return `(${v.items.map(printValue).join(', ')})`;
  }
}

function printArgs(args: readonly A.Argument[] | undefined): string {
  return args && args.length > 0 ? `(${args.map((a) => `${a.name.text} ${printValue(a.value)}`).join(', ')})` : '';
}

function printCall(c: A.Call): string {
  return `${c.name.text}${printArgs(c.args)}`;
}

function printLayerItem(i: A.LayerItem): string {
  return i.end ? `${i.start.text}..${i.end.text}` : i.start.text;
}

export function printLayerClause(c: A.LayerClause): string {
  const s = c.set;
  if (s.kind === 'all') return `in layers all${s.except.length > 0 ? ` except ${s.except.map(printLayerItem).join(', ')}` : ''}`;
  const single = s.items.length === 1 && s.items[0]!.end === undefined;
  return `in ${single ? 'layer' : 'layers'} ${s.items.map(printLayerItem).join(', ')}`;
}

function printAdapterSetting(s: A.AdapterSetting): string {
  switch (s.kind) {
    case 'size':
    case 'reduction':
    case 'hidden_layers':
      return `${s.kind} ${s.value.text}`;
    case 'activation':
      return `activation ${s.value.text}`;
    case 'init':
      return `init ${printCall(s.value)}`;
    case 'layernorm':
      return 'layernorm';
    case 'parallel':
    case 'lora':
      return `${s.kind}${printArgs(s.args)}`;
    case 'ia3':
      return 'ia3';
  }
}

function printTrainSetting(s: A.TrainSetting): string {
  switch (s.kind) {
    case 'trainable':
      return `trainable ${s.items.map((i) => (i.layers ? `${i.name.text} ${printLayerClause(i.layers)}` : i.name.text)).join(', ')}`;
    case 'loss':
      return `loss ${s.value.text}`;
    case 'head':
    case 'optimizer':
    case 'schedule':
      return `${s.kind} ${printCall(s.value)}`;
  }
}

/** Statements that sit together without blank lines between them. */
function group(s: A.Statement): string {
  switch (s.kind) {
    case 'import':
    case 'use':
      return 'import';
    case 'target':
    case 'seed':
      return 'setting';
    case 'place':
      return 'place';
    default:
      return `block ${s.span.start.offset}`;
  }
}

class Printer {
  private readonly out: string[] = [];
  private next = 0;

  constructor(private readonly spec: A.SpecFile) {}

  print(): string {
    let previous: A.Statement | undefined;
    for (const s of this.spec.statements) {
      if (previous && group(previous) !== group(s)) this.out.push('');
      this.leadingComments(s.span.start.offset, '');
      this.statement(s);
      previous = s;
    }
    if (previous && this.next < this.spec.comments.length) this.out.push('');
    this.leadingComments(Infinity, '');
    return this.out.join('\n').replace(/\n{3,}/g, '\n\n').replace(/^\n+/, '') + '\n';
  }

  /** Comments before `offset`, on their own lines; a blank line after one stays a blank line. */
  private leadingComments(offset: number, indent: string): void {
    const comments = this.spec.comments;
    while (this.next < comments.length && comments[this.next]!.span.start.offset < offset) {
      const c = comments[this.next]!;
      this.out.push(`${indent}${c.text}`);
      this.next++;
      const followingOffset = Math.min(comments[this.next]?.span.start.offset ?? Infinity, offset);
      const gap = this.spec.text.slice(c.span.end.offset, Number.isFinite(followingOffset) ? followingOffset : undefined);
      if (/\n[ \t\r]*\n/.test(gap) && Number.isFinite(followingOffset)) this.out.push('');
    }
  }

  /** Appends `line`, plus a comment that sat at the end of the same source line. */
  private line(text: string, endOffset: number, endLine: number): void {
    const c = this.spec.comments[this.next];
    if (c && c.span.start.line === endLine && c.span.start.offset >= endOffset) {
      this.out.push(`${text}  ${c.text}`);
      this.next++;
    } else {
      this.out.push(text);
    }
  }

  private statement(s: A.Statement): void {
    const end = s.span.end;
    switch (s.kind) {
      case 'import':
      case 'use':
        return this.line(`${s.kind} "${s.path.value}"`, end.offset, end.line);
      case 'target':
        return this.line(`target ${s.value.text}`, end.offset, end.line);
      case 'seed':
        return this.line(`seed ${s.value.text}`, end.offset, end.line);
      case 'place':
        return this.line(`place ${s.adapter.text}${printArgs(s.args)} ${s.preposition} ${s.sites.map((w) => w.text).join(', ')} ${printLayerClause(s.layers)}`, end.offset, end.line);
      case 'adapter':
        return this.block(`${s.override ? 'override ' : ''}adapter ${s.name.text} {`, s.settings, printAdapterSetting, s.span);
      case 'train':
        return this.block('train {', s.settings, printTrainSetting, s.span);
    }
  }

  private block<S extends A.Located>(open: string, settings: readonly S[], print: (s: S) => string, span: A.Located['span']): void {
    this.line(open, span.start.offset, span.start.line);
    for (const s of settings) {
      this.leadingComments(s.span.start.offset, '  ');
      this.line(`  ${print(s)}`, s.span.end.offset, s.span.end.line);
    }
    this.leadingComments(span.end.offset - 1, '  ');
    this.line('}', span.end.offset, span.end.line);
  }
}
