/**
 * Python literals as AdapterHub's config strings hold them (`double_seq_bn[reduction_factor=8,
 * non_linearity='gelu', leave_out=[0, 1]]`: `adapters` rewrites `key=` to `'key':` and runs
 * `ast.literal_eval` on the braces). Numbers, quoted strings, True / False / None, lists, tuples and
 * dicts; nothing else, as literal_eval allows nothing else.
 */

export type PythonValue = number | string | boolean | null | PythonValue[] | { [key: string]: PythonValue };

export class LiteralError extends Error {}

/** Parses `key=value, ...` (the text between a config string's brackets) into an object, keys in order. */
export function parseKeywordArguments(text: string): Record<string, PythonValue> {
  const p = new Parser(text);
  const out: Record<string, PythonValue> = {};
  p.space();
  while (!p.done()) {
    const key = p.name();
    p.expect('=');
    out[key] = p.value();
    p.space();
    if (p.done()) break;
    p.expect(',');
    p.space();
  }
  return out;
}

class Parser {
  private at = 0;
  constructor(private readonly text: string) {}

  done(): boolean {
    return this.at >= this.text.length;
  }

  space(): void {
    while (/\s/.test(this.text[this.at] ?? '')) this.at++;
  }

  expect(c: string): void {
    this.space();
    if (this.text[this.at] !== c) throw new LiteralError(`expected '${c}' at column ${this.at + 1}${this.done() ? ' (the text ended)' : `, found '${this.text[this.at]}'`}`);
    this.at++;
  }

  name(): string {
    this.space();
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.text.slice(this.at));
    if (!m) throw new LiteralError(`expected an option name at column ${this.at + 1}`);
    this.at += m[0].length;
    return m[0];
  }

  value(): PythonValue {
    this.space();
    const rest = this.text.slice(this.at);
    const c = rest[0];
    if (c === "'" || c === '"') return this.string(c);
    if (c === '[' || c === '(') return this.sequence(c === '[' ? ']' : ')');
    if (c === '{') return this.dict();
    const number = /^[-+]?(\d+\.?\d*(e[-+]?\d+)?|\.\d+(e[-+]?\d+)?)/i.exec(rest);
    if (number) {
      this.at += number[0].length;
      return Number(number[0]);
    }
    const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(rest)?.[0];
    const constants: Record<string, PythonValue> = { True: true, False: false, None: null };
    if (word !== undefined && word in constants) {
      this.at += word.length;
      return constants[word]!;
    }
    throw new LiteralError(word !== undefined ? `'${word}' at column ${this.at + 1} is not a Python literal (quote a string: '${word}')` : `expected a value at column ${this.at + 1}`);
  }

  private string(quote: string): string {
    const end = this.text.indexOf(quote, this.at + 1);
    if (end < 0) throw new LiteralError(`the string at column ${this.at + 1} is not closed`);
    const s = this.text.slice(this.at + 1, end);
    if (s.includes('\\')) throw new LiteralError(`the string at column ${this.at + 1} has an escape, which adapterc does not read`);
    this.at = end + 1;
    return s;
  }

  private sequence(close: string): PythonValue[] {
    this.at++;
    const items: PythonValue[] = [];
    for (;;) {
      this.space();
      if (this.text[this.at] === close) break;
      items.push(this.value());
      this.space();
      if (this.text[this.at] === close) break;
      this.expect(',');
    }
    this.at++;
    return items;
  }

  private dict(): { [key: string]: PythonValue } {
    this.at++;
    const out: { [key: string]: PythonValue } = {};
    for (;;) {
      this.space();
      if (this.text[this.at] === '}') break;
      const key = this.value();
      if (typeof key !== 'string' && typeof key !== 'number') throw new LiteralError(`a dict key at column ${this.at + 1} is neither a string nor a number`);
      this.expect(':');
      out[String(key)] = this.value();
      this.space();
      if (this.text[this.at] === '}') break;
      this.expect(',');
    }
    this.at++;
    return out;
  }
}
