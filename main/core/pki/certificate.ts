// Reading X.509 certificates: the fields the agent shows and decides on (which of a UKey's two
// certificates signs), fingerprints, and checking a certificate's signature against its issuer.
import { createHash } from 'node:crypto';
import {
  AuthorityKeyIdentifier,
  BasicConstraints,
  Certificate,
  ExtendedKeyUsage,
  KeyUsage,
  KeyUsageFlags,
  SubjectKeyIdentifier,
} from '@peculiar/asn1-x509';
import type { Name } from '@peculiar/asn1-x509';
import { badParam } from '../../common/errors';
import { sm3 } from '../crypto/sm3';
import { signatureAlgorithmInfo } from './algorithms';
import { integerMagnitude, parseDer, sequenceElements, stripZeroPadding, toBuffer } from './asn1';
import { pemToDer, spkiInfo, verifyWithSpki } from './keys';
import type { KeyAlgorithm, SpkiInfo } from './keys';
import { formatName, nameFields } from './names';
import { extensionOids } from './oids';

export type KeyUsageName =
  | 'digitalSignature'
  | 'nonRepudiation'
  | 'keyEncipherment'
  | 'dataEncipherment'
  | 'keyAgreement'
  | 'keyCertSign'
  | 'cRLSign';

export const KEY_USAGE_NAMES: readonly KeyUsageName[] = [
  'digitalSignature',
  'nonRepudiation',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
];

/**
 * What the key is for, from KeyUsage. GM/T 0015 UKeys carry two certificates: the signing one
 * (digitalSignature and/or nonRepudiation) and the encryption one (keyEncipherment,
 * dataEncipherment or keyAgreement, no digitalSignature). 'unknown' = no KeyUsage extension, or
 * only CA bits.
 */
export type CertificateUsage = 'sign' | 'encrypt' | 'both' | 'unknown';

export interface CertificateInfo {
  der: Buffer;
  /** 1, 2 or 3. */
  version: number;
  /** RFC 4514 text, most-specific first (see names.ts). */
  subject: string;
  issuer: string;
  subjectFields: Record<string, string>;
  issuerFields: Record<string, string>;
  /**
   * Lowercase hex of the serial's magnitude: the INTEGER's content octets with leading zero octets
   * (the sign octet) dropped, so `00ab` reads `ab` and `0100` stays `0100`. Same digits as
   * `openssl x509 -serial`, lowercase. A (non-conforming) negative serial shows its two's
   * complement octets.
   */
  serialNumberHex: string;
  notBefore: Date;
  notAfter: Date;
  keyAlgorithm: KeyAlgorithm;
  /** DER SubjectPublicKeyInfo. */
  spki: Buffer;
  publicKey: SpkiInfo;
  signatureAlgorithmOid: string;
  /** All false when the certificate has no KeyUsage extension (see keyUsagePresent). */
  keyUsage: Record<KeyUsageName, boolean>;
  keyUsagePresent: boolean;
  extKeyUsage: string[];
  isCa: boolean;
  pathLenConstraint?: number;
  usage: CertificateUsage;
  subjectKeyIdentifier?: string;
  authorityKeyIdentifier?: string;
  /** Lowercase hex over the DER. */
  fingerprints: { sha256: string; sm3: string };
  /** Raw pieces for verifiers and CMS (exact bytes from `der`). */
  raw: {
    tbsCertificate: Buffer;
    signatureValue: Buffer;
    /** tbsCertificate.signature, which must equal signatureAlgorithmOid. */
    tbsSignatureAlgorithmOid: string;
    /** INTEGER content octets as encoded. */
    serialNumber: Buffer;
    subject: Name;
    issuer: Name;
    /** Exact encodings of the subject and issuer Names. */
    subjectDer: Buffer;
    issuerDer: Buffer;
  };
}

