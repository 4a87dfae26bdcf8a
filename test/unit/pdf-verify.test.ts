import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AgentError } from '../../main/common/errors';
import type { CertificateInfo } from '../../main/core/pki/certificate';
import { parseCertificate } from '../../main/core/pki/certificate';
import { extractPdfSignatures } from '../../main/core/pdf/extract';
import { verifyPdf } from '../../main/core/pdf/verify';
import type { DocumentVerifyResult, SealInfo } from '../../main/core/pdf/verify';
import { samplePdf, sealPng, signPdf, testPki } from '../helpers/pdf-fixtures';
import type { TestPki } from '../helpers/pdf-fixtures';

const codeOf = (e: unknown): string => (e instanceof AgentError ? e.code : String(e));
const seal = (state: number): SealInfo => ({
  sealCode: '11010000000001',
  sealName: '合同专用章',
  sealType: '2',
  state,
  provider: '测试服务商',
  sealPicBase64: sealPng().toString('base64'),
});
/** A sealInfo lookup that knows only `pki`'s signer certificate. */
const lookup =
  (pki: TestPki, state = 1) =>
  async (cert: CertificateInfo): Promise<SealInfo | undefined> =>
    cert.der.equals(pki.cert) ? seal(state) : undefined;

const statuses = (r: DocumentVerifyResult): number[][] =>
  r.details.map((d) => d.flowVoList.map((s) => s.status));
const step = (r: DocumentVerifyResult, i: number): { hint: string; status: number } =>
  r.details[0]!.flowVoList[i]!;

