// Adds a signature field to a pdf-lib document: the /Sig dictionary with its placeholders, the
// widget annotation (with the seal image as its appearance) on the page, and the AcroForm entry.
import { PDFHexString, PDFName, PDFNumber, PDFString } from '@cantoo/pdf-lib';
import type { PDFDocument, PDFImage, PDFRef } from '@cantoo/pdf-lib';
import { badParam } from '../../common/errors';

export type Rect = [number, number, number, number];

export interface SignatureFieldOptions {
  /** Bytes reserved for the CMS in /Contents. */
  signatureLength: number;
  reason?: string;
  name?: string;
  location?: string;
  signingTime: Date;
  /** 1-based page number. */
  page: number;
  rect?: Rect;
  sealImagePng?: Uint8Array;
}

/**
 * The ByteRange written first: 10-digit numbers, so the real offsets (files under 10 GB) fit
 * the same width and filling them in moves no byte.
 */
export const BYTE_RANGE_PLACEHOLDER = 9_999_999_999;
/** Default seal size (points, ~42 mm: a common round official seal) at the page's lower right. */
const SEAL_SIZE = 120;
const MARGIN = 50;

/** Adds the field; answers the /Sig dictionary's reference. */
export async function addSignatureField(
  doc: PDFDocument,
  opts: SignatureFieldOptions,
): Promise<PDFRef> {
  const ctx = doc.context;
  const pages = doc.getPages();
  const page = pages[opts.page - 1];
  if (!Number.isInteger(opts.page) || !page)
    throw badParam(`page must be between 1 and ${pages.length}`);

  let image: PDFImage | undefined;
  if (opts.sealImagePng) {
    try {
      image = await doc.embedPng(opts.sealImagePng);
    } catch {
      throw badParam('sealImagePng is not a PNG image');
    }
  }
  const { width } = page.getSize();
  const rect = normaliseRect(
    opts.rect ??
      (image
        ? [width - MARGIN - SEAL_SIZE, MARGIN, width - MARGIN, MARGIN + SEAL_SIZE]
        : [0, 0, 0, 0]),
  );

  const sig = ctx.obj({
    Type: 'Sig',
    Filter: 'Adobe.PPKLite',
    SubFilter: 'adbe.pkcs7.detached',
    ByteRange: [0, BYTE_RANGE_PLACEHOLDER, BYTE_RANGE_PLACEHOLDER, BYTE_RANGE_PLACEHOLDER],
    Contents: PDFHexString.of('0'.repeat(opts.signatureLength * 2)),
    M: PDFString.fromDate(opts.signingTime),
  });
  if (opts.name) sig.set(PDFName.of('Name'), PDFHexString.fromText(opts.name));
  if (opts.reason) sig.set(PDFName.of('Reason'), PDFHexString.fromText(opts.reason));
  if (opts.location) sig.set(PDFName.of('Location'), PDFHexString.fromText(opts.location));
  const sigRef = ctx.register(sig);

  const acroForm = doc.catalog.getOrCreateAcroForm();
  const fieldNumber = (acroForm.Fields()?.size() ?? 0) + 1;
  const widgetRef = ctx.register(
    ctx.obj({
      Type: 'Annot',
      Subtype: 'Widget',
      FT: 'Sig',
      T: PDFHexString.fromText(`Signature${fieldNumber}`),
      V: sigRef,
      Rect: rect,
      // Print (4) + Locked (128): the seal prints and cannot be moved in a viewer.
      F: 132,
      P: page.ref,
      AP: { N: appearance(doc, rect, image) },
    }),
  );
  // Not page.node.addAnnot: pdf-lib's normalisation would rewrite the page's content streams.
  const annots = page.node.Annots();
  if (annots) annots.push(widgetRef);
  else page.node.set(PDFName.of('Annots'), ctx.obj([widgetRef]));
  acroForm.addField(widgetRef);
  // SignaturesExist (1) + AppendOnly (2): viewers must save later changes incrementally.
  acroForm.dict.set(PDFName.of('SigFlags'), PDFNumber.of(3));
  return sigRef;
}

/** The widget's normal appearance: the seal image fitted (aspect kept) and centred in the box. */
function appearance(doc: PDFDocument, rect: Rect, image: PDFImage | undefined): PDFRef {
  const w = rect[2] - rect[0];
  const h = rect[3] - rect[1];
  let content = '';
  const resources = doc.context.obj({});
  if (image && w > 0 && h > 0) {
    const scale = Math.min(w / image.width, h / image.height);
    const [iw, ih] = [image.width * scale, image.height * scale];
    const [dx, dy] = [(w - iw) / 2, (h - ih) / 2];
    content = `q ${num(iw)} 0 0 ${num(ih)} ${num(dx)} ${num(dy)} cm /Seal Do Q`;
    resources.set(PDFName.of('XObject'), doc.context.obj({ Seal: image.ref }));
  }
  const stream = doc.context.stream(content, {
    Type: 'XObject',
    Subtype: 'Form',
    BBox: [0, 0, w, h],
    Resources: resources,
  });
  return doc.context.register(stream);
}

const num = (n: number): string => String(Math.round(n * 1000) / 1000);

function normaliseRect(r: Rect): Rect {
  if (r.length !== 4 || !r.every((n) => Number.isFinite(n)))
    throw badParam('rect must be four finite numbers [x1, y1, x2, y2]');
  return [Math.min(r[0], r[2]), Math.min(r[1], r[3]), Math.max(r[0], r[2]), Math.max(r[1], r[3])];
}
