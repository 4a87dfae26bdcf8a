import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { PDFDocument, StandardFonts } from '@cantoo/pdf-lib';
import { buildDetachedSignedData } from '../../main/core/pki/cms';
import {
  preparePdfForSignature,
  digestForSignature,
  embedSignature,
} from '../../main/core/pdf/prepare';
import { demoSealPng } from '../../main/core/demo/seal-image';
import { startWorld } from '../helpers/agent-harness';
import type { World } from '../helpers/agent-harness';

/** A one-page contract PDF made with pdf-lib. */
async function contractPdf(): Promise<Buffer> {
  const doc = await PDFDocument.create();
  const page = doc.addPage([595, 842]);
  const font = await doc.embedFont(StandardFonts.Helvetica);
  page.drawText('Contract No. 2026-001 - signed with an SM2 UKey', {
    x: 50,
    y: 780,
    size: 14,
    font,
  });
  return Buffer.from(await doc.save({ useObjectStreams: false }));
}

describe('documents/verify of a PDF sealed through the SM2 software UKey', () => {
  let w: World;
  const ukeyId = 'SUKDEMO0001';

  before(async () => {
    w = await startWorld({ pollIntervalMs: 0 });
    w.platform.trustCa(readFileSync(w.pki.sm2CaCert, 'utf8'));
  });
  after(() => w.close());

  async function sealedPdf(): Promise<Buffer> {
    const prepared = await preparePdfForSignature(await contractPdf(), {
      sealImagePng: demoSealPng(),
      reason: '合同签章',
      name: '张三',
      rect: [400, 80, 520, 200],
    });
    const digest = digestForSignature(prepared.pdf, prepared.byteRange, 'sm3');
    const cert = await w.tokens.certificateFor(ukeyId, 'sign');
    const signer = await w.tokens.provider(
      ukeyId,
      { certSerial: cert.info.serialNumberHex },
      'seal the contract',
    );
    const p7 = await buildDetachedSignedData({
      messageDigest: digest,
      hash: 'sm3',
      signer,
      signerCertificate: cert.der,
    });
    return embedSignature(prepared.pdf, prepared.byteRange, p7);
  }

  it('answers verified, every step passing, with the seal the platform filed for the key', async () => {
    const pdf = await sealedPdf();
    const r = await w.webapp.client.verifyDocument(pdf, 'contract.pdf');
    assert.equal(r.signCount, 1);
    assert.equal(r.verifyResult, true, JSON.stringify(r.details, null, 1));
    const d = r.details[0]!;
    assert.equal(d.sealCode, w.seals[ukeyId]);
    assert.ok(d.flowVoList.length >= 4);
    assert.ok(d.flowVoList.every((s) => s.status === 1));
  });

  it('a tampered copy fails the document-integrity step', async () => {
    const pdf = await sealedPdf();
    // Change one byte of the binary comment on the header's second line: still a readable PDF,
    // but no longer the bytes that were signed.
    const at = pdf.indexOf(Buffer.from('\n%')) + 2;
    assert.ok(at > 2 && at < 32);
    pdf[at] = pdf[at]! ^ 0x01;
    const r = await w.webapp.client.verifyDocument(pdf, 'contract.pdf');
    assert.equal(r.verifyResult, false);
    const integrity = r.details[0]!.flowVoList[0]!;
    assert.equal(integrity.status, 0, JSON.stringify(r.details[0]!.flowVoList));
  });
});
