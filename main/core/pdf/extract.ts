// Finds the signatures in a PDF by scanning its bytes for signature dictionaries (/ByteRange with
// /Contents). Scanning, not a full parse: a signed file must be readable even when its structure
// is damaged or was altered after signing, and junk must never throw anything but "not a PDF".
import { badParam } from '../../common/errors';
import { stripZeroPadding } from '../pki/asn1';
import { byteRangeFits } from './byte-range';
import type { ByteRange } from './byte-range';
import { decodePdfText, parsePdfDate, parsePdfObject } from './syntax';
import type { PdfValue } from './syntax';

export interface PdfSignature {
  byteRange: ByteRange;
  /** The CMS DER, trailing zero padding stripped. */
  contents: Buffer;
  /** Offsets of the /Contents hex string: its '<' and just past its '>'. */
  contentsRange: [number, number];
  filter?: string;
  subFilter?: string;
  name?: string;
  reason?: string;
  location?: string;
  /** From /M (the signer's claim; the CMS signingTime is what verification uses first). */
  signingTime?: Date;
  /** The ByteRange starts at 0, leaves out exactly /Contents, and runs to the end of the file. */
  coversWholeFile: boolean;
  /** Like coversWholeFile, but ending at a %%EOF (a revision later updated incrementally). */
  coversRevision: boolean;
}

const PDF_HEADER = Buffer.from('%PDF-');
const BYTE_RANGE = Buffer.from('/ByteRange');
const OBJ = Buffer.from('obj');
// How many "obj" keywords back to look for the object holding a /ByteRange.
const OBJ_TRIES = 4;

/** 1001 'the file is not a PDF' unless the header is near the start (§7.5.2 allows junk before). */
export function assertPdf(pdf: Uint8Array): void {
  const head = Buffer.from(pdf.buffer, pdf.byteOffset, Math.min(pdf.length, 1024));
  if (head.indexOf(PDF_HEADER) < 0) throw badParam('the file is not a PDF');
}

/** The file's signatures in the order they were made (by where their ByteRange ends). */
export function extractPdfSignatures(pdf: Uint8Array): PdfSignature[] {
  assertPdf(pdf);
  const bytes = Buffer.from(pdf.buffer, pdf.byteOffset, pdf.length);
  const found = new Map<number, PdfSignature>();
  for (let at = bytes.indexOf(BYTE_RANGE); at >= 0; at = bytes.indexOf(BYTE_RANGE, at + 1)) {
    for (const sig of signaturesAround(bytes, at)) found.set(sig.contentsRange[0], sig);
  }
  return [...found.values()].sort(
    (a, b) => a.byteRange[2] + a.byteRange[3] - (b.byteRange[2] + b.byteRange[3]),
  );
}

/** Signature dictionaries in the indirect object that holds the /ByteRange at `at`. */
function signaturesAround(bytes: Buffer, at: number): PdfSignature[] {
  let from = at;
  for (let i = 0; i < OBJ_TRIES; i++) {
    const obj = bytes.lastIndexOf(OBJ, from);
    if (obj < 0) return [];
    from = obj - 1;
    if (bytes.subarray(Math.max(0, obj - 3), obj).toString('latin1') === 'end') return [];
    // "n g obj": anything else is "obj" inside a string, so keep looking further back.
    const before = bytes.subarray(Math.max(0, obj - 24), obj).toString('latin1');
    if (!/(?:^|[^0-9])\d+[\0\t\n\f\r ]+\d+[\0\t\n\f\r ]*$/.test(before)) continue;
    const value = parsePdfObject(bytes, obj + OBJ.length);
    if (!value) continue;
    const sigs: PdfSignature[] = [];
    collect(value, bytes, sigs);
    if (sigs.length > 0) return sigs;
  }
  return [];
}

/** Signature dictionaries anywhere in `v` (a field may hold its signature dictionary directly). */
function collect(v: PdfValue, bytes: Buffer, out: PdfSignature[]): void {
  if (v.kind === 'array') for (const item of v.items) collect(item, bytes, out);
  if (v.kind !== 'dict') return;
  const sig = signatureOf(v.entries, bytes);
  if (sig) out.push(sig);
  for (const child of v.entries.values()) collect(child, bytes, out);
}

function signatureOf(d: Map<string, PdfValue>, bytes: Buffer): PdfSignature | undefined {
  const br = d.get('ByteRange');
  const contents = d.get('Contents');
  if (br?.kind !== 'array' || contents?.kind !== 'string') return undefined;
  const range = br.items.map((n) => (n.kind === 'number' ? n.value : NaN));
  if (!byteRangeFits(range, bytes.length)) return undefined;
  const [o1, l1, o2, l2] = range;
  const exact = o1 === 0 && l1 === contents.start && o2 === contents.end;
  const end = o2 + l2;
  const sig: PdfSignature = {
    byteRange: range,
    contents: stripZeroPadding(contents.bytes),
    contentsRange: [contents.start, contents.end],
    coversWholeFile: exact && end === bytes.length,
    coversRevision: exact && endsWithEof(bytes.subarray(0, end)),
  };
  const name = (k: string): string | undefined => {
    const v = d.get(k);
    return v?.kind === 'name' ? v.value : undefined;
  };
  const text = (k: string): string | undefined => {
    const v = d.get(k);
    return v?.kind === 'string' ? decodePdfText(v.bytes) : undefined;
  };
  const filter = name('Filter');
  const subFilter = name('SubFilter');
  const signer = text('Name');
  const reason = text('Reason');
  const location = text('Location');
  const m = text('M');
  const signingTime = m === undefined ? undefined : parsePdfDate(m);
  if (filter !== undefined) sig.filter = filter;
  if (subFilter !== undefined) sig.subFilter = subFilter;
  if (signer !== undefined) sig.name = signer;
  if (reason !== undefined) sig.reason = reason;
  if (location !== undefined) sig.location = location;
  if (signingTime) sig.signingTime = signingTime;
  return sig;
}

/** A revision ends with %%EOF and, optionally, an end-of-line (§7.5.5). */
function endsWithEof(b: Buffer): boolean {
  return /%%EOF[\r\n]{0,2}$/.test(b.subarray(Math.max(0, b.length - 8)).toString('latin1'));
}
