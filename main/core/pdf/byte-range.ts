// The /ByteRange of a PDF signature: what the signature covers (everything except the /Contents
// hex string), and putting the CMS into that string once it is made.
import { badParam } from '../../common/errors';
import { digest } from '../pki/algorithms';
import type { HashName } from '../pki/signer';

/** [offset1, length1, offset2, length2]: the two signed runs of bytes. */
export type ByteRange = [number, number, number, number];

/** Whether the two runs are well-formed and inside a file of `size` bytes. */
export function byteRangeFits(br: readonly number[], size: number): br is ByteRange {
  if (br.length !== 4 || !br.every((n) => Number.isSafeInteger(n) && n >= 0)) return false;
  const [o1, l1, o2, l2] = br as ByteRange;
  return o1 + l1 <= o2 && o2 + l2 <= size;
}

/** The bytes the signature covers: both runs, concatenated. */
export function signedBytes(pdf: Uint8Array, byteRange: ByteRange): Buffer {
  if (!byteRangeFits(byteRange, pdf.length))
    throw badParam('the ByteRange does not fit inside the file');
  const [o1, l1, o2, l2] = byteRange;
  const b = Buffer.from(pdf.buffer, pdf.byteOffset, pdf.length);
  return Buffer.concat([b.subarray(o1, o1 + l1), b.subarray(o2, o2 + l2)]);
}

/** The digest a P7 signs as its messageDigest (the JSAPI's docHash for this PDF). */
export function digestForSignature(pdf: Uint8Array, byteRange: ByteRange, hash: HashName): Buffer {
  return digest(hash, signedBytes(pdf, byteRange));
}

/**
 * The prepared PDF with `cms` written as hex into the /Contents placeholder the ByteRange leaves
 * out (zero-padded, so no offset moves). 1001 if the CMS does not fit or the gap is not an empty
 * placeholder.
 */
export function embedSignature(prepared: Buffer, byteRange: ByteRange, cms: Buffer): Buffer {
  if (!byteRangeFits(byteRange, prepared.length))
    throw badParam('the ByteRange does not fit inside the file');
  const [, start, end] = byteRange;
  const gap = prepared.subarray(start, end);
  const hexLength = gap.length - 2;
  const isPlaceholder =
    gap[0] === 0x3c &&
    gap[gap.length - 1] === 0x3e &&
    hexLength > 0 &&
    gap.subarray(1, -1).every((c) => c === 0x30);
  if (!isPlaceholder) throw badParam('the ByteRange gap is not an empty /Contents placeholder');
  if (cms.length === 0) throw badParam('the signature is empty');
  if (cms.length * 2 > hexLength)
    throw badParam(
      `the signature (${cms.length} bytes) does not fit the ${hexLength / 2} bytes reserved for it`,
    );
  const out = Buffer.from(prepared);
  out.write(cms.toString('hex').toUpperCase(), start + 1, 'latin1');
  return out;
}
