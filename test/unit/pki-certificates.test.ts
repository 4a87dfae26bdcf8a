import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentError } from '../../main/common/errors';
import { generateSm2KeyPair } from '../../main/core/crypto/sm2';
import {
  parseCertificate,
  parseCertificatePemOrDer,
  verifyCertificateSignature,
} from '../../main/core/pki/certificate';
import { buildCsr } from '../../main/core/pki/csr';
import {
  certificateFromCsr,
  issueCertificate,
  issuerFromCertificate,
  keyIdentifier,
  selfSignedCa,
} from '../../main/core/pki/issue';
import { derToPem, pemToDer } from '../../main/core/pki/keys';
import { softwareRsaProvider, softwareSm2Provider } from '../../main/core/pki/signer';
import type { SignatureProvider } from '../../main/core/pki/signer';

const dir = mkdtempSync(join(tmpdir(), 'pki-cert-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function openssl(args: string[]): { status: number | null; out: string } {
  const r = spawnSync('openssl', args);
  return { status: r.status, out: r.stdout.toString() + r.stderr.toString() };
}
const write = (name: string, data: Buffer | string): string => {
  const p = join(dir, name);
  writeFileSync(p, data);
  return p;
};
const pemFile = (name: string, der: Buffer): string => write(name, derToPem(der, 'CERTIFICATE'));
const codeOf = (e: unknown): string => (e instanceof AgentError ? e.code : String(e));
const DISTID = 'distid:1234567812345678';

const CA_NAME = 'CN=测试 SM2 根 CA,O=示例银行,C=CN';
const SIGNER_NAME = 'CN=测试签章人,O=示例银行,C=CN';

describe('pki certificates (SM2 dual-certificate UKey)', () => {
  let ca: SignatureProvider;
  let caCert: Buffer;
  let signCert: Buffer;
  let encCert: Buffer;

  before(async () => {
    ca = softwareSm2Provider(generateSm2KeyPair());
    caCert = await selfSignedCa({ subject: CA_NAME, signer: ca });
    const issuer = issuerFromCertificate(caCert, ca);
    const ukeySign = softwareSm2Provider(generateSm2KeyPair());
    const ukeyEnc = softwareSm2Provider(generateSm2KeyPair());
    signCert = await certificateFromCsr(
      await buildCsr({ subject: SIGNER_NAME, signer: ukeySign }),
      issuer,
      {
        keyUsage: ['digitalSignature', 'nonRepudiation'],
      },
    );
    encCert = await issueCertificate({
      issuer,
      subject: SIGNER_NAME,
      subjectSpki: ukeyEnc.spki,
      keyUsage: ['keyEncipherment', 'dataEncipherment', 'keyAgreement'],
    });
  });

  it('tells the signing certificate from the encryption certificate', () => {
    const s = parseCertificate(signCert);
    const e = parseCertificate(encCert);
    assert.equal(s.usage, 'sign');
    assert.equal(e.usage, 'encrypt');
    assert.deepEqual(
      Object.entries(s.keyUsage)
        .filter(([, v]) => v)
        .map(([k]) => k),
      ['digitalSignature', 'nonRepudiation'],
    );
    assert.equal(e.keyUsage.digitalSignature, false);
    assert.equal(e.keyUsage.keyAgreement, true);
    assert.equal(s.keyAlgorithm, 'sm2');
    assert.equal(s.signatureAlgorithmOid, '1.2.156.10197.1.501');
    assert.equal(s.isCa, false);
    assert.equal(s.version, 3);
    const c = parseCertificate(caCert);
    assert.equal(c.isCa, true);
    assert.equal(c.usage, 'sign', 'the CA default includes digitalSignature');
    assert.equal(c.keyUsage.keyCertSign, true);
    assert.equal(s.authorityKeyIdentifier, c.subjectKeyIdentifier);
    assert.equal(c.subjectKeyIdentifier, keyIdentifier(ca.spki).toString('hex'));
  });

  it('round-trips Chinese names, and OpenSSL reads the same', () => {
    const s = parseCertificate(signCert);
    assert.equal(s.subject, SIGNER_NAME);
    assert.equal(s.issuer, CA_NAME);
    assert.deepEqual(s.subjectFields, { CN: '测试签章人', O: '示例银行', C: 'CN' });
    const out = openssl([
      'x509',
      '-in',
      pemFile('sign.pem', signCert),
      '-noout',
      '-subject',
      '-issuer',
      '-serial',
      '-fingerprint',
      '-sha256',
      '-nameopt',
      'RFC2253,-esc_msb',
    ]).out;
    assert.match(out, new RegExp(`subject=${SIGNER_NAME}\n`));
    assert.match(out, new RegExp(`issuer=${CA_NAME}\n`));
    assert.equal(/serial=([0-9A-F]+)/.exec(out)?.[1]?.toLowerCase(), s.serialNumberHex);
    assert.equal(s.serialNumberHex.length, 32, 'a 16-byte positive serial');
    const fp = /Fingerprint=([0-9A-F:]+)/.exec(out)?.[1]?.replace(/:/g, '').toLowerCase();
    assert.equal(fp, s.fingerprints.sha256);
    assert.match(s.fingerprints.sm3, /^[0-9a-f]{64}$/);
  });

  it('is printed by openssl x509 -text with the expected extensions', () => {
    const ca = openssl(['x509', '-in', pemFile('ca.pem', caCert), '-noout', '-text']);
    assert.equal(ca.status, 0, ca.out);
    assert.match(ca.out, /Signature Algorithm: SM2-with-SM3/);
    assert.match(ca.out, /ASN1 OID: SM2/);
    assert.match(ca.out, /X509v3 Basic Constraints: critical\s+CA:TRUE/);
    assert.match(
      ca.out,
      /X509v3 Key Usage: critical\s+Digital Signature, Certificate Sign, CRL Sign/,
    );
    const enc = openssl(['x509', '-in', pemFile('enc.pem', encCert), '-noout', '-text']);
    assert.match(
      enc.out,
      /Key Usage: critical\s+Key Encipherment, Data Encipherment, Key Agreement/,
    );
    assert.match(enc.out, /X509v3 Subject Key Identifier/);
    assert.match(enc.out, /X509v3 Authority Key Identifier/);
  });

  it('verifies certificate signatures (and not tampered ones)', () => {
    assert.ok(verifyCertificateSignature(signCert, ca.spki));
    assert.ok(verifyCertificateSignature(parseCertificate(encCert), ca.spki));
    assert.ok(verifyCertificateSignature(caCert, ca.spki), 'self-signed');
    assert.ok(!verifyCertificateSignature(signCert, parseCertificate(signCert).spki), 'wrong key');
    const i = signCert.indexOf(Buffer.from('测试签章人'));
    const tampered = Buffer.from(signCert);
    tampered[i + 2]! ^= 0x01;
    assert.notEqual(parseCertificate(tampered).subject, SIGNER_NAME);
    assert.ok(!verifyCertificateSignature(tampered, ca.spki));
  });

  it('passes openssl verify with -vfyopt distid (OpenSSL 3.0 defaults to an empty SM2 ID)', () => {
    const caPem = pemFile('ca.pem', caCert);
    for (const [name, der] of [
      ['sign.pem', signCert],
      ['enc.pem', encCert],
    ] as const) {
      const ok = openssl(['verify', '-vfyopt', DISTID, '-CAfile', caPem, pemFile(name, der)]);
      assert.equal(ok.status, 0, ok.out);
      assert.match(ok.out, /: OK/);
      // Without the option OpenSSL 3.0 checks with an empty ID, and a GM/T certificate fails.
      const plain = openssl(['verify', '-CAfile', caPem, pemFile(name, der)]);
      assert.notEqual(plain.status, 0, plain.out);
    }
  });

  it('reads and verifies an SM2 certificate made by OpenSSL with the default distid', () => {
    const key = write('ossl-ca.key', execFileSync('openssl', ['genpkey', '-algorithm', 'SM2']));
    const pem = execFileSync('openssl', [
      'req',
      '-x509',
      '-new',
      '-key',
      key,
      '-subj',
      '/C=CN/O=示例/CN=OpenSSL SM2',
      '-utf8',
      '-sm3',
      '-sigopt',
      DISTID,
      '-days',
      '1',
    ]).toString();
    const info = parseCertificatePemOrDer(pem);
    assert.equal(info.subject, 'CN=OpenSSL SM2,O=示例,C=CN');
    assert.equal(info.keyAlgorithm, 'sm2');
    assert.ok(verifyCertificateSignature(info, info.spki));
    assert.deepEqual(parseCertificatePemOrDer(pemToDer(pem)).der, info.der);
  });

  it('ignores zero padding after the DER but rejects garbage', () => {
    assert.deepEqual(parseCertificate(Buffer.concat([signCert, Buffer.alloc(16)])).der, signCert);
    assert.throws(
      () => parseCertificate(Buffer.concat([signCert, Buffer.from([1])])),
      (e) => codeOf(e) === '1001',
    );
    assert.throws(
      () => parseCertificate(Buffer.from('garbage')),
      (e) => codeOf(e) === '1001',
    );
    assert.throws(
      () => parseCertificatePemOrDer('-----BEGIN CERTIFICATE-----\n@@\n-----END CERTIFICATE-----'),
      (e) => codeOf(e) === '1001',
    );
  });

  it('refuses a CSR whose signature does not verify', async () => {
    const csr = Buffer.from(
      await buildCsr({ subject: 'CN=Alice', signer: softwareSm2Provider(generateSm2KeyPair()) }),
    );
    csr[csr.indexOf(Buffer.from('Alice'))]! ^= 0x20;
    await assert.rejects(
      certificateFromCsr(csr, issuerFromCertificate(caCert, ca), {
        keyUsage: ['digitalSignature'],
      }),
      (e) => codeOf(e) === '1001',
    );
  });
});

describe('pki certificates (RSA)', () => {
  it('issues a chain that openssl verify accepts', async () => {
    const caSigner = softwareRsaProvider(
      generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey,
    );
    const caCert = await selfSignedCa({
      subject: 'CN=Test RSA CA,O=Example Bank,C=CN',
      signer: caSigner,
    });
    const user = softwareRsaProvider(
      generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey,
    );
    const cert = await certificateFromCsr(
      await buildCsr({ subject: 'CN=RSA 签名人,O=Example Bank,C=CN', signer: user }),
      issuerFromCertificate(caCert, caSigner),
      {
        keyUsage: ['digitalSignature', 'nonRepudiation'],
        extKeyUsage: ['clientAuth', 'emailProtection'],
      },
    );
    const caPem = pemFile('rsa-ca.pem', caCert);
    const v = openssl(['verify', '-CAfile', caPem, pemFile('rsa-user.pem', cert)]);
    assert.equal(v.status, 0, v.out);
    assert.match(v.out, /rsa-user.pem: OK/);
    assert.equal(openssl(['verify', '-check_ss_sig', '-CAfile', caPem, caPem]).status, 0);

    const info = parseCertificate(cert);
    assert.equal(info.keyAlgorithm, 'rsa');
    assert.equal(info.publicKey.rsa?.bits, 2048);
    assert.equal(info.signatureAlgorithmOid, '1.2.840.113549.1.1.11');
    assert.equal(info.usage, 'sign');
    assert.deepEqual(info.extKeyUsage, ['1.3.6.1.5.5.7.3.2', '1.3.6.1.5.5.7.3.4']);
    assert.ok(verifyCertificateSignature(info, caSigner.spki));
    assert.ok(!verifyCertificateSignature(info, user.spki));

    // A certificate from another CA with the same name does not verify.
    const otherCa = softwareRsaProvider(
      generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey,
    );
    const forged = await issueCertificate({
      issuer: { name: 'CN=Test RSA CA,O=Example Bank,C=CN', signer: otherCa },
      subject: 'CN=Mallory',
      subjectSpki: user.spki,
      keyUsage: ['digitalSignature'],
    });
    assert.notEqual(openssl(['verify', '-CAfile', caPem, pemFile('forged.pem', forged)]).status, 0);
    assert.ok(!verifyCertificateSignature(forged, caSigner.spki));
  });

  it('validates its options', async () => {
    const s = softwareRsaProvider(generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey);
    const base = { issuer: { name: 'CN=x', signer: s }, subject: 'CN=y', subjectSpki: s.spki };
    await assert.rejects(issueCertificate({ ...base, keyUsage: [] }), (e) => codeOf(e) === '1001');
    await assert.rejects(
      issueCertificate({ ...base, keyUsage: ['digitalSignature'], isCa: true }),
      (e) => codeOf(e) === '1001',
    );
    await assert.rejects(
      issueCertificate({ ...base, keyUsage: ['digitalSignature'], extKeyUsage: ['bogus'] }),
      (e) => codeOf(e) === '1001',
    );
    const serial = Buffer.from('8001', 'hex');
    const cert = await issueCertificate({ ...base, keyUsage: ['digitalSignature'], serial });
    assert.equal(
      parseCertificate(cert).serialNumberHex,
      '8001',
      'a sign octet is added, not shown',
    );
    assert.ok(parseCertificate(cert).raw.serialNumber.equals(Buffer.from('008001', 'hex')));
  });
});
