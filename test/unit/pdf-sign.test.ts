import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PDFDict, PDFDocument, PDFName, PDFRawStream, PDFRef } from '@cantoo/pdf-lib';
import { AgentError } from '../../main/common/errors';
import { sm3 } from '../../main/core/crypto/sm3';
import { extractPdfSignatures } from '../../main/core/pdf/extract';
import {
  digestForSignature,
  embedSignature,
  preparePdfForSignature,
  signedBytes,
} from '../../main/core/pdf/prepare';
import { verifyPdf } from '../../main/core/pdf/verify';
import { samplePdf, sealPng, signPdf, testPki } from '../helpers/pdf-fixtures';
import type { TestPki } from '../helpers/pdf-fixtures';

const codeOf = (e: unknown): string => (e instanceof AgentError ? e.code : String(e));
const enabled = async (): Promise<{
  sealCode: string;
  sealName: string;
  sealType: string;
  state: number;
}> => ({
  sealCode: 'S1',
  sealName: '合同专用章',
  sealType: '2',
  state: 1,
});

/** The first widget annotation of page 1, looked up through pdf-lib. */
async function widgetOf(pdf: Buffer): Promise<{ doc: PDFDocument; widget: PDFDict }> {
  const doc = await PDFDocument.load(pdf);
  const annots = doc.getPages()[0]!.node.Annots();
  assert.ok(annots, 'page 1 has annotations');
  const widget = doc.context.lookup(annots.get(annots.size() - 1), PDFDict);
  return { doc, widget };
}

describe('pdf prepare and embed', () => {
  let pki: TestPki;
  let pdf: Buffer;
  before(async () => {
    pki = await testPki('sm2');
    pdf = await samplePdf(2);
  });

  it('reserves /Contents and fills a ByteRange that covers everything else', async () => {
    const { pdf: out, byteRange } = await preparePdfForSignature(pdf, { signatureLength: 4096 });
    const [o1, l1, o2, l2] = byteRange;
    assert.equal(o1, 0);
    assert.equal(o2 + l2, out.length);
    assert.equal(out.subarray(l1, o2).toString('latin1'), `<${'0'.repeat(8192)}>`);
    assert.match(out.toString('latin1'), new RegExp(`/ByteRange \\[ 0 ${l1} ${o2} ${l2} +\\]`));
    assert.match(out.toString('latin1'), /\/Filter \/Adobe\.PPKLite/);
    assert.match(out.toString('latin1'), /\/SubFilter \/adbe\.pkcs7\.detached/);
    assert.equal(signedBytes(out, byteRange).length, out.length - 8194);
    assert.deepEqual(
      digestForSignature(out, byteRange, 'sm3'),
      sm3(Buffer.concat([out.subarray(0, l1), out.subarray(o2)])),
    );
    // still a PDF pdf-lib reads, with the signature field in the AcroForm
    const doc = await PDFDocument.load(out);
    assert.equal(doc.getForm().getFields().length, 1);
  });

  it('draws the seal image in the widget appearance', async () => {
    const { pdf: out } = await preparePdfForSignature(pdf, {
      sealImagePng: sealPng(),
      rect: [100, 100, 220, 220],
      page: 2,
    });
    const doc = await PDFDocument.load(out);
    assert.equal(doc.getPages()[0]!.node.Annots()?.size() ?? 0, 0, 'page 1 untouched');
    const annots = doc.getPages()[1]!.node.Annots()!;
    const widget = doc.context.lookup(annots.get(0), PDFDict);
    assert.equal(widget.get(PDFName.of('FT')), PDFName.of('Sig'));
    const ap = widget.lookup(PDFName.of('AP'), PDFDict);
    const normal = ap.lookup(PDFName.of('N'));
    assert.ok(normal instanceof PDFRawStream, 'the appearance is a stream');
    const xobjects = normal.dict
      .lookup(PDFName.of('Resources'), PDFDict)
      .lookup(PDFName.of('XObject'), PDFDict);
    const image = xobjects.lookup(PDFName.of('Seal'));
    assert.ok(image instanceof PDFRawStream, 'the seal is an XObject stream');
    assert.equal(image.dict.get(PDFName.of('Subtype')), PDFName.of('Image'));
    assert.equal(image.dict.lookup(PDFName.of('Width'))?.toString(), '64');
    assert.match(Buffer.from(normal.contents).toString('latin1'), /\/Seal Do/);
    assert.equal(widget.lookup(PDFName.of('Rect'))?.toString(), '[ 100 100 220 220 ]');
  });

  it('puts the P7 in /Contents without moving a byte, and extract finds it', async () => {
    const signingTime = new Date('2026-01-02T03:04:05Z');
    const { signed, prepared, cms } = await signPdf(pdf, pki, {
      name: '张三',
      reason: '同意',
      location: '北京',
      signingTime,
    });
    assert.equal(signed.length, prepared.pdf.length);
    const [sig, ...rest] = extractPdfSignatures(signed);
    assert.equal(rest.length, 0);
    assert.ok(sig);
    assert.deepEqual(sig.contents, cms);
    assert.deepEqual(sig.byteRange, prepared.byteRange);
    assert.equal(sig.subFilter, 'adbe.pkcs7.detached');
    assert.equal(sig.filter, 'Adobe.PPKLite');
    assert.equal(sig.name, '张三');
    assert.equal(sig.reason, '同意');
    assert.equal(sig.location, '北京');
    assert.equal(sig.signingTime?.toISOString(), signingTime.toISOString());
    assert.equal(sig.coversWholeFile, true);
  });

  it('refuses a CMS larger than the placeholder, and a filled placeholder, with 1001', async () => {
    const prepared = await preparePdfForSignature(pdf, { signatureLength: 64 });
    assert.throws(
      () => embedSignature(prepared.pdf, prepared.byteRange, Buffer.alloc(65, 1)),
      (e) => codeOf(e) === '1001' && /does not fit/.test((e as Error).message),
    );
    const filled = embedSignature(prepared.pdf, prepared.byteRange, Buffer.alloc(64, 0xab));
    assert.match(filled.toString('latin1'), new RegExp(`<${'AB'.repeat(64)}>`));
    assert.throws(
      () => embedSignature(filled, prepared.byteRange, Buffer.alloc(8, 1)),
      (e) => codeOf(e) === '1001',
    );
  });

  it('answers 1001 for bad input', async () => {
    await assert.rejects(preparePdfForSignature(Buffer.from('hello')), (e) => codeOf(e) === '1001');
    await assert.rejects(preparePdfForSignature(pdf, { page: 3 }), (e) => codeOf(e) === '1001');
    await assert.rejects(preparePdfForSignature(pdf, { page: 0 }), (e) => codeOf(e) === '1001');
    await assert.rejects(
      preparePdfForSignature(pdf, { sealImagePng: Buffer.from('not a png') }),
      (e) => codeOf(e) === '1001',
    );
    await assert.rejects(
      preparePdfForSignature(pdf, { signatureLength: 0 }),
      (e) => codeOf(e) === '1001',
    );
  });

  it('signs an already signed PDF incrementally, keeping the first signature valid', async () => {
    const first = await signPdf(pdf, pki, { sealImagePng: sealPng() });
    const second = await signPdf(first.signed, pki, {
      sealImagePng: sealPng(),
      rect: [50, 300, 170, 420],
    });
    // the first signed file is an untouched prefix of the second
    assert.deepEqual(second.signed.subarray(0, first.signed.length), first.signed);
    const sigs = extractPdfSignatures(second.signed);
    assert.equal(sigs.length, 2);
    assert.deepEqual(sigs[0]!.contents, first.cms);
    assert.equal(sigs[0]!.coversWholeFile, false);
    assert.equal(sigs[0]!.coversRevision, true);
    assert.equal(sigs[1]!.coversWholeFile, true);

    const result = await verifyPdf(second.signed, {
      trustedCertificates: [pki.caCert],
      sealInfo: enabled,
    });
    assert.equal(result.signCount, 2);
    assert.deepEqual(
      result.details.map((d) => d.flowVoList.map((s) => s.status)),
      [
        [1, 1, 1, 1],
        [1, 1, 1, 1],
      ],
    );
    assert.equal(result.verifyResult, true);
    assert.equal(
      result.details[0]!.flowVoList[0]!.hint,
      '签章覆盖其签署时的文档版本，之后的内容由后续签章覆盖',
    );

    // pdf-lib reads the updated file: two signature fields, two widgets on page 1
    const { doc, widget } = await widgetOf(second.signed);
    assert.equal(doc.getForm().getFields().length, 2);
    assert.equal(doc.getPages()[0]!.node.Annots()!.size(), 2);
    assert.ok(widget.get(PDFName.of('V')) instanceof PDFRef);
  });
});

