// Small glue between Node Buffers and @peculiar/asn1-schema, shared by the PKI modules.
import { AsnAnyConverter, AsnConvert } from '@peculiar/asn1-schema';
import { badParam } from '../../common/errors';

export type AnyBytes = ArrayBuffer | ArrayBufferView;

export const toBuffer = (b: AnyBytes): Buffer =>
  b instanceof ArrayBuffer ? Buffer.from(b) : Buffer.from(b.buffer, b.byteOffset, b.byteLength);

/** A fresh ArrayBuffer holding exactly these bytes (Buffers may share a larger pool). */
export const toArrayBuffer = (b: Uint8Array): ArrayBuffer => {
  const out = new ArrayBuffer(b.length);
  new Uint8Array(out).set(b);
  return out;
};

export const serialize = (obj: unknown): Buffer => Buffer.from(AsnConvert.serialize(obj));

/** Parses DER into `type`; anything malformed (or trailing garbage) becomes BAD_PARAM. */
export function parseDer<T>(der: Uint8Array, type: new () => T, what: string): T {
  let value: T;
  try {
    value = AsnConvert.parse(Buffer.from(der), type);
  } catch {
    throw badParam(`${what} is not valid DER`);
  }
  if (rawLength(der) !== der.length) throw badParam(`${what} has trailing data`);
  return value;
}

/**
 * The first TLV of `der` when what follows it is only zero padding (some PKCS #11 modules answer
 * CKA_VALUE in a fixed-size buffer); otherwise `der` unchanged, for parseDer to judge.
 */
export function stripZeroPadding(der: Uint8Array): Buffer {
  const b = Buffer.from(der);
  const n = rawLength(b);
  if (n > 0 && n < b.length && b.subarray(n).every((x) => x === 0)) return b.subarray(0, n);
  return b;
}

/** Length of the first TLV, via the same ASN.1 decoder (so we never count length octets by hand). */
function rawLength(der: Uint8Array): number {
  try {
    return AsnAnyConverter.fromASN(AsnAnyConverter.toASN(toArrayBuffer(der)))?.byteLength ?? 0;
  } catch {
    return -1;
  }
}

/**
 * `parsed` made to serialise as exactly `der`. Re-encoding a parsed structure can change its bytes
 * (an explicit DEFAULT FALSE, say), which would break the signature over a certificate or the match
 * of an issuer name; embedding the caller's bytes avoids that.
 */
export function preEncoded<T extends object>(der: Uint8Array, type: new () => T, what: string): T {
  const parsed = parseDer(der, type, what);
  const block = AsnAnyConverter.toASN(toArrayBuffer(der));
  if (!Buffer.from(AsnConvert.serialize(block)).equals(Buffer.from(der)))
    throw badParam(`${what} is not DER and cannot be embedded unchanged`);
  return Object.assign(parsed, {
    toASN: () => block,
    fromASN: () => {
      throw new Error('pre-encoded values are write-only');
    },
  });
}

/**
 * The exact encodings of the elements inside a constructed value (a SEQUENCE, a SET, or an IMPLICIT
 * [n] wrapping one), so fields can be reused without re-encoding them.
 */
export function childElements(der: Uint8Array, what: string): Buffer[] {
  let block: { valueBlock?: { value?: unknown } };
  try {
    block = AsnAnyConverter.toASN(toArrayBuffer(der)) as typeof block;
  } catch {
    throw badParam(`${what} is not valid DER`);
  }
  const items = block.valueBlock?.value;
  if (((der[0] ?? 0) & 0x20) === 0 || !Array.isArray(items))
    throw badParam(`${what} is not a constructed value`);
  return items.map((it: { valueBeforeDecodeView: Uint8Array }) =>
    Buffer.from(it.valueBeforeDecodeView),
  );
}

export function sequenceElements(der: Uint8Array, what: string): Buffer[] {
  if (der[0] !== 0x30) throw badParam(`${what} is not a SEQUENCE`);
  return childElements(der, what);
}

/** INTEGER content octets for an unsigned big-endian number (minimal, with a 00 sign octet if needed). */
export function unsignedInteger(bytes: Uint8Array): ArrayBuffer {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  let v = Buffer.from(bytes.subarray(i));
  if (v.length === 0) v = Buffer.from([0]);
  if (v[0]! & 0x80) v = Buffer.concat([Buffer.from([0]), v]);
  return toArrayBuffer(v);
}

/** The magnitude of an INTEGER's content octets (sign octet dropped). */
export function integerMagnitude(content: AnyBytes): Buffer {
  const b = toBuffer(content);
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  return Buffer.from(b.subarray(i));
}
