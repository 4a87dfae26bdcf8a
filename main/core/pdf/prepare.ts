// Step one of signing a PDF: a copy with an empty signature (its /Contents reserved and its
// /ByteRange filled in), whose ByteRange digest the key then signs as a P7 (see docs/PDF.md).
import { PDFDocument } from '@cantoo/pdf-lib';
import { ResultCode } from '../../common/codes';
import { AgentError, badParam } from '../../common/errors';
import type { ByteRange } from './byte-range';
import { assertPdf, extractPdfSignatures } from './extract';
import { BYTE_RANGE_PLACEHOLDER, addSignatureField } from './field';
import type { Rect } from './field';
import { appendIncrementalUpdate, snapshotObjects } from './incremental';

export { digestForSignature, embedSignature, signedBytes } from './byte-range';
export type { ByteRange } from './byte-range';

export interface PrepareOptions {
  /** Bytes reserved for the CMS (default 16384: an SM2 or RSA-2048 P7 with a short chain). */
  signatureLength?: number;
  reason?: string;
  name?: string;
  location?: string;
  /** /M; default now. */
  signingTime?: Date;
  /** 1-based page number, default 1. */
  page?: number;
  /** Widget rectangle in PDF points; default the page's lower right with an image, else hidden. */
  rect?: Rect;
  /** Seal image drawn in the widget's appearance. */
  sealImagePng?: Uint8Array;
}

export interface PreparedPdf {
  pdf: Buffer;
  byteRange: ByteRange;
}

const MAX_SIGNATURE_LENGTH = 1 << 20;

/**
 * Adds an empty signature to `pdf`. An unsigned PDF is saved anew (no object streams, so the
 * signature dictionary is plain bytes); an already signed one gets an incremental update, so its
 * earlier signatures stay valid.
 */
export async function preparePdfForSignature(
  pdf: Uint8Array,
  opts: PrepareOptions = {},
): Promise<PreparedPdf> {
  const signatureLength = opts.signatureLength ?? 16384;
  if (
    !Number.isInteger(signatureLength) ||
    signatureLength < 1 ||
    signatureLength > MAX_SIGNATURE_LENGTH
  )
    throw badParam(`signatureLength must be an integer from 1 to ${MAX_SIGNATURE_LENGTH}`);
  assertPdf(pdf);
  const alreadySigned = extractPdfSignatures(pdf).length > 0;

  let doc: PDFDocument;
  try {
    doc = await PDFDocument.load(pdf, { updateMetadata: false, ignoreEncryption: true });
  } catch {
    throw badParam('the PDF cannot be read');
  }
  if (doc.isEncrypted) throw badParam('encrypted PDFs cannot be signed');
  const before = alreadySigned ? snapshotObjects(doc.context) : undefined;

  await addSignatureField(doc, {
    signatureLength,
    signingTime: opts.signingTime ?? new Date(),
    page: opts.page ?? 1,
    ...(opts.rect && { rect: opts.rect }),
    ...(opts.sealImagePng && { sealImagePng: opts.sealImagePng }),
    ...(opts.name && { name: opts.name }),
    ...(opts.reason && { reason: opts.reason }),
    ...(opts.location && { location: opts.location }),
  });

  let out: Buffer;
  if (before) {
    await doc.flush(); // writes the embedded image into the context
    out = appendIncrementalUpdate(pdf, doc.context, before);
  } else {
    out = Buffer.from(await doc.save({ useObjectStreams: false, updateFieldAppearances: false }));
  }
  const byteRange = fillByteRange(out, before ? pdf.length : 0, signatureLength);
  return { pdf: out, byteRange };
}

/**
 * Finds our placeholder (at or after `from`), writes the real ByteRange into it at the same width
 * and answers it.
 */
function fillByteRange(out: Buffer, from: number, signatureLength: number): ByteRange {
  const p = BYTE_RANGE_PLACEHOLDER;
  const placeholder = `/ByteRange [ 0 ${p} ${p} ${p} ]`;
  const at = out.indexOf(placeholder, from, 'latin1');
  if (at < 0 || out.indexOf(placeholder, at + 1, 'latin1') >= 0)
    throw new AgentError(
      ResultCode.INTERNAL,
      'the signature placeholder was not written as expected',
    );
  const contents = `/Contents <${'0'.repeat(signatureLength * 2)}>`;
  const c = out.indexOf(contents, at, 'latin1');
  if (c < 0)
    throw new AgentError(
      ResultCode.INTERNAL,
      'the signature placeholder was not written as expected',
    );
  const start = c + '/Contents '.length;
  const end = start + signatureLength * 2 + 2;
  const byteRange: ByteRange = [0, start, end, out.length - end];
  const filled = `/ByteRange [ ${byteRange.join(' ')}`.padEnd(placeholder.length - 2, ' ') + ' ]';
  out.write(filled, at, 'latin1');
  return byteRange;
}
