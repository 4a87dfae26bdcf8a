// What of a request goes into the audit log's raw entry: everything the caller sent, for evidence
// (docHash and the request's own sign included), except secrets — PINs, passwords, private keys —
// and with big values cut down to a prefix plus the SM3 of the whole, so the entry stays small but
// still identifies the original.
import { sm3HexOf } from '../crypto/sm3';
import type { JsonValue } from './canonical-json';

export const REDACTED = '[redacted]';
const MAX_STRING = 2048;
const KEEP_PREFIX = 256;
const MAX_ITEMS = 100;
const MAX_KEYS = 100;
const MAX_DEPTH = 8;

// Keys compared lowercased with separators removed: userPin, so_pin, new-pin, PIN …
const SECRET_KEYS = new Set([
  'pin',
  'userpin',
  'sopin',
  'newpin',
  'oldpin',
  'pincode',
  'password',
  'passwd',
  'pwd',
  'passphrase',
  'secret',
  'clientsecret',
  'privatekey',
  'prikey',
  'key',
  'authorization',
  'cookie',
]);

const isSecretKey = (k: string): boolean => {
  const n = k.toLowerCase().replace(/[^a-z0-9]/g, '');
  return SECRET_KEYS.has(n) || n.endsWith('pin') || n.includes('password') || n.includes('secret');
};

const PRIVATE_PEM = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/;

function truncate(s: string): string {
  if (s.length <= MAX_STRING) return s;
  return `${s.slice(0, KEEP_PREFIX)}…[truncated: ${s.length} characters, sm3 ${sm3HexOf(s)}]`;
}

/** A JSON-safe, secret-free, bounded copy of `value` for the audit log. */
export function redactForAudit(value: unknown, depth = 0): JsonValue {
  if (value === null || value === undefined) return null;
  switch (typeof value) {
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? value : String(value);
    case 'bigint':
      return value.toString();
    case 'string':
      return PRIVATE_PEM.test(value) ? REDACTED : truncate(value);
    case 'object':
      break;
    default:
      return `[${typeof value}]`;
  }
  if (Buffer.isBuffer(value) || value instanceof Uint8Array)
    return truncate(Buffer.from(value).toString('base64'));
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (depth >= MAX_DEPTH) return '[too deep]';
  if (Array.isArray(value)) {
    const items = value.slice(0, MAX_ITEMS).map((v) => redactForAudit(v, depth + 1));
    if (value.length > MAX_ITEMS) items.push(`[${value.length - MAX_ITEMS} more items]`);
    return items;
  }
  const out: { [k: string]: JsonValue } = {};
  const keys = Object.keys(value as object);
  for (const k of keys.slice(0, MAX_KEYS)) {
    const v = (value as Record<string, unknown>)[k];
    if (v === undefined) continue;
    out[truncate(k)] = isSecretKey(k) ? REDACTED : redactForAudit(v, depth + 1);
  }
  if (keys.length > MAX_KEYS) out['…'] = `[${keys.length - MAX_KEYS} more keys]`;
  return out;
}
