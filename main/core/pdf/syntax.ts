// A small reader of PDF object syntax (ISO 32000-1 §7.3): enough to read a signature dictionary
// straight from the file's bytes, so a signed file is read without trusting its xref or structure.

export type PdfValue =
  | { kind: 'dict'; entries: Map<string, PdfValue> }
  | { kind: 'array'; items: PdfValue[] }
  | { kind: 'name'; value: string }
  | { kind: 'number'; value: number }
  /** start/end: offsets of the string's delimiters in the file ('(' or '<' … just past ')' or '>'). */
  | { kind: 'string'; bytes: Buffer; hex: boolean; start: number; end: number }
  | { kind: 'ref'; num: number; gen: number }
  | { kind: 'keyword'; value: string };

class SyntaxFault extends Error {}

const WHITESPACE = new Set([0x00, 0x09, 0x0a, 0x0c, 0x0d, 0x20]);
const DELIMITERS = new Set([0x28, 0x29, 0x3c, 0x3e, 0x5b, 0x5d, 0x7b, 0x7d, 0x2f, 0x25]);
// Junk must not recurse without bound.
const MAX_DEPTH = 32;

/** Parses one object starting at `at`; undefined when the bytes there are not PDF syntax. */
export function parsePdfObject(bytes: Buffer, at: number): PdfValue | undefined {
  try {
    return new Reader(bytes, at).value(0);
  } catch (e) {
    if (e instanceof SyntaxFault) return undefined;
    throw e;
  }
}

class Reader {
  constructor(
    private readonly b: Buffer,
    private pos: number,
  ) {}

