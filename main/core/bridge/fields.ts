import { badParam } from '../../common/errors';

/** Field readers for JSAPI bodies: each failure names the field (code 1001). */
export type Body = Record<string, unknown>;

export function reqString(b: Body, name: string, max = 256): string {
  const v = b[name];
  if (typeof v !== 'string' || v === '')
    throw badParam(`${name} is required and must be a non-empty string`);
  if (v.length > max) throw badParam(`${name} is longer than ${max} characters`);
  return v;
}

export function optString(b: Body, name: string, max = 256): string | undefined {
  const v = b[name];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw badParam(`${name} must be a string`);
  if (v.length > max) throw badParam(`${name} is longer than ${max} characters`);
  return v;
}

/** An integer from a set; the seed types these as Integer, a digit string is accepted too. */
export function optEnumInt<T extends number>(
  b: Body,
  name: string,
  allowed: readonly T[],
): T | undefined {
  const v = b[name];
  if (v === undefined || v === null || v === '') return undefined;
  const n =
    typeof v === 'number' ? v : typeof v === 'string' && /^\d{1,3}$/.test(v) ? Number(v) : NaN;
  if (!allowed.includes(n as T)) throw badParam(`${name} must be one of ${allowed.join(', ')}`);
  return n as T;
}

/**
 * Fields a web page must never send: PINs are typed into the agent, origins come from the browser.
 * Names are compared lowercased without separators, so pinCode, user_pin, new-Pin all count.
 */
function forbiddenKind(key: string): 'pin' | 'origin' | undefined {
  const n = key.toLowerCase().replace(/[^a-z0-9]/g, '');
  if (n === 'origin') return 'origin';
  if (
    n.startsWith('pin') ||
    n.endsWith('pin') ||
    n === 'pwd' ||
    /passw(or)?d|passcode|passphrase/.test(n)
  ) {
    return 'pin';
  }
  return undefined;
}

export function refuseForbiddenFields(b: Body): void {
  for (const k of Object.keys(b)) {
    const kind = forbiddenKind(k);
    if (kind === 'origin') {
      throw badParam(
        'origin must not be sent in the body: the agent uses the Origin the browser sends',
      );
    }
    if (kind === 'pin') {
      throw badParam('a PIN must never be sent by a web page: the signer types it into the agent');
    }
  }
}
