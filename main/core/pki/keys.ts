// SubjectPublicKeyInfo helpers: build SM2/RSA SPKIs, take them apart, PEM armour, and verify a
// signature given only an SPKI (what a certificate or a CSR hands us).
import { createPublicKey, verify as nodeVerify, constants } from 'node:crypto';
import { ECParameters } from '@peculiar/asn1-ecc';
import { RSAPublicKey } from '@peculiar/asn1-rsa';
import { AlgorithmIdentifier, SubjectPublicKeyInfo } from '@peculiar/asn1-x509';
import { badParam } from '../../common/errors';
import { normalisePublicPoint, sm2Verify } from '../crypto/sm2';
import {
  integerMagnitude,
  parseDer,
  serialize,
  toArrayBuffer,
  toBuffer,
  unsignedInteger,
} from './asn1';
import { rsaOids, sm2Oids } from './oids';
import type { HashName } from './signer';

export type KeyAlgorithm = 'sm2' | 'rsa' | 'ec';

/** Hashes a verifier accepts: the signer's four plus what foreign RSA/ECDSA certificates use. */
export type VerifyHashName = HashName | 'sha384' | 'sha512';

export interface SpkiInfo {
  algorithm: KeyAlgorithm;
  /** SM2: the uncompressed point 04‖x‖y. */
  sm2Point?: Buffer;
  /** RSA: unsigned big-endian modulus and exponent (no sign octet). */
  rsa?: { modulus: Buffer; publicExponent: Buffer; bits: number };
  /** EC (incl. SM2): the named curve. */
  curveOid?: string;
  /** Non-SM2 EC: the encoded point. */
  ecPoint?: Buffer;
}

/**
 * SPKI of an SM2 key in the GM/T 0015 form: id-ecPublicKey with namedCurve sm2p256v1 and the
 * uncompressed point, the form `openssl pkey -pubin` and Chinese CAs use.
 */
export function sm2Spki(point: Uint8Array): Buffer {
  const ecParams = serialize(new ECParameters({ namedCurve: sm2Oids.curve }));
  return serialize(
    new SubjectPublicKeyInfo({
      algorithm: new AlgorithmIdentifier({
        algorithm: sm2Oids.ecPublicKey,
        parameters: toArrayBuffer(ecParams),
      }),
      subjectPublicKey: toArrayBuffer(normalisePublicPoint(point)),
    }),
  );
}

/** SPKI of an EC key from PKCS#11's CKA_EC_PARAMS (DER named-curve OID) and its uncompressed point. */
export function ecSpki(ecParamsDer: Uint8Array, point: Uint8Array): Buffer {
  return serialize(
    new SubjectPublicKeyInfo({
      algorithm: new AlgorithmIdentifier({
        algorithm: sm2Oids.ecPublicKey,
        parameters: toArrayBuffer(Buffer.from(ecParamsDer)),
      }),
      subjectPublicKey: toArrayBuffer(Buffer.from(point)),
    }),
  );
}

/** SPKI of an RSA key from its unsigned modulus and exponent. */
export function rsaSpki(modulus: Uint8Array, exponent: Uint8Array): Buffer {
  const key = serialize(
    new RSAPublicKey({
      modulus: unsignedInteger(modulus),
      publicExponent: unsignedInteger(exponent),
    }),
  );
  return serialize(
    new SubjectPublicKeyInfo({
      algorithm: new AlgorithmIdentifier({ algorithm: rsaOids.rsaEncryption, parameters: null }),
      subjectPublicKey: toArrayBuffer(key),
    }),
  );
}

export function parseSpki(der: Uint8Array): SpkiInfo {
  return spkiInfo(parseDer(der, SubjectPublicKeyInfo, 'public key'));
}

export function spkiInfo(spki: SubjectPublicKeyInfo): SpkiInfo {
  const alg = spki.algorithm.algorithm;
  const key = toBuffer(spki.subjectPublicKey);
  if (alg === rsaOids.rsaEncryption) {
    const rsa = parseDer(key, RSAPublicKey, 'RSA public key');
    const modulus = integerMagnitude(rsa.modulus);
    return {
      algorithm: 'rsa',
      rsa: {
        modulus,
        publicExponent: integerMagnitude(rsa.publicExponent),
        bits: bitLength(modulus),
      },
    };
  }
  // Some early Chinese certificates put the SM2 curve OID in place of id-ecPublicKey.
  if (alg === sm2Oids.curve) return sm2Info(key);
  if (alg === sm2Oids.ecPublicKey) {
    const params = spki.algorithm.parameters;
    if (!params) throw badParam('EC public key without curve parameters');
    const curve = parseDer(Buffer.from(params), ECParameters, 'EC parameters').namedCurve;
    if (curve === sm2Oids.curve) return sm2Info(key);
    if (!curve) throw badParam('EC public keys with explicit curve parameters are not supported');
    return { algorithm: 'ec', curveOid: curve, ecPoint: key };
  }
  throw badParam(`unsupported public key algorithm ${alg}`);
}

function sm2Info(point: Buffer): SpkiInfo {
  try {
    return { algorithm: 'sm2', sm2Point: normalisePublicPoint(point), curveOid: sm2Oids.curve };
  } catch {
    throw badParam('SM2 public key is not an uncompressed point');
  }
}

function bitLength(n: Buffer): number {
  if (n.length === 0 || (n.length === 1 && n[0] === 0)) return 0;
  return (n.length - 1) * 8 + n[0]!.toString(2).length;
}

export function derToPem(der: Uint8Array, label: string): string {
  const b64 = Buffer.from(der).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

export const spkiToPem = (der: Uint8Array): string => derToPem(der, 'PUBLIC KEY');

/** The first PEM block (of `label`, if given) decoded; BAD_PARAM if there is none. */
export function pemToDer(pem: string | Buffer, label?: string): Buffer {
  const text = typeof pem === 'string' ? pem : pem.toString('latin1');
  const re = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;
  for (const m of text.matchAll(re)) {
    if (label !== undefined && m[1] !== label) continue;
    // Drop RFC 1421 headers (e.g. Proc-Type) before decoding.
    const body = m[2]!
      .split(/\r?\n/)
      .filter((l) => !l.includes(':'))
      .join('')
      .replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body) || body.length === 0)
      throw badParam(`PEM ${m[1]} block is not base64`);
    return Buffer.from(body, 'base64');
  }
  throw badParam(label ? `no PEM ${label} block found` : 'no PEM block found');
}

/**
 * Verifies `signature` over `message` with the key in `spki`. SM2 is SM2-with-SM3 with the default
 * ID (hash must be 'sm3'; signature DER or raw r‖s); RSA is PKCS #1 v1.5; EC is ECDSA (DER).
 * Answers false for a bad signature, throws BAD_PARAM for an unusable key or hash.
 */
export function verifyWithSpki(
  spki: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
  hash: VerifyHashName,
): boolean {
  const info = parseSpki(spki);
  if (info.algorithm === 'sm2') {
    if (hash !== 'sm3') throw badParam('SM2 signatures are verified as SM2-with-SM3 only');
    return sm2Verify(info.sm2Point!, message, signature);
  }
  if (hash === 'sm3') throw badParam(`SM3 is not used with ${info.algorithm.toUpperCase()} keys`);
  let key;
  try {
    key = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
  } catch {
    throw badParam('public key is not usable');
  }
  try {
    return info.algorithm === 'rsa'
      ? nodeVerify(hash, message, { key, padding: constants.RSA_PKCS1_PADDING }, signature)
      : nodeVerify(hash, message, { key, dsaEncoding: 'der' }, signature);
  } catch {
    return false;
  }
}
