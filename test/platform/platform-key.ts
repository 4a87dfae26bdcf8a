// The reference platform's own SM2 key, with which it signs every answer (X-Platform-Sign). It is a
// test platform: the key lives in a plain file in its data directory, mode 0600, created on first
// start. A production platform keeps this key in a cryptographic module instead.
import { chmodSync, existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateSm2KeyPair, sm2KeyPairFromPrivate } from '../../main/core/crypto/sm2';
import type { Sm2KeyPair } from '../../main/core/crypto/sm2';
import { parseCertificate } from '../../main/core/pki/certificate';
import { issueCertificate } from '../../main/core/pki/issue';
import { derToPem, pemToDer, sm2Spki } from '../../main/core/pki/keys';
import { softwareSm2Provider } from '../../main/core/pki/signer';

export const KEY_FILE = 'platform-sm2-key.json';
export const CERTIFICATE_FILE = 'platform-cert.pem';
const CERT_SUBJECT = 'CN=Reference E-Seal Platform,O=ukey-agent test platform,C=CN';
const TEN_YEARS_MS = 10 * 365 * 24 * 3600 * 1000;

export interface PlatformIdentity {
  key: Sm2KeyPair;
  /** Self-signed SM2 certificate of the key (DER), for clients configured with a certificate. */
  certificate: Buffer;
}

interface KeyFile {
  algorithm: 'SM2';
  /** 32-byte d, hex. */
  privateKey: string;
  /** 04‖x‖y, hex. */
  publicKey: string;
}

/** Writes a file readable by its owner only, never leaving a half-written one behind. */
function writePrivateFile(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600, flag: 'wx' });
  chmodSync(tmp, 0o600); // the umask cannot widen it, but be explicit
  renameSync(tmp, path);
}

function loadKey(path: string): Sm2KeyPair {
  if (process.platform !== 'win32' && (statSync(path).mode & 0o077) !== 0)
    throw new Error(`${KEY_FILE} must be readable by its owner only (mode 0600)`);
  const file = JSON.parse(readFileSync(path, 'utf8')) as Partial<KeyFile>;
  if (file.algorithm !== 'SM2' || typeof file.privateKey !== 'string')
    throw new Error(`${KEY_FILE} is not an SM2 key file`);
  const key = sm2KeyPairFromPrivate(Buffer.from(file.privateKey, 'hex'));
  if (file.publicKey !== undefined && file.publicKey !== key.publicKey.toString('hex'))
    throw new Error(`${KEY_FILE}: the public key does not match the private key`);
  return key;
}

async function makeCertificate(key: Sm2KeyPair, now: number): Promise<Buffer> {
  const notBefore = new Date(now - 5 * 60_000);
  return issueCertificate({
    issuer: { name: CERT_SUBJECT, signer: softwareSm2Provider(key) },
    subject: CERT_SUBJECT,
    subjectSpki: sm2Spki(key.publicKey),
    notBefore,
    notAfter: new Date(notBefore.getTime() + TEN_YEARS_MS),
    keyUsage: ['digitalSignature'],
  });
}

/** The platform's key and certificate from dataDir, generated there on first start. */
export async function loadOrCreatePlatformIdentity(
  dataDir: string,
  now: number,
): Promise<PlatformIdentity> {
  const keyPath = join(dataDir, KEY_FILE);
  let key: Sm2KeyPair;
  if (existsSync(keyPath)) key = loadKey(keyPath);
  else {
    key = generateSm2KeyPair();
    const file: KeyFile = {
      algorithm: 'SM2',
      privateKey: key.privateKey.toString('hex'),
      publicKey: key.publicKey.toString('hex'),
    };
    writePrivateFile(keyPath, `${JSON.stringify(file, null, 2)}\n`);
  }

  const certPath = join(dataDir, CERTIFICATE_FILE);
  if (existsSync(certPath)) {
    const certificate = pemToDer(readFileSync(certPath, 'latin1'), 'CERTIFICATE');
    const info = parseCertificate(certificate);
    if (info.publicKey.sm2Point?.equals(key.publicKey)) return { key, certificate };
    // A certificate left over from another key is replaced rather than trusted.
  }
  const certificate = await makeCertificate(key, now);
  writeFileSync(certPath, derToPem(certificate, 'CERTIFICATE'), { mode: 0o644 });
  return { key, certificate };
}
