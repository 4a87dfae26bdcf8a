// The canonical string of CONTRACT §1, for the web app's server to sign JSAPI requests. The agent's
// own implementation (main/common/canonical.ts), bundled in: runs in Node and browsers (no Buffer).
import { canonicalStringOf } from '../../../main/common/canonical';
import { ResultCode } from './codes.js';
import { AgentError } from './errors.js';

const encoder = new TextEncoder();

const badParam = (message: string): AgentError => new AgentError(ResultCode.BAD_PARAM, message);

/**
 * The canonical string of a request (CONTRACT §1): top-level fields except `sign`, without
 * null/undefined/'' values, keys sorted by their UTF-8 bytes, `key=value` joined by `&`. Sign its
 * UTF-8 bytes with the app's key (SM2-with-SM3, ID 1234567812345678, DER, Base64) on the server.
 * Throws AgentError 1001 for fields that cannot be signed.
 */
export function canonicalString(fields: Readonly<Record<string, unknown>>): string {
  return canonicalStringOf(fields, badParam);
}

/** The canonical string's UTF-8 bytes: what the app's key signs. */
export function canonicalBytes(fields: Readonly<Record<string, unknown>>): Uint8Array {
  return encoder.encode(canonicalString(fields));
}
