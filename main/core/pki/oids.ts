// Every object identifier the PKI layer emits or recognises, kept in one place so that the
// GM/T (Chinese national) and the RFC arcs are never mixed up by accident.
import { OID_EC_PUBLIC_KEY, OID_SM2_CURVE, OID_SM2_SM3, OID_SM3 } from '../crypto/sm2';

export { OID_EC_PUBLIC_KEY, OID_SM2_CURVE, OID_SM2_SM3, OID_SM3 };

/** SM2 public keys and signatures (GM/T 0006, GM/T 0015). */
export const sm2Oids = {
  ecPublicKey: OID_EC_PUBLIC_KEY,
  curve: OID_SM2_CURVE,
  /** sm2-1 "SM2 signature": seen as a SignerInfo signatureAlgorithm in older GM/T 0010 messages. */
  sm2Sign: '1.2.156.10197.1.301.1',
  sm2WithSm3: OID_SM2_SM3,
  sm3: OID_SM3,
} as const;

/** GB/T 35275 (formerly GM/T 0010) content types. */
export const sm2SignedDataOids = {
  data: '1.2.156.10197.6.1.4.2.1',
  signedData: '1.2.156.10197.6.1.4.2.2',
  envelopedData: '1.2.156.10197.6.1.4.2.3',
  signedAndEnvelopedData: '1.2.156.10197.6.1.4.2.4',
  encryptedData: '1.2.156.10197.6.1.4.2.5',
  keyAgreementInfo: '1.2.156.10197.6.1.4.2.6',
} as const;

/** RFC 5652 content types. */
export const cmsOids = {
  data: '1.2.840.113549.1.7.1',
  signedData: '1.2.840.113549.1.7.2',
} as const;

/** PKCS #9 signed attributes (used by both the RFC 5652 and the GB/T 35275 profiles). */
export const pkcs9Oids = {
  emailAddress: '1.2.840.113549.1.9.1',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingTime: '1.2.840.113549.1.9.5',
} as const;

export const digestOids = {
  sm3: OID_SM3,
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
  sha512: '2.16.840.1.101.3.4.2.3',
  sha1: '1.3.14.3.2.26',
  md5: '1.2.840.113549.2.5',
} as const;

export const rsaOids = {
  rsaEncryption: '1.2.840.113549.1.1.1',
  md5WithRsa: '1.2.840.113549.1.1.4',
  sha1WithRsa: '1.2.840.113549.1.1.5',
  sha256WithRsa: '1.2.840.113549.1.1.11',
  sha384WithRsa: '1.2.840.113549.1.1.12',
  sha512WithRsa: '1.2.840.113549.1.1.13',
} as const;

export const ecdsaOids = {
  sha1: '1.2.840.10045.4.1',
  sha256: '1.2.840.10045.4.3.2',
  sha384: '1.2.840.10045.4.3.3',
  sha512: '1.2.840.10045.4.3.4',
} as const;

/** X.509 v3 certificate extensions. */
export const extensionOids = {
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  subjectAltName: '2.5.29.17',
} as const;

/** Extended key usage purposes accepted by name in `issueCertificate`. */
export const extKeyUsageOids: Readonly<Record<string, string>> = {
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  codeSigning: '1.3.6.1.5.5.7.3.3',
  emailProtection: '1.3.6.1.5.5.7.3.4',
  timeStamping: '1.3.6.1.5.5.7.3.8',
  OCSPSigning: '1.3.6.1.5.5.7.3.9',
};