/** Parses a DER certificate (trailing zero padding is ignored); BAD_PARAM if it is malformed. */
export function parseCertificate(der: Uint8Array): CertificateInfo {
  const bytes = Buffer.from(stripZeroPadding(der));
  const cert = parseDer(bytes, Certificate, 'certificate');
  const tbs = cert.tbsCertificate;
  if (!cert.tbsCertificateRaw) throw badParam('certificate is not valid DER');
  let pub: SpkiInfo;
  let notBefore: Date;
  let notAfter: Date;
  try {
    pub = spkiInfo(tbs.subjectPublicKeyInfo);
    notBefore = tbs.validity.notBefore.getTime();
    notAfter = tbs.validity.notAfter.getTime();
  } catch (e) {
    if (e instanceof Error && e.name === 'AgentError') throw e;
    throw badParam('certificate is malformed');
  }

  // Exact bytes of the Names and the SPKI: [version] serial signature issuer validity subject spki …
  const tbsRaw = toBuffer(cert.tbsCertificateRaw);
  const fields = sequenceElements(tbsRaw, 'certificate');
  const at = fields[0]?.[0] === 0xa0 ? 1 : 0;
  const [issuerDer, subjectDer, spkiDer] = [fields[at + 2], fields[at + 4], fields[at + 5]];
  if (!issuerDer || !subjectDer || !spkiDer) throw badParam('certificate is malformed');

  const ext = (oid: string): Buffer | undefined => {
    const e = tbs.extensions?.find((x) => x.extnID === oid);
    return e ? toBuffer(e.extnValue.buffer) : undefined;
  };
  const keyUsage = Object.fromEntries(KEY_USAGE_NAMES.map((n) => [n, false])) as Record<
    KeyUsageName,
    boolean
  >;
  const kuDer = ext(extensionOids.keyUsage);
  if (kuDer) {
    const flags = parseDer(kuDer, KeyUsage, 'KeyUsage extension').toNumber();
    for (const n of KEY_USAGE_NAMES) keyUsage[n] = (flags & KeyUsageFlags[n]) !== 0;
  }
  const bcDer = ext(extensionOids.basicConstraints);
  const bc = bcDer ? parseDer(bcDer, BasicConstraints, 'BasicConstraints extension') : undefined;
  const ekuDer = ext(extensionOids.extKeyUsage);
  const skiDer = ext(extensionOids.subjectKeyIdentifier);
  const akiDer = ext(extensionOids.authorityKeyIdentifier);
  const aki = akiDer
    ? parseDer(akiDer, AuthorityKeyIdentifier, 'AuthorityKeyIdentifier extension').keyIdentifier
    : undefined;

  const info: CertificateInfo = {
    der: bytes,
    version: tbs.version + 1,
    subject: formatName(tbs.subject),
    issuer: formatName(tbs.issuer),
    subjectFields: nameFields(tbs.subject),
    issuerFields: nameFields(tbs.issuer),
    serialNumberHex: integerMagnitude(tbs.serialNumber).toString('hex'),
    notBefore,
    notAfter,
    keyAlgorithm: pub.algorithm,
    spki: spkiDer,
    publicKey: pub,
    signatureAlgorithmOid: cert.signatureAlgorithm.algorithm,
    keyUsage,
    keyUsagePresent: kuDer !== undefined,
    extKeyUsage: ekuDer ? [...parseDer(ekuDer, ExtendedKeyUsage, 'ExtendedKeyUsage')] : [],
    isCa: bc?.cA ?? false,
    usage: usageOf(keyUsage, kuDer !== undefined),
    fingerprints: {
      sha256: createHash('sha256').update(bytes).digest('hex'),
      sm3: sm3(bytes).toString('hex'),
    },
    raw: {
      tbsCertificate: tbsRaw,
      signatureValue: toBuffer(cert.signatureValue),
      tbsSignatureAlgorithmOid: tbs.signature.algorithm,
      serialNumber: toBuffer(tbs.serialNumber),
      subject: tbs.subject,
      issuer: tbs.issuer,
      subjectDer,
      issuerDer,
    },
  };
  if (bc?.pathLenConstraint !== undefined) info.pathLenConstraint = bc.pathLenConstraint;
  if (skiDer)
    info.subjectKeyIdentifier = toBuffer(
      parseDer(skiDer, SubjectKeyIdentifier, 'SubjectKeyIdentifier').buffer,
    ).toString('hex');
  if (aki) info.authorityKeyIdentifier = toBuffer(aki.buffer).toString('hex');
  return info;
}

/** PEM (first CERTIFICATE block) or DER. */
export function parseCertificatePemOrDer(input: string | Uint8Array): CertificateInfo {
  const asText =
    typeof input === 'string' ? input : Buffer.from(input).subarray(0, 64).toString('latin1');
  if (asText.includes('-----BEGIN')) {
    const text = typeof input === 'string' ? input : Buffer.from(input).toString('latin1');
    return parseCertificate(pemToDer(text, 'CERTIFICATE'));
  }
  if (typeof input === 'string') throw badParam('certificate text is not PEM');
  return parseCertificate(input);
}

function usageOf(ku: Record<KeyUsageName, boolean>, present: boolean): CertificateUsage {
  if (!present) return 'unknown';
  const sign = ku.digitalSignature || ku.nonRepudiation;
  const enc = ku.keyEncipherment || ku.dataEncipherment || ku.keyAgreement;
  if (sign && enc) return 'both';
  if (sign) return 'sign';
  if (enc) return 'encrypt';
  return 'unknown';
}

/**
 * Whether `issuerSpki`'s key signed `cert`. SM2-with-SM3 (1.2.156.10197.1.501) is checked with the
 * default ID 1234567812345678 over the exact tbsCertificate bytes; RSA and ECDSA via node:crypto.
 * False for a bad signature, a key/algorithm mismatch or an unsupported algorithm.
 */
export function verifyCertificateSignature(
  cert: CertificateInfo | Uint8Array,
  issuerSpki: Uint8Array,
): boolean {
  const info = cert instanceof Uint8Array ? parseCertificate(cert) : cert;
  const alg = signatureAlgorithmInfo(info.signatureAlgorithmOid);
  if (!alg) return false;
  // The outer and inner signature algorithms must agree (RFC 5280 §4.1.1.2).
  if (info.raw.tbsSignatureAlgorithmOid !== info.signatureAlgorithmOid) return false;
  try {
    return verifyWithSpki(issuerSpki, info.raw.tbsCertificate, info.raw.signatureValue, alg.hash);
  } catch {
    return false;
  }
}
