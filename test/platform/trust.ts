// The CAs whose certificates document verification trusts: those registered by the operator, and
// the platform's own cloud CA. The cloud CA and the platform-held cloud keys of cloud seals live in
// the test platform's database in the clear; a real platform keeps them in a cryptographic module.
import { existsSync, mkdirSync } from 'node:fs';
import { badParam } from '../../main/common/errors';
import { generateSm2KeyPair, sm2KeyPairFromPrivate } from '../../main/core/crypto/sm2';
import type { Sm2KeyPair } from '../../main/core/crypto/sm2';
import { parseCertificatePemOrDer } from '../../main/core/pki/certificate';
import { issueCertificate, issuerFromCertificate, selfSignedCa } from '../../main/core/pki/issue';
import { sm2Spki } from '../../main/core/pki/keys';
import { softwareSm2Provider } from '../../main/core/pki/signer';
import { normaliseSerial } from '../../main/core/platform/serial';
import type { PlatformDb } from './database';
import { openPlatformDatabase } from './database';
import type { SealRow } from './seal-store';

const CLOUD_CA_SUBJECT = 'CN=Reference Platform Cloud SM2 CA,O=ukey-agent test platform,C=CN';
const YEAR_MS = 365 * 24 * 3600 * 1000;

export interface CloudCa {
  key: Sm2KeyPair;
  certificate: Buffer;
}

export interface CloudKey {
  key: Sm2KeyPair;
  certificate: Buffer;
  serial: string;
}

/** An RFC 4514 attribute value: the special characters backslash-escaped. */
const escapeDn = (v: string): string => v.replace(/[,+"\\<>;=#]/g, (c) => `\\${c}`).trim();

/** Adds a CA certificate (PEM or DER) to the trusted set; answers its SM3 fingerprint. */
export function trustCaIn(db: PlatformDb, certificate: Uint8Array | string, now: number): string {
  const cert = parseCertificatePemOrDer(certificate);
  if (!cert.isCa) throw badParam('the certificate is not a CA certificate (basicConstraints cA)');
  db.prepare(
    `INSERT INTO trusted_cas (fingerprint, certificate, subject, added_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (fingerprint) DO NOTHING`,
  ).run(cert.fingerprints.sm3, cert.der, cert.subject, now);
  return cert.fingerprints.sm3;
}

/** `trustCaIn` on the platform kept in dataDir, whether or not it runs (`platform ca add`). */
export function trustCa(
  dataDir: string,
  certificate: Uint8Array | string,
  now = Date.now(),
): string {
  if (!existsSync(dataDir)) mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const db = openPlatformDatabase(dataDir);
  try {
    return trustCaIn(db, certificate, now);
  } finally {
    db.close();
  }
}

/** The registered CAs and the cloud CA (DER). */
export function trustedCertificates(db: PlatformDb): Buffer[] {
  const rows = db.prepare('SELECT certificate FROM trusted_cas ORDER BY added_at').all() as {
    certificate: Buffer;
  }[];
  const cloud = db.prepare('SELECT certificate FROM cloud_ca WHERE id = 1').get() as
    { certificate: Buffer } | undefined;
  return [...rows.map((r) => r.certificate), ...(cloud ? [cloud.certificate] : [])];
}

/** The cloud CA, created on first use. */
export async function loadOrCreateCloudCa(db: PlatformDb, now: number): Promise<CloudCa> {
  const row = db.prepare('SELECT private_key, certificate FROM cloud_ca WHERE id = 1').get() as
    { private_key: string; certificate: Buffer } | undefined;
  if (row)
    return {
      key: sm2KeyPairFromPrivate(Buffer.from(row.private_key, 'hex')),
      certificate: row.certificate,
    };
  const key = generateSm2KeyPair();
  const notBefore = new Date(now - 5 * 60_000);
  const certificate = await selfSignedCa({
    subject: CLOUD_CA_SUBJECT,
    signer: softwareSm2Provider(key),
    notBefore,
    notAfter: new Date(notBefore.getTime() + 10 * YEAR_MS),
  });
  // Two starts racing: the first row wins and both read it back.
  db.prepare(
    'INSERT INTO cloud_ca (id, private_key, certificate) VALUES (1, ?, ?) ON CONFLICT (id) DO NOTHING',
  ).run(key.privateKey.toString('hex'), certificate);
  return loadOrCreateCloudCa(db, now);
}

function readCloudKey(db: PlatformDb, sealCode: string): CloudKey | undefined {
  const row = db
    .prepare('SELECT private_key, certificate, cert_serial FROM cloud_keys WHERE seal_code = ?')
    .get(sealCode) as { private_key: string; certificate: Buffer; cert_serial: string } | undefined;
  return (
    row && {
      key: sm2KeyPairFromPrivate(Buffer.from(row.private_key, 'hex')),
      certificate: row.certificate,
      serial: row.cert_serial,
    }
  );
}

/**
 * The platform-held SM2 key of a cloud seal and its certificate from the cloud CA (subject: the
 * seal's possessor), made on first use. Valid one year (or until the seal's validity, if sooner).
 */
export async function cloudKeyFor(
  db: PlatformDb,
  ca: CloudCa,
  seal: SealRow,
  now: number,
): Promise<CloudKey> {
  const existing = readCloudKey(db, seal.seal_code);
  if (existing) return existing;
  const key = generateSm2KeyPair();
  const notBefore = new Date(now - 5 * 60_000);
  const certificate = await issueCertificate({
    issuer: issuerFromCertificate(ca.certificate, softwareSm2Provider(ca.key)),
    subject: `CN=${escapeDn(seal.possessor)},SERIALNUMBER=${escapeDn(seal.possessor_cert_no)},C=CN`,
    subjectSpki: sm2Spki(key.publicKey),
    notBefore,
    notAfter: new Date(notBefore.getTime() + YEAR_MS),
    keyUsage: ['digitalSignature', 'nonRepudiation'],
  });
  const serial = normaliseSerial(parseCertificatePemOrDer(certificate).serialNumberHex);
  db.prepare(
    `INSERT INTO cloud_keys (seal_code, private_key, certificate, cert_serial, created_at)
     VALUES (?, ?, ?, ?, ?) ON CONFLICT (seal_code) DO NOTHING`,
  ).run(seal.seal_code, key.privateKey.toString('hex'), certificate, serial, now);
  return readCloudKey(db, seal.seal_code)!;
}

/** The seal whose certificate this is: a UKey seal by its filed serial, or a cloud key's seal. */
export function sealOfCertificate(
  db: PlatformDb,
  serial: string,
  der: Buffer,
): SealRow | undefined {
  const s = normaliseSerial(serial);
  const cloud = db
    .prepare(
      'SELECT s.* FROM cloud_keys k JOIN seals s ON s.seal_code = k.seal_code WHERE k.cert_serial = ? AND k.certificate = ?',
    )
    .get(s, der) as SealRow | undefined;
  if (cloud) return cloud;
  const rows = db
    .prepare('SELECT * FROM seals WHERE cert_number = ? ORDER BY state = 1 DESC, filed_at DESC')
    .all(s) as SealRow[];
  // A filed certificate must be this one; a seal filed with only a serial matches by serial.
  const b64 = der.toString('base64');
  return rows.find((r) => r.sign_public_key === null || r.sign_public_key === b64);
}
