import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentError } from '../../main/common/errors';
import { generateSm2KeyPair } from '../../main/core/crypto/sm2';
import { buildCsr, parseCsr, verifyCsr } from '../../main/core/pki/csr';
import { derToPem, pemToDer } from '../../main/core/pki/keys';
import { softwareRsaProvider, softwareSm2Provider } from '../../main/core/pki/signer';

const dir = mkdtempSync(join(tmpdir(), 'pki-csr-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** stdout+stderr and the exit status (OpenSSL 3.0 `req -verify` exits 0 even on failure). */
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
const DISTID = 'distid:1234567812345678';

/** A copy of `der` with the first occurrence of `from` replaced by the same-length `to`. */
function tamper(der: Buffer, from: string, to: string): Buffer {
  const i = der.indexOf(Buffer.from(from));
  assert.ok(i > 0, `${from} not found`);
  const out = Buffer.from(der);
  Buffer.from(to).copy(out, i);
  return out;
}

describe('pki CSR', () => {
  it('builds an SM2 CSR that openssl req -verify accepts with the default distid', async () => {
    const key = generateSm2KeyPair();
    const csr = await buildCsr({
      subject: 'CN=测试签章人,O=示例银行,C=CN',
      signer: softwareSm2Provider(key),
    });
    const pem = write('sm2.csr', derToPem(csr, 'CERTIFICATE REQUEST'));
    const v = openssl(['req', '-in', pem, '-verify', '-noout', '-vfyopt', DISTID]);
    assert.match(v.out, /verify OK/, v.out);
    assert.doesNotMatch(v.out, /failure/, v.out);

    const text = openssl(['req', '-in', pem, '-noout', '-text', '-nameopt', 'RFC2253,-esc_msb']);
    assert.match(text.out, /Signature Algorithm: SM2-with-SM3/);
    assert.match(text.out, /Subject: CN=测试签章人,O=示例银行,C=CN/);
    // GM/T 0015: SM2-with-SM3 without parameters (SEQUENCE { OID } only).
    assert.ok(csr.includes(Buffer.from('300a06082a811ccf55018375', 'hex')));

    const info = parseCsr(csr);
    assert.equal(info.subject, 'CN=测试签章人,O=示例银行,C=CN');
    assert.equal(info.subjectFields.CN, '测试签章人');
    assert.equal(info.keyAlgorithm, 'sm2');
    assert.deepEqual(info.publicKey.sm2Point, key.publicKey);
    assert.equal(info.signatureAlgorithmOid, '1.2.156.10197.1.501');
    assert.ok(verifyCsr(csr));
    assert.ok(verifyCsr(derToPem(csr, 'CERTIFICATE REQUEST')));
  });

  it('builds an RSA CSR that openssl req -verify accepts', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const csr = await buildCsr({
      subject: 'CN=RSA 签名人,O=Example Bank,OU=Ops,C=CN',
      signer: softwareRsaProvider(privateKey),
    });
    const pem = write('rsa.csr', derToPem(csr, 'CERTIFICATE REQUEST'));
    const v = openssl(['req', '-in', pem, '-verify', '-noout']);
    assert.equal(v.status, 0, v.out);
    assert.match(v.out, /verify OK/, v.out);
    const text = openssl(['req', '-in', pem, '-noout', '-text']);
    assert.match(text.out, /Signature Algorithm: sha256WithRSAEncryption/);
    // sha256WithRSAEncryption with NULL parameters.
    assert.ok(csr.includes(Buffer.from('300d06092a864886f70d01010b0500', 'hex')));
    assert.ok(verifyCsr(csr));
    assert.equal(parseCsr(csr).keyAlgorithm, 'rsa');
  });

  it('fails verifyCsr when the subject is tampered with', async () => {
    const sm2 = await buildCsr({
      subject: 'CN=Alice,O=Example Bank,C=CN',
      signer: softwareSm2Provider(generateSm2KeyPair()),
    });
    assert.ok(verifyCsr(sm2));
    assert.ok(!verifyCsr(tamper(sm2, 'Alice', 'Mally')));
    const rsa = await buildCsr({
      subject: 'CN=Alice,O=Example Bank,C=CN',
      signer: softwareRsaProvider(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey),
    });
    assert.ok(!verifyCsr(tamper(rsa, 'Alice', 'Mally')));
    // OpenSSL agrees (it prints the failure but, in 3.0, still exits 0).
    const pem = write('bad.csr', derToPem(tamper(rsa, 'Alice', 'Mally'), 'CERTIFICATE REQUEST'));
    assert.match(openssl(['req', '-in', pem, '-verify', '-noout']).out, /verify failure/);
  });

  it('verifies an SM2 CSR made by OpenSSL with the default distid', () => {
    const keyPem = write('ossl-sm2.pem', execFileSync('openssl', ['genpkey', '-algorithm', 'SM2']));
    const pem = execFileSync('openssl', [
      'req',
      '-new',
      '-key',
      keyPem,
      '-subj',
      '/C=CN/O=OpenSSL/CN=ossl',
      '-sm3',
      '-sigopt',
      DISTID,
    ]).toString();
    const der = pemToDer(pem, 'CERTIFICATE REQUEST');
    assert.ok(verifyCsr(der));
    assert.equal(parseCsr(pem).subject, 'CN=ossl,O=OpenSSL,C=CN');
  });

  it('throws BAD_PARAM for input that is not a CSR', () => {
    assert.throws(
      () => parseCsr(Buffer.from('3000', 'hex')),
      (e) => codeOf(e) === '1001',
    );
    assert.throws(
      () => verifyCsr('not a pem'),
      (e) => codeOf(e) === '1001',
    );
  });
});
