// Signed platform responses (CONTRACT §1, seed 000 §8.2.1 mutual authentication): the platform signs
// the exact body bytes with its SM2 key; the agent verifies them before believing a word.
import { normalisePublicPoint, sm2Sign, sm2Verify } from '../crypto/sm2';
import type { Sm2KeyPair } from '../crypto/sm2';
import { badParam } from '../../common/errors';
import { parseCertificate } from '../pki/certificate';
import { parseSpki, pemToDer } from '../pki/keys';
import { strictBase64 } from './canonical';

export const PLATFORM_SIGN_HEADER = 'X-Platform-Sign';

/** What the agent may be configured with to trust the platform's key. */
export type PlatformTrust = Uint8Array | string;

/** SM2-with-SM3 (default ID, DER) over the body bytes, Base64: the `X-Platform-Sign` value. */
export function signResponseBody(body: Uint8Array, key: Sm2KeyPair): string {
  return sm2Sign(key, body).toString('base64');
}

/**
 * The platform's SM2 public point from any of: the 65-byte point (or the 64-byte x‖y), an SPKI
 * (DER), a certificate (DER), or PEM text of either. 1001 for anything else or a non-SM2 key.
 */
export function platformPublicPoint(trust: PlatformTrust): Buffer {
  // Clients resolve it per response: parsing a certificate each time cost more than the SM2 verify.
  const memoKey = typeof trust === 'string' ? trust : Buffer.from(trust).toString('latin1');
  const memo = trustMemo.get(memoKey);
  if (memo) return Buffer.from(memo);
  const point = resolvePlatformPoint(trust);
  if (trustMemo.size >= 16) trustMemo.delete(trustMemo.keys().next().value!);
  trustMemo.set(memoKey, point);
  return Buffer.from(point);
}

const trustMemo = new Map<string, Buffer>();

function resolvePlatformPoint(trust: PlatformTrust): Buffer {
  const bytes = typeof trust === 'string' ? Buffer.from(trust, 'latin1') : Buffer.from(trust);
  if (bytes.subarray(0, 64).toString('latin1').includes('-----BEGIN')) {
    const text = bytes.toString('latin1');
    const der = text.includes('-----BEGIN CERTIFICATE-----')
      ? pemToDer(text, 'CERTIFICATE')
      : pemToDer(text, 'PUBLIC KEY');
    return resolvePlatformPoint(der);
  }
  if (typeof trust === 'string') throw badParam('platform key text is not PEM');
  if ((bytes.length === 65 && bytes[0] === 0x04) || bytes.length === 64)
    return normalisePublicPoint(bytes);
  let info;
  try {
    info = parseSpki(bytes);
  } catch {
    info = parseCertificate(bytes).publicKey;
  }
  if (info.algorithm !== 'sm2' || !info.sm2Point) throw badParam('the platform key must be SM2');
  return info.sm2Point;
}

/** Whether `signature` (the header value, Base64 DER) is the platform's over `body`. */
export function verifyResponseBody(
  body: Uint8Array,
  signature: string | undefined,
  platformPoint: Uint8Array,
): boolean {
  if (typeof signature !== 'string') return false;
  const der = strictBase64(signature.trim());
  if (!der || der[0] !== 0x30) return false;
  return sm2Verify(platformPoint, body, der);
}
