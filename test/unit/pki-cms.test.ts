import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, generateKeyPairSync } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ContentInfo, SignedData } from '@peculiar/asn1-cms';
import { AsnConvert } from '@peculiar/asn1-schema';
import { AgentError } from '../../main/common/errors';
import { generateSm2KeyPair } from '../../main/core/crypto/sm2';
import { sm3 } from '../../main/core/crypto/sm3';
import {
  buildDetachedSignedData,
  sm2SignedDataOids,
  verifyDetachedSignedData,
} from '../../main/core/pki/cms';
import { issueCertificate, issuerFromCertificate, selfSignedCa } from '../../main/core/pki/issue';
import { derToPem } from '../../main/core/pki/keys';
import { softwareRsaProvider, softwareSm2Provider } from '../../main/core/pki/signer';
import type { SignatureProvider } from '../../main/core/pki/signer';

const dir = mkdtempSync(join(tmpdir(), 'pki-cms-'));
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
const codeOf = (e: unknown): string => (e instanceof AgentError ? e.code : String(e));

/** The SignerInfo signature bytes of a P7, to find and flip them in the DER. */
function signatureOf(p7: Buffer): Buffer {
  const ci = AsnConvert.parse(p7, ContentInfo);
  const sd = AsnConvert.parse(ci.content, SignedData);
  return Buffer.from(sd.signerInfos[0]!.signature.buffer);
}
function flipSignatureByte(p7: Buffer): Buffer {
  const sig = signatureOf(p7);
  const at = p7.indexOf(sig);
  assert.ok(at > 0);
  const out = Buffer.from(p7);
  out[at + sig.length - 1]! ^= 0x01;
  return out;
}

interface Pki {
  caCert: Buffer;
  signer: SignatureProvider;
  cert: Buffer;
}
async function makePki(ca: SignatureProvider, signer: SignatureProvider, cn: string): Promise<Pki> {
  const caCert = await selfSignedCa({ subject: `CN=${cn} CA,O=示例银行,C=CN`, signer: ca });
  const cert = await issueCertificate({
    issuer: issuerFromCertificate(caCert, ca),
    subject: `CN=${cn} 签章人,O=示例银行,C=CN`,
    subjectSpki: signer.spki,
    keyUsage: ['digitalSignature', 'nonRepudiation'],
  });
  return { caCert, signer, cert };
}

const doc = Buffer.from('%PDF-1.7 一份需要盖章的合同 …');

describe('pki CMS (SM2, GB/T 35275)', () => {
  let pki: Pki;
  let p7: Buffer;
  const signingTime = new Date('2026-03-04T05:06:07Z');

  before(async () => {
    pki = await makePki(
      softwareSm2Provider(generateSm2KeyPair()),
      softwareSm2Provider(generateSm2KeyPair()),
      'SM2',
    );
    p7 = await buildDetachedSignedData({
      messageDigest: sm3(doc),
      hash: 'sm3',
      signer: pki.signer,
      signerCertificate: pki.cert,
      extraCertificates: [pki.caCert],
      signingTime,
    });
  });

  it('round-trips through our verifier', () => {
    const v = verifyDetachedSignedData(p7, { messageDigest: sm3(doc) });
    assert.deepEqual(v.errors, []);
    assert.equal(v.valid, true);
    assert.equal(v.contentChecked, true);
    assert.equal(v.digestAlgorithmOid, '1.2.156.10197.1.401');
    assert.deepEqual(v.messageDigest, sm3(doc));
    assert.equal(v.signingTime?.toISOString(), signingTime.toISOString());
    assert.equal(v.signerCertificate.subject, 'CN=SM2 签章人,O=示例银行,C=CN');
    assert.deepEqual(v.signerCertificate.der, pki.cert);
    assert.equal(verifyDetachedSignedData(p7, { content: doc }).valid, true);
  });

  it('reports a wrong digest and a flipped signature byte', () => {
    const wrong = verifyDetachedSignedData(p7, { messageDigest: sm3(Buffer.from('other')) });
    assert.equal(wrong.valid, false);
    assert.match(wrong.errors.join(';'), /messageDigest does not match/);
    assert.equal(verifyDetachedSignedData(p7, { content: Buffer.from('other') }).valid, false);

    const flipped = verifyDetachedSignedData(flipSignatureByte(p7), { messageDigest: sm3(doc) });
    assert.equal(flipped.valid, false);
    assert.match(flipped.errors.join(';'), /signature does not verify/);

    // Without a digest to compare, only the signature is checked, and the result says so.
    const unbound = verifyDetachedSignedData(p7);
    assert.equal(unbound.valid, true);
    assert.equal(unbound.contentChecked, false);
  });

  it('accepts SM3 with NULL parameters and the sm2-1 signature OID (unsigned fields)', () => {
    const ci = AsnConvert.parse(p7, ContentInfo);
    const sd = AsnConvert.parse(ci.content, SignedData);
    const si = sd.signerInfos[0]!;
    si.digestAlgorithm.parameters = null;
    sd.digestAlgorithms[0]!.parameters = null;
    si.signatureAlgorithm.algorithm = '1.2.156.10197.1.301.1';
    ci.content = AsnConvert.serialize(sd);
    const variant = Buffer.from(AsnConvert.serialize(ci));
    assert.ok(variant.includes(Buffer.from('300c06082a811ccf550183110500', 'hex')));
    const v = verifyDetachedSignedData(variant, { messageDigest: sm3(doc) });
    assert.deepEqual(v.errors, []);
    si.signatureAlgorithm.algorithm = '1.2.840.113549.1.1.1';
    ci.content = AsnConvert.serialize(sd);
    const wrong = verifyDetachedSignedData(Buffer.from(AsnConvert.serialize(ci)), {
      messageDigest: sm3(doc),
    });
    assert.equal(wrong.valid, false, 'an RSA signature algorithm on an SM2 certificate');
  });

  it('uses the GB/T 35275 OIDs (openssl asn1parse)', () => {
    const out = openssl(['asn1parse', '-inform', 'DER', '-in', write('sm2.p7', p7)]).out;
    const objects = [...out.matchAll(/OBJECT\s+:(\S+)/g)].map((m) => m[1]);
    assert.equal(objects[0], sm2SignedDataOids.signedData, 'ContentInfo contentType');
    assert.equal(objects[1], 'sm3', 'digestAlgorithms');
    assert.equal(objects[2], sm2SignedDataOids.data, 'eContentType');
    assert.ok(objects.includes('SM2-with-SM3'));
    assert.ok(objects.includes('contentType') && objects.includes('messageDigest'));
    assert.ok(objects.includes('signingTime'));
    // SM3 with parameters absent: SEQUENCE { OID } (GmSSL's encoding), not followed by NULL.
    assert.ok(p7.includes(Buffer.from('300a06082a811ccf55018311', 'hex')));
    assert.ok(!p7.includes(Buffer.from('300c06082a811ccf550183110500', 'hex')));
    // The contentType attribute names the GB/T data type.
    const attr = Buffer.concat([
      Buffer.from('06092a864886f70d010903310c060a', 'hex'),
      Buffer.from('2a811ccf550601040201', 'hex'),
    ]);
    assert.ok(p7.includes(attr));
  });

  it('throws BAD_PARAM for input that is not a SignedData', async () => {
    assert.throws(
      () => verifyDetachedSignedData(Buffer.from('nonsense')),
      (e) => codeOf(e) === '1001',
    );
    assert.throws(
      () => verifyDetachedSignedData(pki.cert),
      (e) => codeOf(e) === '1001',
    );
    await assert.rejects(
      buildDetachedSignedData({
        messageDigest: Buffer.alloc(31),
        hash: 'sm3',
        signer: pki.signer,
        signerCertificate: pki.cert,
      }),
      (e) => codeOf(e) === '1001',
    );
    await assert.rejects(
      buildDetachedSignedData({
        messageDigest: sm3(doc),
        hash: 'sm3',
        signer: pki.signer,
        signerCertificate: pki.caCert,
      }),
      (e) => codeOf(e) === '1001',
      'a certificate for another key',
    );
  });
});

