import { httpStatusOf } from '../../main/common/codes';
import type { ResultCode } from '../../main/common/codes';

/** Every code of CONTRACT §2. */
export const CONTRACT_CODES = Object.keys(httpStatusOf) as ResultCode[];

/**
 * HTTP statuses the bridge may answer for 1001 besides 400 (docs/JSAPI.md): no such interface,
 * wrong method, request timed out, body too large, wrong content type, headers too large.
 */
const EXTRA_1001_STATUSES = [404, 405, 408, 413, 415, 431];

/** Text that must never reach a caller (seed 000 §7.2 g): stacks, paths, module names. */
const LEAK =
  /(\n\s+at |\bat \S+ \(|\/work\b|\/tmp\b|\/home\/|node_modules|\.ts:\d|\.js:\d|TypeError|RangeError|SyntaxError|ReferenceError)/;

export interface EnvelopeCheck {
  ok: boolean;
  problem?: string;
  code?: string;
}

/** Whether `message` leaks internals. */
export function leaks(message: string): boolean {
  return LEAK.test(message);
}

/**
 * Checks one HTTP answer against CONTRACT §2: the body is exactly `{code, message, data}`, the code
 * is a contract code other than 5000, the HTTP status is the one the code maps to, and the message
 * leaks nothing.
 */
export function checkHttpEnvelope(status: number, text: string): EnvelopeCheck {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return { ok: false, problem: `not JSON (HTTP ${status}): ${text.slice(0, 200)}` };
  }
  const shape = checkShape(v, ['code', 'data', 'message']);
  if (shape) return { ok: false, problem: shape };
  const env = v as { code: ResultCode; message: string };
  const want = httpStatusOf[env.code];
  const statusOk = status === want || (env.code === '1001' && EXTRA_1001_STATUSES.includes(status));
  if (!statusOk)
    return { ok: false, code: env.code, problem: `code ${env.code} with HTTP ${status}` };
  return { ok: true, code: env.code };
}

/** Checks one WebSocket answer frame `{id, code, message, data}`. */
export function checkWsAnswer(v: unknown): EnvelopeCheck {
  const shape = checkShape(v, ['code', 'data', 'id', 'message']);
  if (shape) return { ok: false, problem: shape };
  const id = (v as { id: unknown }).id;
  if (id !== null && typeof id !== 'string' && typeof id !== 'number')
    return { ok: false, problem: `id of type ${typeof id}` };
  return { ok: true, code: (v as { code: string }).code };
}

function checkShape(v: unknown, keys: string[]): string | undefined {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return 'the answer is not a JSON object';
  const got = Object.keys(v).sort();
  if (got.join(',') !== keys.join(',')) return `keys ${got.join(',')} instead of ${keys.join(',')}`;
  const e = v as { code: unknown; message: unknown };
  if (typeof e.code !== 'string' || !CONTRACT_CODES.includes(e.code as ResultCode))
    return `code ${String(e.code)} is not a contract code`;
  if (e.code === '5000') return `5000 internal error: ${String(e.message)}`;
  if (typeof e.message !== 'string' || e.message === '') return 'message is not a non-empty string';
  if (leaks(e.message)) return `the message leaks internals: ${e.message}`;
  return undefined;
}
