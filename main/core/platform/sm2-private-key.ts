// Reads an SM2 private key as operators hand it over: PKCS #8 PEM/DER (what `openssl genpkey
// -algorithm SM2` writes) or the bare 32-byte scalar as 64 hex digits.
import { ECParameters, ECPrivateKey } from '@peculiar/asn1-ecc';
import { PrivateKeyInfo } from '@peculiar/asn1-pkcs8';
import { AsnConvert } from '@peculiar/asn1-schema';
import { badParam } from '../../common/errors';
import { OID_EC_PUBLIC_KEY, OID_SM2_CURVE, SM2_CURVE, sm2KeyPairFromPrivate } from '../crypto/sm2';
import type { Sm2KeyPair } from '../crypto/sm2';
import { pemToDer } from '../pki/keys';

const HEX_SCALAR = /^(?:0x)?([0-9A-Fa-f]{64})$/;

function fromScalar(d: Buffer): Sm2KeyPair {
  const n = BigInt(`0x${d.toString('hex')}`);
  // d must lie in [1, n-2] (GB/T 32918.1): anything else is not an SM2 private key.
  if (n < 1n || n > SM2_CURVE.n - 2n) throw badParam('the SM2 private key is out of range');
  return sm2KeyPairFromPrivate(d);
}

function fromPkcs8(der: Buffer): Sm2KeyPair {
  let info: PrivateKeyInfo;
  let ec: ECPrivateKey;
  try {
    info = AsnConvert.parse(der, PrivateKeyInfo);
    ec = AsnConvert.parse(info.privateKey.buffer, ECPrivateKey);
  } catch {
    throw badParam('the key is not a PKCS #8 private key');
  }
  const alg = info.privateKeyAlgorithm;
  // OpenSSL writes id-ecPublicKey with the sm2p256v1 curve; some tools put the curve in the key.
  let curve: string | undefined;
  if (alg.parameters) {
    try {
      curve = AsnConvert.parse(alg.parameters, ECParameters).namedCurve;
    } catch {
      curve = undefined;
    }
  }
  curve ??= ec.parameters?.namedCurve;
  if (alg.algorithm !== OID_EC_PUBLIC_KEY || curve !== OID_SM2_CURVE)
    throw badParam('the key is not an SM2 key (expected id-ecPublicKey on sm2p256v1)');
  const raw = Buffer.from(ec.privateKey.buffer);
  if (raw.length > 32) throw badParam('the SM2 private key is too long');
  const key = fromScalar(Buffer.concat([Buffer.alloc(32 - raw.length), raw]));
  if (ec.publicKey) {
    const point = Buffer.from(ec.publicKey);
    if (!point.equals(key.publicKey))
      throw badParam('the public key in the file does not match its private key');
  }
  return key;
}

/** An SM2 key pair from PKCS #8 (PEM or DER) or 64 hex digits; 1001 for anything else. */
export function parseSm2PrivateKey(input: Buffer | string): Sm2KeyPair {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  const text = bytes.toString('latin1').trim();
  const hex = HEX_SCALAR.exec(text);
  if (hex) return fromScalar(Buffer.from(hex[1]!, 'hex'));
  if (text.includes('-----BEGIN ENCRYPTED PRIVATE KEY-----'))
    throw badParam('the key file is encrypted: export it unencrypted (openssl pkey) first');
  if (text.includes('-----BEGIN')) {
    let der: Buffer;
    try {
      der = pemToDer(text, 'PRIVATE KEY');
    } catch {
      throw badParam('the key file is not a PEM "PRIVATE KEY" (PKCS #8)');
    }
    return fromPkcs8(der);
  }
  if (bytes[0] === 0x30) return fromPkcs8(bytes);
  throw badParam('the key must be a PKCS #8 SM2 private key or 64 hex digits');
}