describe('pdf signature extraction', () => {
  it('answers 1001 for a non-PDF and an empty list for an unsigned PDF', async () => {
    assert.throws(
      () => extractPdfSignatures(Buffer.alloc(0)),
      (e) => codeOf(e) === '1001',
    );
    assert.throws(
      () => extractPdfSignatures(Buffer.from('PK\x03\x04 a zip file')),
      (e) => codeOf(e) === '1001' && (e as Error).message === 'the file is not a PDF',
    );
    assert.deepEqual(extractPdfSignatures(await samplePdf()), []);
  });

  it('never throws on junk after the header', () => {
    const junk = [
      '%PDF-1.7\n/ByteRange',
      '%PDF-1.7\n1 0 obj << /ByteRange [0 1 2 3] /Contents <00',
      '%PDF-1.7\n1 0 obj << /ByteRange [0 10 20 999999] /Contents <00> >> endobj',
      '%PDF-1.7\nobj obj obj << << << /ByteRange [ [ [ (((',
      '%PDF-1.7\n1 0 obj ' + '['.repeat(5000) + '/ByteRange',
    ];
    for (const j of junk) assert.deepEqual(extractPdfSignatures(Buffer.from(j, 'latin1')), []);
  });

  it('reads a signature dictionary written by another tool (literal strings, other key order)', () => {
    const head = '%PDF-1.4\n7 0 obj\n<</Type/Sig/Contents ';
    const contents = `<${Buffer.from([0x30, 0x03, 0x02, 0x01, 0x05]).toString('hex')}000000>`;
    const tail = (br: string): string =>
      `/M(D:20240102080000+08'00')/Reason(Approved \\(final\\))/SubFilter/ETSI.CAdES.detached/ByteRange${br}>>\nendobj\n%%EOF\n`;
    const start = head.length;
    const end = start + contents.length;
    // the ByteRange text has the same width in both passes
    const probe = head + contents + tail('[0 0000 0000 0000]');
    const br = `[0 ${String(start).padStart(4, '0')} ${String(end).padStart(4, '0')} ${String(probe.length - end).padStart(4, '0')}]`;
    const file = Buffer.from(head + contents + tail(br), 'latin1');
    const [sig] = extractPdfSignatures(file);
    assert.ok(sig);
    assert.deepEqual(sig.contents, Buffer.from([0x30, 0x03, 0x02, 0x01, 0x05]));
    assert.equal(sig.reason, 'Approved (final)');
    assert.equal(sig.subFilter, 'ETSI.CAdES.detached');
    assert.equal(sig.signingTime?.toISOString(), '2024-01-02T00:00:00.000Z');
    assert.equal(sig.coversWholeFile, true);
  });
});
