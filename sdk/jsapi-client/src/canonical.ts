// The canonical string of CONTRACT §1, for the web app's server to sign JSAPI requests. Same rules
// and errors as main/core/platform/canonical.ts; runs in Node and browsers (TextEncoder, no Buffer).
import { ResultCode } from './codes.js';
import { AgentError } from './errors.js';

const encoder = new TextEncoder();

// UTF-8 byte order, which differs from JS's UTF-16 order for characters above U+FFFF.
function compareUtf8(a: string, b: string): number {
  const x = encoder.encode(a);
  const y = encoder.encode(b);
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length;
}

const badParam = (message: string): AgentError => new AgentError(ResultCode.BAD_PARAM, message);

function canonicalValue(key: string, value: unknown): string {
  switch (typeof value) {
    case 'string':
      return value;
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      return value.toString(10);
    case 'number': {
      if (!Number.isFinite(value)) throw badParam(`field ${key} must be a finite number`);
      const text = String(value === 0 ? 0 : value); // -0 prints as 0
      // Both sides must produce the same bytes: no exponent form, ever.
      if (/e/i.test(text)) throw badParam(`field ${key} is too large or too small to sign`);
      return text;
    }
    case 'object':
      throw badParam(`field ${key} must be a scalar: nested objects and arrays cannot be signed`);
    default:
      throw badParam(`field ${key} has a type that cannot be signed`);
  }
}

/**
 * The canonical string of a request (CONTRACT §1): top-level fields except `sign`, without
 * null/undefined/'' values, keys sorted by their UTF-8 bytes, `key=value` joined by `&`. Sign its
 * UTF-8 bytes with the app's key (SM2-with-SM3, ID 1234567812345678, DER, Base64) on the server.
 * Throws AgentError 1001 for fields that cannot be signed.
 */
export function canonicalString(fields: Readonly<Record<string, unknown>>): string {
  const parts: [string, string][] = [];
  for (const [key, value] of Object.entries(fields)) {
    if (key === 'sign' || value === null || value === undefined || value === '') continue;
    // A key holding `=` or `&` would make two different requests share one canonical string.
    if (key === '' || /[=&]/.test(key)) throw badParam(`field name "${key}" cannot be signed`);
    parts.push([key, canonicalValue(key, value)]);
  }
  parts.sort((a, b) => compareUtf8(a[0], b[0]));
  return parts.map(([k, v]) => `${k}=${v}`).join('&');
}

/** The canonical string's UTF-8 bytes: what the app's key signs. */
export function canonicalBytes(fields: Readonly<Record<string, unknown>>): Uint8Array {
  return encoder.encode(canonicalString(fields));
}
