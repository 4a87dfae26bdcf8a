// documents/verify (seed 004 §6.4, tables 24–28) over real HTTP: multipart upload, signed with the
// file's SM3 in the canonical string; verification by verifyPdf with the platform's trusted CAs
// and its seal records.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AgentError } from '../../main/common/errors';
import { sm3HexOf } from '../../main/core/crypto/sm3';
import { parseCertificate } from '../../main/core/pki/certificate';
import { signRequest } from '../../main/core/platform/canonical';
import { PLATFORM_PATHS } from '../../main/core/platform/types';
import { samplePdf, signPdf, testPki } from '../helpers/pdf-fixtures';
import type { TestPki } from '../helpers/pdf-fixtures';
import { startFixture, ukeySealFiling } from '../platform/fixture';
import type { Fixture } from '../platform/fixture';

let fx: Fixture;
let pki: TestPki;
let signed: Buffer;
before(async () => {
  fx = await startFixture({ maxUploadBytes: 256 * 1024 });
  pki = await testPki('sm2');
  fx.platform.trustCa(pki.caCert);
  signed = (await signPdf(await samplePdf(), pki)).signed;
});
after(async () => {
  assert.deepEqual(fx.internalErrors, []);
  await fx.close();
});

/** A multipart body by hand, so tests can also break it. */
function multipart(
  fields: Record<string, string | number>,
  file: Buffer | undefined,
  boundary = 'testboundary123',
): { body: Buffer; contentType: string } {
  const parts: Buffer[] = [];
  for (const [k, v] of Object.entries(fields))
    parts.push(
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`),
    );
  if (file)
    parts.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\nContent-Type: application/pdf\r\n\r\n`,
      ),
      file,
      Buffer.from('\r\n'),
    );
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(parts), contentType: `multipart/form-data; boundary=${boundary}` };
}

async function signedFields(file: Buffer): Promise<Record<string, string | number>> {
  const fields = {
    version: '1.0',
    appId: fx.sm2.appId,
    time: String(Date.now()),
    nonce: Math.floor(Math.random() * 99_999_999),
    file: sm3HexOf(file),
  };
  const { file: _hash, ...rest } = await signRequest(fields, fx.sm2.signer);
  return rest;
}

describe('documents/verify', () => {
  it('verifies a signed PDF and names its seal (tables 26–28)', async () => {
    const cert = parseCertificate(pki.cert);
    const sealCode = await fx.sm2.client.fileSeal(
      ukeySealFiling({ certNumber: undefined, signPublicKey: pki.cert.toString('base64') }),
    );
    const r = await fx.sm2.client.verifyDocument(signed, '合同.pdf');
    assert.equal(r.fileName, '合同.pdf');
    assert.equal(r.fileSize, signed.length);
    assert.equal(r.signCount, 1);
    assert.equal(r.verifyResult, true, JSON.stringify(r.details));
    const [d] = r.details;
    assert.equal(d!.sealCode, sealCode);
    assert.equal(d!.certSn, cert.serialNumberHex);
    assert.equal(d!.provider, '甲印章系统');
    assert.equal(d!.flowVoList.length, 4);
    assert.ok(d!.flowVoList.every((s) => s.status === 1));
  });

  it('fails the integrity step of a tampered copy', async () => {
    const tampered = Buffer.from(signed);
    const at = tampered.indexOf('/Type /Page') + 1;
    tampered[at] = tampered[at] === 0x54 ? 0x55 : 0x54;
    const r = await fx.sm2.client.verifyDocument(tampered, 'x.pdf');
    assert.equal(r.verifyResult, false);
    assert.equal(r.details[0]!.flowVoList[0]!.status, 0);
  });

  it('does not trust a CA it was not given', async () => {
    const stranger = await testPki('sm2');
    const other = (await signPdf(await samplePdf(), stranger)).signed;
    const r = await fx.sm2.client.verifyDocument(other, 'x.pdf');
    assert.equal(r.verifyResult, false);
    assert.ok(r.details[0]!.flowVoList.some((s) => s.status === 0 && /受信任/.test(s.hint)));
  });

  it('answers 1001 for a non-PDF, broken multipart, a missing file or a bad file hash', async () => {
    await assert.rejects(
      fx.sm2.client.verifyDocument(Buffer.from('hello, not a pdf'), 'a.txt'),
      (e) => {
        assert.ok(e instanceof AgentError);
        assert.equal(e.code, '1001');
        return true;
      },
    );
    const path = PLATFORM_PATHS.documentsVerify;
    const broken = await fx.post(path, '--x\r\ngarbage', 'multipart/form-data; boundary=x');
    assert.equal(broken.status, 400);
    assert.equal(broken.json.code, '1001');
    const noBoundary = await fx.post(path, 'abc', 'multipart/form-data');
    assert.equal(noBoundary.json.code, '1001');
    const json = await fx.post(path, '{}', 'application/json');
    assert.equal(json.json.code, '1001');

    const fields = await signedFields(signed);
    const missing = multipart(fields, undefined);
    const m = await fx.post(path, missing.body, missing.contentType);
    assert.equal(m.json.code, '1001');
    assert.match(m.json.message, /file/);

    // Signed over one file, sent with another: the SM3 in the canonical string differs.
    const swapped = multipart(fields, Buffer.concat([signed, Buffer.from('\n')]));
    const s = await fx.post(path, swapped.body, swapped.contentType);
    assert.equal(s.json.code, '1002');

    const ok = multipart(await signedFields(signed), signed);
    const good = await fx.post(path, ok.body, ok.contentType);
    assert.equal(good.json.code, '0', good.json.message);
  });

  it('refuses an upload over the size limit with 1001 (HTTP 413)', async () => {
    const big = Buffer.concat([signed, Buffer.alloc(300 * 1024, 0x20)]);
    const req = multipart(await signedFields(big), big);
    const r = await fx.post(PLATFORM_PATHS.documentsVerify, req.body, req.contentType);
    assert.equal(r.status, 413);
    assert.equal(r.json.code, '1001');
  });
});
