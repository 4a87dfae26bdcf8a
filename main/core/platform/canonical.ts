// Request signing of the wire contract (CONTRACT §1): the canonical string every signed request is
// reduced to, and signing/verifying it with an app's SM2 or RSA key.
import { AgentError, badParam } from '../../common/errors';
import { ResultCode } from '../../common/codes';
import { canonicalStringOf } from '../../common/canonical';
import { sm2Verify } from '../crypto/sm2';
import { parseSpki, pemToDer, verifyWithSpki } from '../pki/keys';
import type { SpkiInfo } from '../pki/keys';

/**
 * Whoever signs requests for an app. `sign` gets the canonical string's UTF-8 bytes and answers SM2
 * (SM2-with-SM3, default ID, DER) or RSA (PKCS #1 v1.5 / SHA-256) — the key may live on a UKey.
 */
export interface RequestSigner {
  readonly appId: string;
  sign(canonical: Buffer): Promise<Buffer>;
}

/**
 * The canonical string of a request (CONTRACT §1; main/common/canonical.ts, which the browser SDK
 * shares); throws 1001 for fields that cannot be signed.
 */
export function canonicalString(fields: Readonly<Record<string, unknown>>): string {
  return canonicalStringOf(fields, badParam);
}

/** `fields` with its `sign` (Base64) made by `signer` over the canonical string. */
export async function signRequest<T extends Record<string, unknown>>(
  fields: T,
  signer: RequestSigner,
): Promise<T & { sign: string }> {
  const canonical = Buffer.from(canonicalString(fields), 'utf8');
  const signature = await signer.sign(canonical);
  return { ...fields, sign: Buffer.from(signature).toString('base64') };
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Standard Base64 strictly (padding required, no whitespace); undefined if it is not. */
export function strictBase64(text: string): Buffer | undefined {
  return text.length > 0 && BASE64.test(text) ? Buffer.from(text, 'base64') : undefined;
}

/** An app's public key as SPKI DER from DER bytes or PEM text. */
export function spkiFrom(publicKey: Uint8Array | string): Buffer {
  if (typeof publicKey === 'string') return pemToDer(publicKey, 'PUBLIC KEY');
  const head = Buffer.from(publicKey).subarray(0, 64).toString('latin1');
  if (head.includes('-----BEGIN')) return pemToDer(Buffer.from(publicKey), 'PUBLIC KEY');
  return Buffer.from(publicKey);
}

/**
 * Whether `sign` (Base64) is the app's signature over the canonical string of `fields`. The key is
 * an SPKI (DER or PEM): SM2 keys verify SM2-with-SM3 (DER signature only), RSA keys PKCS #1 v1.5
 * with SHA-256. False for a bad or malformed signature; 1001 for an unusable key or unsignable
 * fields.
 */
// Callers' keys repeat on every request: decode each SPKI once (the DER is the key, so the cache
// can never answer for another key). Bounded: the oldest entry goes first.
const SPKI_CACHE_MAX = 256;
const spkiCache = new Map<string, SpkiInfo>();

function cachedSpki(spki: Buffer): SpkiInfo {
  const key = spki.toString('base64');
  let info = spkiCache.get(key);
  if (!info) {
    info = parseSpki(spki);
    if (spkiCache.size >= SPKI_CACHE_MAX) spkiCache.delete(spkiCache.keys().next().value!);
    spkiCache.set(key, info);
  }
  return info;
}

export function verifyRequestSign(
  fields: Record<string, unknown>,
  sign: string,
  publicKey: Uint8Array | string,
): boolean {
  const spki = spkiFrom(publicKey);
  const info = cachedSpki(spki);
  const message = Buffer.from(canonicalString(fields), 'utf8');
  const signature = strictBase64(sign);
  if (!signature) return false;
  if (info.algorithm === 'sm2') {
    // The contract fixes DER; a raw r‖s would also pass sm2Verify, so refuse it here.
    if (signature[0] !== 0x30) return false;
    return sm2Verify(info.sm2Point!, message, signature);
  }
  if (info.algorithm === 'rsa') return verifyWithSpki(spki, message, signature, 'sha256');
  throw badParam('app keys must be SM2 or RSA');
}

/** Default replay window of CONTRACT §1. */
export const REPLAY_WINDOW_MS = 300_000;
export const NONCE_LIMIT = 100_000_000;

/** Remembers (appId, nonce) pairs for the replay window. */
export interface NonceStore {
  /**
   * Records the pair until `expiresAt` (ms). False when it is already recorded and not yet
   * expired at `now`: the check and the insert are one atomic step.
   */
  claim(appId: string, nonce: number, expiresAt: number, now: number): boolean;
}

export interface ReplayFields {
  appId: string;
  time: unknown;
  nonce: unknown;
}

/** `time` as ms since the epoch; 1001 if it is not a decimal string. */
export function parseRequestTime(time: unknown): number {
  if (typeof time !== 'string' || !/^\d{1,15}$/.test(time))
    throw badParam('field time must be milliseconds since the epoch, as a string of digits');
  return Number(time);
}

/** `nonce` as an integer in [0, 100000000); 1001 otherwise. */
export function parseNonce(nonce: unknown): number {
  if (typeof nonce !== 'number' || !Number.isInteger(nonce) || nonce < 0 || nonce >= NONCE_LIMIT)
    throw badParam('field nonce must be an integer in [0, 100000000)');
  return nonce;
}

/**
 * The replay checks of CONTRACT §1: `time` within the window of `now` (1003), `nonce` well formed
 * (1001) and unseen for this app within the window (1004). Run it after the signature verified, so
 * a forged request cannot use up a genuine caller's nonce.
 */
export function checkReplay(
  fields: ReplayFields,
  store: NonceStore,
  now: number,
  windowMs: number = REPLAY_WINDOW_MS,
): void {
  const time = parseRequestTime(fields.time);
  const nonce = parseNonce(fields.nonce);
  if (Math.abs(now - time) > windowMs)
    throw new AgentError(
      ResultCode.TIME_WINDOW,
      `time is more than ${Math.round(windowMs / 1000)} s away from the platform clock`,
    );
  // Keep the pair while either the request's time or our clock can still accept it.
  const expiresAt = Math.max(now, time) + windowMs;
  if (!store.claim(fields.appId, nonce, expiresAt, now))
    throw new AgentError(ResultCode.NONCE_REUSED, 'nonce was already used by this app');
}