  value(depth: number): PdfValue {
    if (depth > MAX_DEPTH) throw new SyntaxFault();
    this.skipSpace();
    const c = this.b[this.pos];
    if (c === undefined) throw new SyntaxFault();
    if (c === 0x3c && this.b[this.pos + 1] === 0x3c) return this.dict(depth);
    if (c === 0x3c) return this.hexString();
    if (c === 0x28) return this.literalString();
    if (c === 0x5b) return this.array(depth);
    if (c === 0x2f) return { kind: 'name', value: this.name() };
    if ((c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2d || c === 0x2e)
      return this.numberOrRef();
    const word = this.regular();
    if (word === '') throw new SyntaxFault();
    return { kind: 'keyword', value: word };
  }

  private dict(depth: number): PdfValue {
    this.pos += 2;
    const entries = new Map<string, PdfValue>();
    for (;;) {
      this.skipSpace();
      if (this.b[this.pos] === 0x3e && this.b[this.pos + 1] === 0x3e) {
        this.pos += 2;
        return { kind: 'dict', entries };
      }
      if (this.b[this.pos] !== 0x2f) throw new SyntaxFault();
      const key = this.name();
      entries.set(key, this.value(depth + 1));
    }
  }

  private array(depth: number): PdfValue {
    this.pos++;
    const items: PdfValue[] = [];
    for (;;) {
      this.skipSpace();
      if (this.b[this.pos] === 0x5d) {
        this.pos++;
        return { kind: 'array', items };
      }
      items.push(this.value(depth + 1));
    }
  }

  private name(): string {
    this.pos++; // '/'
    const raw = this.regular();
    return raw.replace(/#([0-9a-fA-F]{2})/g, (_, h: string) =>
      String.fromCharCode(parseInt(h, 16)),
    );
  }

  private numberOrRef(): PdfValue {
    const first = this.regular();
    const value = Number(first);
    if (!Number.isFinite(value)) throw new SyntaxFault();
    // "n g R" is a reference; look ahead without consuming when it is not.
    if (/^\d+$/.test(first)) {
      const save = this.pos;
      this.skipSpace();
      const gen = this.regular();
      this.skipSpace();
      if (/^\d+$/.test(gen) && this.regular() === 'R')
        return { kind: 'ref', num: value, gen: Number(gen) };
      this.pos = save;
    }
    return { kind: 'number', value };
  }

  private hexString(): PdfValue {
    const start = this.pos;
    const close = this.b.indexOf(0x3e, start + 1);
    if (close < 0) throw new SyntaxFault();
    let digits = this.b
      .subarray(start + 1, close)
      .toString('latin1')
      .replace(/[\0\t\n\f\r ]/g, '');
    if (!/^[0-9a-fA-F]*$/.test(digits)) throw new SyntaxFault();
    if (digits.length % 2 === 1) digits += '0'; // §7.3.4.3: a missing final digit is 0
    this.pos = close + 1;
    return { kind: 'string', bytes: Buffer.from(digits, 'hex'), hex: true, start, end: this.pos };
  }

  private literalString(): PdfValue {
    const start = this.pos;
    const out: number[] = [];
    let nesting = 1;
    this.pos++;
    for (;;) {
      const c = this.b[this.pos++];
      if (c === undefined) throw new SyntaxFault();
      if (c === 0x28) nesting++;
      else if (c === 0x29 && --nesting === 0) break;
      if (c !== 0x5c) {
        out.push(c);
        continue;
      }
      const e = this.b[this.pos++];
      if (e === undefined) throw new SyntaxFault();
      const simple: Record<number, number> = { 0x6e: 10, 0x72: 13, 0x74: 9, 0x62: 8, 0x66: 12 };
      if (simple[e] !== undefined) out.push(simple[e]);
      else if (e >= 0x30 && e <= 0x37) {
        let v = e - 0x30;
        for (let i = 0; i < 2; i++) {
          const d = this.b[this.pos];
          if (d === undefined || d < 0x30 || d > 0x37) break;
          v = v * 8 + d - 0x30;
          this.pos++;
        }
        out.push(v & 0xff);
      } else if (e === 0x0d) {
        if (this.b[this.pos] === 0x0a) this.pos++; // line continuation
      } else if (e !== 0x0a) out.push(e);
    }
    return { kind: 'string', bytes: Buffer.from(out), hex: false, start, end: this.pos };
  }

  /** A run of regular characters (not whitespace, not a delimiter). */
  private regular(): string {
    const start = this.pos;
    while (this.pos < this.b.length) {
      const c = this.b[this.pos]!;
      if (WHITESPACE.has(c) || DELIMITERS.has(c)) break;
      this.pos++;
    }
    return this.b.subarray(start, this.pos).toString('latin1');
  }

  private skipSpace(): void {
    while (this.pos < this.b.length) {
      const c = this.b[this.pos]!;
      if (c === 0x25) {
        while (this.pos < this.b.length && this.b[this.pos] !== 0x0a && this.b[this.pos] !== 0x0d)
          this.pos++;
      } else if (WHITESPACE.has(c)) this.pos++;
      else break;
    }
  }
}

/** A PDF text string (§7.9.2.2): UTF-16BE or UTF-8 with a BOM, else PDFDocEncoding (~Latin-1). */
export function decodePdfText(bytes: Buffer): string {
  if (bytes[0] === 0xfe && bytes[1] === 0xff) {
    const swapped = Buffer.from(bytes.subarray(2, 2 + ((bytes.length - 2) & ~1)));
    return swapped.swap16().toString('utf16le');
  }
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf)
    return bytes.subarray(3).toString('utf8');
  return bytes.toString('latin1');
}

/** A PDF date (§7.9.4) `D:YYYYMMDDHHmmSSOHH'mm'`; undefined if it is not one. */
export function parsePdfDate(text: string): Date | undefined {
  const m =
    /^(?:D:)?(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(?:([Zz+-])(?:(\d{2})'?(?:(\d{2})'?)?)?)?$/.exec(
      text.trim(),
    );
  if (!m) return undefined;
  const n = (s: string | undefined, d: number): number => (s === undefined ? d : Number(s));
  let ms = Date.UTC(n(m[1], 0), n(m[2], 1) - 1, n(m[3], 1), n(m[4], 0), n(m[5], 0), n(m[6], 0));
  if (m[7] === '+' || m[7] === '-') {
    const offset = (n(m[8], 0) * 60 + n(m[9], 0)) * 60_000;
    ms += m[7] === '+' ? -offset : offset;
  }
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? undefined : d;
}
