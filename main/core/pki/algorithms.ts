// AlgorithmIdentifiers for what we sign, and the reverse mapping for what we verify.
import { createHash } from 'node:crypto';
import { AlgorithmIdentifier } from '@peculiar/asn1-x509';
import { badParam } from '../../common/errors';
import { sm3 } from '../crypto/sm3';
import type { KeyAlgorithm, VerifyHashName } from './keys';
import { digestOids, ecdsaOids, rsaOids, sm2Oids } from './oids';
import type { HashName } from './signer';

/** The digest of `data`; SM3 through the agent's GM backend (node:crypto may lack it in Electron). */
export function digest(hash: VerifyHashName, data: Uint8Array): Buffer {
  return hash === 'sm3' ? sm3(data) : createHash(hash).update(data).digest();
}

export const digestLength: Readonly<Record<VerifyHashName, number>> = {
  sm3: 32,
  sha256: 32,
  sha384: 48,
  sha512: 64,
  sha1: 20,
  md5: 16,
};

/**
 * Digest AlgorithmIdentifier. SM3, SHA-1 and SHA-2 are written with parameters absent (GmSSL, the
 * reference GB/T 35275 implementation, does so for SM3; RFC 3370/5754 for the others); MD5 with
 * NULL (RFC 3370 §2.2). Verifiers accept either.
 */
export function digestAlgorithm(hash: HashName): AlgorithmIdentifier {
  const algorithm = digestOids[hash];
  return new AlgorithmIdentifier(hash === 'md5' ? { algorithm, parameters: null } : { algorithm });
}

export function hashFromDigestOid(oid: string): VerifyHashName | undefined {
  for (const [name, o] of Object.entries(digestOids)) if (o === oid) return name as VerifyHashName;
  return undefined;
}

const RSA_SIG: Readonly<Record<Exclude<HashName, 'sm3'>, string>> = {
  sha256: rsaOids.sha256WithRsa,
  sha1: rsaOids.sha1WithRsa,
  md5: rsaOids.md5WithRsa,
};

/**
 * Signature AlgorithmIdentifier for certificates and CSRs: SM2-with-SM3 without parameters
 * (GM/T 0015), RSA PKCS #1 v1.5 with NULL parameters (RFC 4055).
 */
export function signatureAlgorithm(key: 'sm2' | 'rsa', hash: HashName): AlgorithmIdentifier {
  if (key === 'sm2') {
    if (hash !== 'sm3') throw badParam('SM2 signatures use SM3');
    return new AlgorithmIdentifier({ algorithm: sm2Oids.sm2WithSm3 });
  }
  if (hash === 'sm3') throw badParam('RSA signatures do not use SM3 here');
  return new AlgorithmIdentifier({ algorithm: RSA_SIG[hash], parameters: null });
}

export interface SignatureAlgorithmInfo {
  key: KeyAlgorithm;
  hash: VerifyHashName;
}

const SIG_ALGS: Readonly<Record<string, SignatureAlgorithmInfo>> = {
  [sm2Oids.sm2WithSm3]: { key: 'sm2', hash: 'sm3' },
  [rsaOids.sha256WithRsa]: { key: 'rsa', hash: 'sha256' },
  [rsaOids.sha384WithRsa]: { key: 'rsa', hash: 'sha384' },
  [rsaOids.sha512WithRsa]: { key: 'rsa', hash: 'sha512' },
  [rsaOids.sha1WithRsa]: { key: 'rsa', hash: 'sha1' },
  [rsaOids.md5WithRsa]: { key: 'rsa', hash: 'md5' },
  [ecdsaOids.sha256]: { key: 'ec', hash: 'sha256' },
  [ecdsaOids.sha384]: { key: 'ec', hash: 'sha384' },
  [ecdsaOids.sha512]: { key: 'ec', hash: 'sha512' },
  [ecdsaOids.sha1]: { key: 'ec', hash: 'sha1' },
};

/** What a certificate/CSR signatureAlgorithm OID means, or undefined if we do not support it. */
export const signatureAlgorithmInfo = (oid: string): SignatureAlgorithmInfo | undefined =>
  SIG_ALGS[oid];