describe('pki CMS (RSA, RFC 5652)', () => {
  let caKey: KeyObject;
  let userKey: KeyObject;
  let pki: Pki;

  before(async () => {
    caKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    userKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    pki = await makePki(softwareRsaProvider(caKey), softwareRsaProvider(userKey), 'RSA');
  });

  for (const hash of ['sha256', 'sha1'] as const) {
    it(`is verified by openssl cms -verify (${hash})`, async () => {
      const digest = createHash(hash).update(doc).digest();
      const p7 = await buildDetachedSignedData({
        messageDigest: digest,
        hash,
        signer: pki.signer,
        signerCertificate: pki.cert,
      });
      const args = (content: string): string[] => [
        'cms',
        '-verify',
        '-binary',
        '-inform',
        'DER',
        '-in',
        write(`${hash}.p7`, p7),
        '-content',
        content,
        '-CAfile',
        write('ca.pem', derToPem(pki.caCert, 'CERTIFICATE')),
        '-purpose',
        'any',
        '-out',
        join(dir, 'out.bin'),
      ];
      const ok = openssl(args(write('doc.bin', doc)));
      assert.equal(ok.status, 0, ok.out);
      assert.match(ok.out, /Verification successful/);
      const bad = openssl(args(write('other.bin', 'other')));
      assert.notEqual(bad.status, 0, 'OpenSSL must reject other content');

      const v = verifyDetachedSignedData(p7, { content: doc });
      assert.deepEqual(v.errors, []);
      assert.equal(v.valid, true);
      assert.equal(v.signerCertificate.keyAlgorithm, 'rsa');
      assert.equal(
        verifyDetachedSignedData(flipSignatureByte(p7), { messageDigest: digest }).valid,
        false,
      );
      assert.equal(verifyDetachedSignedData(p7, { content: Buffer.from('x') }).valid, false);
    });
  }

  it('verifies a detached P7 that OpenSSL made', () => {
    const p7 = spawnSync('openssl', [
      'cms',
      '-sign',
      '-binary',
      '-in',
      write('doc2.bin', doc),
      '-outform',
      'DER',
      '-md',
      'sha256',
      '-signer',
      write('user.pem', derToPem(pki.cert, 'CERTIFICATE')),
      '-inkey',
      write('user.key', userKey.export({ type: 'pkcs8', format: 'pem' })),
    ]).stdout;
    assert.ok(p7.length > 0);
    const v = verifyDetachedSignedData(p7, { content: doc });
    assert.deepEqual(v.errors, []);
    assert.equal(v.digestAlgorithmOid, '2.16.840.1.101.3.4.2.1');
    assert.equal(verifyDetachedSignedData(p7, { content: Buffer.from('x') }).valid, false);
  });

  it('refuses SM3 with an RSA key', async () => {
    await assert.rejects(
      buildDetachedSignedData({
        messageDigest: sm3(doc),
        hash: 'sm3',
        signer: pki.signer,
        signerCertificate: pki.cert,
      }),
      (e) => codeOf(e) === '1001',
    );
  });
});
