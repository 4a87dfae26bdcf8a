/**
 * The bridge's optional HTTPS/WSS identity: a certificate for `localhost` and `127.0.0.1` from a
 * local CA that exists only on this computer. The CA's private key lives in memory just long
 * enough to issue the one server certificate and is never written anywhere, so a stolen data
 * directory cannot mint certificates for other names. The server key is kept in the agent's
 * encrypted secret store; the CA certificate is written out for the operator to trust
 * (docs/JSAPI.md "HTTPS and WSS"). When the server certificate nears expiry a new CA is made and
 * must be trusted again: that is the price of destroying the old CA key.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCertificate } from '../pki/certificate';
import { issueCertificate, issuerFromCertificate, randomSerial, selfSignedCa } from '../pki/issue';
import { derToPem, pemToDer } from '../pki/keys';
import { softwareRsaProvider } from '../pki/signer';
import type { SecretStore } from '../store/secret-store';

export interface LocalTlsIdentity {
  /** PEM private key of the server certificate (PKCS #8). */
  key: string;
  /** PEM server certificate followed by the CA certificate. */
  cert: string;
  caCertPem: string;
  /** Where the CA certificate is, for the operator to import into the trust store. */
  caPath: string;
  notAfter: number;
  /** SHA-256 of the CA certificate (hex, upper case, colon separated as trust dialogs show it). */
  caFingerprint: string;
  /** True when this call made a new CA (the operator must trust it again). */
  created: boolean;
}

const SECRET = 'bridge-tls/localhost-key';
/** Browsers refuse server certificates valid for more than 398 days. */
const VALIDITY_DAYS = 397;
/** Renew this long before expiry. */
const RENEW_MS = 30 * 86_400_000;

const fingerprint = (der: Buffer): string =>
  createHash('sha256').update(der).digest('hex').toUpperCase().match(/../g)!.join(':');

function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text, { mode: 0o644 });
  renameSync(tmp, path);
}

function loadExisting(dir: string, secrets: SecretStore, now: number): LocalTlsIdentity | null {
  const caPath = join(dir, 'local-ca.pem');
  const leafPath = join(dir, 'localhost.pem');
  const keyDer = secrets.get(SECRET);
  if (!keyDer || !existsSync(caPath) || !existsSync(leafPath)) return null;
  try {
    const caPem = readFileSync(caPath, 'utf8');
    const leafPem = readFileSync(leafPath, 'utf8');
    const leaf = parseCertificate(pemToDer(leafPem));
    const ca = parseCertificate(pemToDer(caPem));
    if (leaf.notAfter.getTime() - now < RENEW_MS) return null;
    const key = createPrivateKey({ key: keyDer, format: 'der', type: 'pkcs8' });
    const spki = createPublicKey(key).export({ type: 'spki', format: 'der' });
    // A certificate replaced by hand, or a key from another run, is not served.
    if (!spki.equals(leaf.spki) || leaf.issuer !== ca.subject) return null;
    return {
      key: key.export({ type: 'pkcs8', format: 'pem' }).toString(),
      cert: leafPem + caPem,
      caCertPem: caPem,
      caPath,
      notAfter: leaf.notAfter.getTime(),
      caFingerprint: fingerprint(pemToDer(caPem)),
      created: false,
    };
  } catch {
    return null;
  }
}

/** Loads the bridge's TLS identity, or makes a new local CA and server certificate. */
export async function ensureLocalTls(o: {
  dataDir: string;
  secrets: SecretStore;
  now?: number;
}): Promise<LocalTlsIdentity> {
  const now = o.now ?? Date.now();
  const dir = join(o.dataDir, 'tls');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const existing = loadExisting(dir, o.secrets, now);
  if (existing) return existing;

  const notBefore = new Date(now - 5 * 60_000);
  const notAfter = new Date(now + VALIDITY_DAYS * 86_400_000);
  let caKey: KeyObject | undefined = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  const caSigner = softwareRsaProvider(caKey);
  const tag = randomSerial(4).toString('hex').toUpperCase();
  const caDer = await selfSignedCa({
    subject: `CN=UKey Agent Local CA ${tag},O=UKey Agent (this computer only)`,
    signer: caSigner,
    notBefore,
    notAfter,
    keyUsage: ['keyCertSign', 'cRLSign'],
    pathLenConstraint: 0,
  });
  const leafKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const leafDer = await issueCertificate({
    issuer: issuerFromCertificate(caDer, caSigner),
    subject: 'CN=localhost,O=UKey Agent',
    subjectSpki: createPublicKey(leafKey).export({ type: 'spki', format: 'der' }),
    notBefore,
    notAfter,
    keyUsage: ['digitalSignature'],
    extKeyUsage: ['serverAuth'],
    subjectAltNames: { dns: ['localhost'], ip: ['127.0.0.1'] },
  });
  // The CA key is done: drop the only reference (it was never serialized).
  caKey = undefined;

  o.secrets.put(SECRET, leafKey.export({ type: 'pkcs8', format: 'der' }));
  const caPem = derToPem(caDer, 'CERTIFICATE');
  const leafPem = derToPem(leafDer, 'CERTIFICATE');
  const caPath = join(dir, 'local-ca.pem');
  writeAtomic(caPath, caPem);
  writeAtomic(join(dir, 'localhost.pem'), leafPem);
  return {
    key: leafKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    cert: leafPem + caPem,
    caCertPem: caPem,
    caPath,
    notAfter: notAfter.getTime(),
    caFingerprint: fingerprint(caDer),
    created: true,
  };
}
