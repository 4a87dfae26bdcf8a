// Checks a request's fields against the seed's tables: presence, JSON type, range, enumeration,
// format. Every failure is 1001 naming the field, in words a developer can act on.
import { badParam } from '../../main/common/errors';

export { normaliseSerial } from '../../main/core/platform/serial';

interface FieldBase {
  required?: boolean;
  /** Extra check on a well-typed value; answers what is wrong, or undefined. */
  check?: (value: never) => string | undefined;
}

export interface StringField extends FieldBase {
  kind: 'string';
  maxLength?: number;
  pattern?: RegExp;
  /** What `pattern` means, for the message. */
  patternHint?: string;
  oneOf?: readonly string[];
  check?: (value: string) => string | undefined;
}

export interface IntegerField extends FieldBase {
  kind: 'integer';
  min?: number;
  max?: number;
  oneOf?: readonly number[];
  check?: (value: number) => string | undefined;
}

export type FieldSpec = StringField | IntegerField;
export type Schema = Readonly<Record<string, FieldSpec>>;

type ValueOf<F> = F extends { kind: 'integer' } ? number : string;
/** The checked fields: required ones present, optional ones possibly undefined. */
export type Checked<S extends Schema> = {
  [K in keyof S]: S[K] extends { required: true } ? ValueOf<S[K]> : ValueOf<S[K]> | undefined;
};

/**
 * Reads `schema`'s fields from `body`. Null, absent and '' count as absent — the same rule the
 * canonical string follows, so what is checked is exactly what was signed. Fields not in the
 * schema are left alone (the signature still covers them).
 */
export function checkFields<S extends Schema>(
  body: Record<string, unknown>,
  schema: S,
): Checked<S> {
  const out: Record<string, string | number | undefined> = {};
  for (const [name, spec] of Object.entries(schema)) {
    const raw = body[name];
    if (raw === undefined || raw === null || raw === '') {
      if (spec.required) throw badParam(`field ${name} is required`);
      out[name] = undefined;
      continue;
    }
    out[name] =
      spec.kind === 'string' ? checkString(name, raw, spec) : checkInteger(name, raw, spec);
  }
  return out as Checked<S>;
}

function checkString(name: string, raw: unknown, spec: StringField): string {
  if (typeof raw !== 'string') throw badParam(`field ${name} must be a string`);
  if (spec.oneOf && !spec.oneOf.includes(raw))
    throw badParam(`field ${name} must be one of ${spec.oneOf.join(', ')}`);
  if (spec.maxLength !== undefined && raw.length > spec.maxLength)
    throw badParam(`field ${name} is longer than ${spec.maxLength} characters`);
  if (spec.pattern && !spec.pattern.test(raw))
    throw badParam(`field ${name} must be ${spec.patternHint ?? `like ${spec.pattern.source}`}`);
  const problem = spec.check?.(raw);
  if (problem) throw badParam(`field ${name} ${problem}`);
  return raw;
}

function checkInteger(name: string, raw: unknown, spec: IntegerField): number {
  // The tables' Integer is a JSON number; a numeric string is a different signed value.
  if (typeof raw !== 'number' || !Number.isSafeInteger(raw))
    throw badParam(`field ${name} must be an integer (a JSON number)`);
  if (spec.oneOf && !spec.oneOf.includes(raw))
    throw badParam(`field ${name} must be one of ${spec.oneOf.join(', ')}`);
  if ((spec.min !== undefined && raw < spec.min) || (spec.max !== undefined && raw > spec.max))
    throw badParam(`field ${name} must be between ${spec.min ?? '-∞'} and ${spec.max ?? '∞'}`);
  const problem = spec.check?.(raw);
  if (problem) throw badParam(`field ${name} ${problem}`);
  return raw;
}

// --- reusable formats -------------------------------------------------------------------------

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
export const isBase64 = (v: string): string | undefined =>
  BASE64.test(v) ? undefined : 'must be standard Base64';

export const SERIAL_HEX = /^[0-9A-Fa-f]{1,64}$/;

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;
const CST_OFFSET_MS = 8 * 3600 * 1000;

/** `YYYY-MM-DD HH:MM:SS` in China Standard Time (UTC+8) to ms; undefined if it is no real time. */
export function parseCstDateTime(text: string): number | undefined {
  const m = DATE_TIME.exec(text);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const utc = Date.UTC(y, mo - 1, d, h, mi, s);
  const back = new Date(utc);
  // Date.UTC rolls 02-30 over to 03-02: a round trip catches impossible dates.
  if (back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || h > 23 || mi > 59 || s > 59)
    return undefined;
  return utc - CST_OFFSET_MS;
}

export function formatCstDateTime(ms: number): string {
  const d = new Date(ms + CST_OFFSET_MS);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`;
}

export const isCstDateTime = (v: string): string | undefined =>
  parseCstDateTime(v) === undefined ? 'must be a date and time YYYY-MM-DD HH:MM:SS' : undefined;

/** The fields every platform request carries (tables 1, 3, 5). */
export const ENVELOPE_FIELDS = {
  version: {
    kind: 'string',
    required: true,
    pattern: /^[0-9A-Za-z._-]{1,16}$/,
    patternHint: 'a version such as 1.0',
  },
  appId: {
    kind: 'string',
    required: true,
    pattern: /^[0-9A-Za-z._-]{1,64}$/,
    patternHint: 'an app id (letters, digits, . _ -, at most 64)',
  },
  time: {
    kind: 'string',
    required: true,
    pattern: /^\d{1,15}$/,
    patternHint: 'milliseconds since the epoch as a string of digits',
  },
  nonce: { kind: 'integer', required: true, min: 0, max: 99_999_999 },
  sign: { kind: 'string', required: true, maxLength: 2048, check: isBase64 },
} as const satisfies Schema;