describe('pdf verification', () => {
  let sm2: TestPki;
  let rsa: TestPki;
  let pdf: Buffer;
  let sm2Signed: Buffer;

  before(async () => {
    [sm2, rsa, pdf] = await Promise.all([testPki('sm2'), testPki('rsa'), samplePdf()]);
    sm2Signed = (await signPdf(pdf, sm2, { sealImagePng: sealPng() })).signed;
  });

  it('passes every step of an SM2 P7 (GB/T 35275) signature and fills table 27', async () => {
    const r = await verifyPdf(sm2Signed, {
      trustedCertificates: [sm2.caCert],
      sealInfo: lookup(sm2),
      fileName: '合同.pdf',
    });
    assert.equal(r.fileName, '合同.pdf');
    assert.equal(r.fileSize, sm2Signed.length);
    assert.equal(r.signCount, 1);
    assert.equal(r.verifyResult, true);
    assert.deepEqual(statuses(r), [[1, 1, 1, 1]]);
    const d = r.details[0]!;
    const cert = parseCertificate(sm2.cert);
    assert.deepEqual(Object.keys(d).sort(), [
      'cert0wner',
      'certIssuer',
      'certSn',
      'certValidEnd',
      'certValidStart',
      'flowVoList',
      'provider',
      'sealCode',
      'sealPicBase64',
      'sealType',
      'signTime',
    ]);
    assert.equal(d.cert0wner, 'CN=测试签章人,O=测试机构,C=CN');
    assert.equal(d.certIssuer, 'CN=测试sm2 CA,O=测试机构,C=CN');
    assert.equal(d.certSn, cert.serialNumberHex);
    assert.match(d.certValidStart, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    assert.equal(d.sealCode, '11010000000001');
    assert.equal(d.sealType, '2');
    assert.equal(d.provider, '测试服务商');
    assert.equal(d.sealPicBase64, sealPng().toString('base64'));
    assert.deepEqual(
      d.flowVoList.map((s) => s.step),
      ['文档完整性验证', '签名值验证', '证书验证', '印章状态验证'],
    );
    assert.equal(d.flowVoList[0]!.hint, '文档自签章后未被修改');
  });

  it('writes signTime in China Standard Time from the P7 signingTime', async () => {
    const pki = await testPki('sm2', {
      notBefore: new Date('2020-01-01T00:00:00Z'),
      notAfter: new Date('2030-01-01T00:00:00Z'),
    });
    const signingTime = new Date('2024-05-06T07:08:09Z');
    const { signed } = await signPdf(pdf, pki, { signingTime });
    const r = await verifyPdf(signed, {
      trustedCertificates: [pki.caCert],
      sealInfo: lookup(pki),
    });
    assert.equal(r.details[0]!.signTime, '2024-05-06 15:08:09');
    assert.equal(r.verifyResult, true);
  });

  it('passes an RSA P7 (RFC 5652) signature, chained through an intermediate CA', async () => {
    const pki = await testPki('rsa', { intermediate: true });
    const { signed } = await signPdf(pdf, pki);
    const r = await verifyPdf(signed, { trustedCertificates: [pki.caCert], sealInfo: lookup(pki) });
    assert.deepEqual(statuses(r), [[1, 1, 1, 1]]);
    assert.equal(r.verifyResult, true);
    // trusting the intermediate alone is enough too
    const r2 = await verifyPdf(signed, {
      trustedCertificates: [pki.intermediates[0]!],
      sealInfo: lookup(pki),
    });
    assert.equal(r2.verifyResult, true);
  });

  it('fails integrity when a signed byte changed', async () => {
    const [sig] = extractPdfSignatures(sm2Signed);
    const tampered = Buffer.from(sm2Signed);
    // a byte of the page's MediaBox, well inside the first signed run
    const media = tampered.indexOf('/MediaBox [ 0 0 595 842 ]');
    assert.ok(media > 0 && media < sig!.byteRange[1]);
    tampered.write('6', media + '/MediaBox [ 0 0 '.length, 'latin1');
    const r = await verifyPdf(tampered, {
      trustedCertificates: [sm2.caCert],
      sealInfo: lookup(sm2),
    });
    assert.equal(r.verifyResult, false);
    assert.deepEqual(step(r, 0), { step: '文档完整性验证', hint: '文档在签章后被修改', status: 0 });
    // the P7 itself is still good: only integrity fails
    assert.deepEqual(statuses(r), [[0, 1, 1, 1]]);
  });

  it('fails integrity when bytes were appended after the signature', async () => {
    const appended = Buffer.concat([sm2Signed, Buffer.from('\n1 0 obj\n(changed)\nendobj\n')]);
    const r = await verifyPdf(appended, {
      trustedCertificates: [sm2.caCert],
      sealInfo: lookup(sm2),
    });
    assert.equal(r.verifyResult, false);
    assert.deepEqual(statuses(r), [[0, 1, 1, 1]]);
    assert.equal(step(r, 0).hint, '签章未覆盖整个文档');
  });

  it('fails the signature step when the P7 signature value is altered', async () => {
    const [sig] = extractPdfSignatures(sm2Signed);
    const bad = Buffer.from(sm2Signed);
    // the SignerInfo's signature is the P7's last field: flip its last hex digit
    const lastHexDigit = sig!.contentsRange[0] + sig!.contents.length * 2;
    bad.write(bad[lastHexDigit] === 0x30 ? '1' : '0', lastHexDigit, 'latin1');
    const r = await verifyPdf(bad, { trustedCertificates: [sm2.caCert], sealInfo: lookup(sm2) });
    assert.equal(r.verifyResult, false);
    assert.deepEqual(step(r, 1), { step: '签名值验证', hint: '签名值无效', status: 0 });
    assert.equal(step(r, 0).status, 1);
  });

  it('fails the certificate step for an untrusted CA', async () => {
    const r = await verifyPdf(sm2Signed, {
      trustedCertificates: [rsa.caCert],
      sealInfo: lookup(sm2),
    });
    assert.equal(r.verifyResult, false);
    assert.deepEqual(statuses(r), [[1, 1, 0, 1]]);
    assert.equal(step(r, 2).hint, '证书不是由受信任的机构签发');
    const none = await verifyPdf(sm2Signed, { trustedCertificates: [], sealInfo: lookup(sm2) });
    assert.equal(none.details[0]!.flowVoList[2]!.status, 0);
  });

  it('fails the certificate step for an expired certificate', async () => {
    const pki = await testPki('sm2', {
      notBefore: new Date('2020-01-01T00:00:00Z'),
      notAfter: new Date('2021-01-01T00:00:00Z'),
    });
    const { signed } = await signPdf(pdf, pki);
    const r = await verifyPdf(signed, { trustedCertificates: [pki.caCert], sealInfo: lookup(pki) });
    assert.equal(r.verifyResult, false);
    assert.deepEqual(step(r, 2), { step: '证书验证', hint: '签章时间不在证书有效期内', status: 0 });
    assert.equal(r.details[0]!.certValidEnd, '2021-01-01 08:00:00');
  });

  it('fails the certificate step when the key usage does not allow signing', async () => {
    const pki = await testPki('rsa', { keyUsage: ['keyEncipherment'] });
    const { signed } = await signPdf(pdf, pki);
    const r = await verifyPdf(signed, { trustedCertificates: [pki.caCert], sealInfo: lookup(pki) });
    assert.equal(step(r, 2).hint, '证书用途不允许数字签名');
    assert.equal(r.verifyResult, false);
  });

  it('fails the seal step for a suspended or unknown seal', async () => {
    const suspended = await verifyPdf(sm2Signed, {
      trustedCertificates: [sm2.caCert],
      sealInfo: lookup(sm2, 4),
    });
    assert.equal(suspended.verifyResult, false);
    assert.deepEqual(statuses(suspended), [[1, 1, 1, 0]]);
    assert.equal(step(suspended, 3).hint, '印章已挂起');
    assert.equal(suspended.details[0]!.sealCode, '11010000000001');

    const noLookup = await verifyPdf(sm2Signed, { trustedCertificates: [sm2.caCert] });
    assert.deepEqual(step(noLookup, 3), {
      step: '印章状态验证',
      hint: '印章未在平台登记',
      status: 0,
    });
    assert.equal(noLookup.details[0]!.sealCode, '');
    const unknown = await verifyPdf(sm2Signed, {
      trustedCertificates: [sm2.caCert],
      sealInfo: lookup(rsa),
    });
    assert.equal(step(unknown, 3).hint, '印章未在平台登记');
    assert.equal(unknown.verifyResult, false);
  });

  it('answers 1001 for a non-PDF and signCount 0 / verifyResult false for an unsigned PDF', async () => {
    await assert.rejects(
      verifyPdf(Buffer.from('<html>not a pdf</html>'), { trustedCertificates: [sm2.caCert] }),
      (e) => codeOf(e) === '1001' && (e as Error).message === 'the file is not a PDF',
    );
    const r = await verifyPdf(pdf, { trustedCertificates: [sm2.caCert] });
    assert.deepEqual(r, {
      fileName: '',
      fileSize: pdf.length,
      signCount: 0,
      verifyResult: false,
      details: [],
    });
  });

  it('reports an unreadable P7 as failed steps, not an exception', async () => {
    const { signed } = await signPdf(pdf, sm2);
    const [sig] = extractPdfSignatures(signed);
    const junk = Buffer.from(signed);
    junk.write('31', sig!.contentsRange[0] + 1, 'latin1'); // a SET, not a ContentInfo
    const r = await verifyPdf(junk, { trustedCertificates: [sm2.caCert], sealInfo: lookup(sm2) });
    assert.equal(r.signCount, 1);
    assert.equal(r.verifyResult, false);
    assert.deepEqual(statuses(r), [[0, 0, 0, 0]]);
    assert.equal(step(r, 0).hint, '签名数据无法解析');
  });
});
