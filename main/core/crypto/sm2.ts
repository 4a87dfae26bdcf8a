import { randomBytes } from 'node:crypto';
import { sm2 as smSm2 } from 'sm-crypto-v2';
import { createSm3, sm3 } from './sm3';
import type { GmBackend } from './sm3';
import { nativeSm2, privateHandle, publicHandle } from './sm2-native';

export { sm2Backend, setSm2Backend } from './sm2-native';
export type { Sm2Backend } from './sm2-native';

/** GB/T 32918.5 recommended curve parameters. */
export const SM2_CURVE = {
  p: 0xfffffffeffffffffffffffffffffffffffffffff00000000ffffffffffffffffn,
  a: 0xfffffffeffffffffffffffffffffffffffffffff00000000fffffffffffffffcn,
  b: 0x28e9fa9e9d9f5e344d5a9e4bcf6509a7f39789f515ab8f92ddbcbd414d940e93n,
  n: 0xfffffffeffffffffffffffffffffffff7203df6b21c6052b53bbf40939d54123n,
  gx: 0x32c4ae2c1f1981195f9904466a39c9948fe30bbff2660be1715a4589334c74c7n,
  gy: 0xbc3736a2f4f6779c59bdcee36b692153d0a9877cc62a474002df32e52139f0a0n,
} as const;

/** The default distinguishing ID of GB/T 35276. */
export const SM2_DEFAULT_ID = '1234567812345678';
export const OID_SM2_CURVE = '1.2.156.10197.1.301';
export const OID_SM2_SM3 = '1.2.156.10197.1.501';
export const OID_SM3 = '1.2.156.10197.1.401';
export const OID_EC_PUBLIC_KEY = '1.2.840.10045.2.1';

const to32 = (v: bigint): Buffer => Buffer.from(v.toString(16).padStart(64, '0'), 'hex');
const toBig = (b: Uint8Array): bigint =>
  b.length === 0 ? 0n : BigInt('0x' + Buffer.from(b).toString('hex'));

/** a ‖ b ‖ xG ‖ yG, the curve's part of every Z. */
const CURVE_BYTES = Buffer.concat(
  [SM2_CURVE.a, SM2_CURVE.b, SM2_CURVE.gx, SM2_CURVE.gy].map((v) => to32(v)),
);

/** An SM2 public key as the uncompressed point 04‖x‖y (65 bytes). */
export function normalisePublicPoint(point: Uint8Array): Buffer {
  const p = Buffer.from(point);
  if (p.length === 65 && p[0] === 0x04) return p;
  if (p.length === 64) return Buffer.concat([Buffer.from([4]), p]);
  throw new Error('SM2 public key must be an uncompressed point (65 bytes starting 04)');
}

/** Z = SM3(ENTL ‖ ID ‖ a ‖ b ‖ xG ‖ yG ‖ xA ‖ yA) (GB/T 32918.2 §5.5). */
export function sm2Z(
  publicPoint: Uint8Array,
  id: string | Uint8Array = SM2_DEFAULT_ID,
  backend?: GmBackend,
): Buffer {
  const pub = normalisePublicPoint(publicPoint);
  const idBytes = typeof id === 'string' ? Buffer.from(id, 'utf8') : Buffer.from(id);
  const bits = idBytes.length * 8;
  if (bits > 0xffff) throw new Error('SM2 ID too long');
  return createSm3(backend)
    .update(Buffer.from([(bits >> 8) & 0xff, bits & 0xff]))
    .update(idBytes)
    .update(CURVE_BYTES)
    .update(pub.subarray(1))
    .digest();
}

/** e = SM3(Z ‖ M): what an SM2 UKey signs when driven with CKM_SM2 over a precomputed digest. */
export function sm2E(
  publicPoint: Uint8Array,
  message: Uint8Array,
  id?: string | Uint8Array,
  backend?: GmBackend,
): Buffer {
  return sm3(Buffer.concat([sm2Z(publicPoint, id, backend), Buffer.from(message)]), backend);
}

/** DER SEQUENCE { r, s } from a raw 64-byte r‖s, as vendors differ in which they return. */
export function rawToDer(raw: Uint8Array): Buffer {
  if (raw.length !== 64) throw new Error('raw SM2 signature must be 64 bytes');
  const r = derInteger(raw.subarray(0, 32));
  const s = derInteger(raw.subarray(32));
  // At most 2 × 35 content bytes: the short length form always suffices.
  return Buffer.concat([Buffer.from([0x30, r.length + s.length]), r, s]);
}

/** INTEGER TLV of an unsigned big-endian value: minimal, with a 00 when the top bit is set. */
function derInteger(v: Uint8Array): Buffer {
  let i = 0;
  while (i < v.length - 1 && v[i] === 0) i++;
  const pad = v[i]! & 0x80 ? 1 : 0;
  const out = Buffer.alloc(2 + pad + v.length - i);
  out[0] = 0x02;
  out[1] = pad + v.length - i;
  out.set(v.subarray(i), 2 + pad);
  return out;
}

/**
 * Raw 64-byte r‖s from DER; throws on anything that is not a canonical (minimal, short-form)
 * SEQUENCE of exactly two positive INTEGERs below n.
 */
export function derToRaw(der: Uint8Array): Buffer {
  const d = Buffer.from(der.buffer, der.byteOffset, der.byteLength);
  if (d.length < 8 || d[0] !== 0x30 || d[1] !== d.length - 2)
    throw new Error('SM2 signature is not canonical DER');
  const out = Buffer.alloc(64);
  let at = 2;
  for (const half of [0, 32]) {
    if (at + 2 > d.length || d[at] !== 0x02) throw new Error('SM2 signature is not canonical DER');
    const len = d[at + 1]!;
    const start = at + 2;
    at = start + len;
    if (len === 0 || len > 33 || at > d.length)
      throw new Error('SM2 signature is not canonical DER');
    if (d[start]! & 0x80) throw new Error('SM2 signature out of range'); // negative
    // Minimal: a leading 00 only to keep a set top bit clear.
    if (d[start] === 0 && (len === 1 || !(d[start + 1]! & 0x80)))
      throw new Error('SM2 signature is not canonical DER');
    const value = d.subarray(d[start] === 0 ? start + 1 : start, at);
    if (value.length > 32) throw new Error('SM2 signature out of range');
    out.set(value, half + 32 - value.length);
  }
  if (at !== d.length) throw new Error('SM2 signature is not canonical DER');
  const r = toBig(out.subarray(0, 32));
  const s = toBig(out.subarray(32));
  if (r <= 0n || r >= SM2_CURVE.n || s <= 0n || s >= SM2_CURVE.n)
    throw new Error('SM2 signature out of range');
  return out;
}

/** Either encoding in, DER out (some modules answer raw, some DER). */
export function normaliseSignatureToDer(sig: Uint8Array): Buffer {
  if (sig.length === 64) return rawToDer(sig);
  derToRaw(sig);
  return Buffer.from(sig);
}

/** A software SM2 key: the platform's key, the agent's app identity, the demo CA. Never a UKey's. */
export interface Sm2KeyPair {
  privateKey: Buffer; // 32 bytes d
  publicKey: Buffer; // 65 bytes 04‖x‖y
}

export function generateSm2KeyPair(): Sm2KeyPair {
  for (;;) {
    const d = toBig(randomBytes(32));
    if (d >= 1n && d < SM2_CURVE.n - 1n) return sm2KeyPairFromPrivate(to32(d));
  }
}

export function sm2KeyPairFromPrivate(d: Uint8Array): Sm2KeyPair {
  if (d.length !== 32) throw new Error('SM2 private key must be 32 bytes');
  const native = nativeSm2();
  if (native) return { privateKey: Buffer.from(d), publicKey: native.publicFromPrivate(d) };
  const pubHex = smSm2.getPublicKeyFromPrivateKey(Buffer.from(d).toString('hex'));
  return { privateKey: Buffer.from(d), publicKey: Buffer.from(pubHex, 'hex') };
}

/** Signs a precomputed e (32 bytes); answers DER. */
export function sm2SignDigest(privateKey: Uint8Array, e: Uint8Array): Buffer {
  if (e.length !== 32) throw new Error('SM2 digest must be 32 bytes');
  if (privateKey.length !== 32) throw new Error('SM2 private key must be 32 bytes');
  const native = nativeSm2();
  if (native) return native.signDigest(privateHandle(native, privateKey), e);
  const hex = smSm2.doSignature(Buffer.from(e), Buffer.from(privateKey).toString('hex'), {
    der: true,
    hash: false,
  });
  return Buffer.from(hex, 'hex');
}

/** SM2 with SM3 over a message, default ID unless given; answers DER. */
export function sm2Sign(
  key: Sm2KeyPair,
  message: Uint8Array,
  id?: string,
  backend?: GmBackend,
): Buffer {
  return sm2SignDigest(key.privateKey, sm2E(key.publicKey, message, id, backend));
}

/**
 * sm2Sign off the event loop when the native backend is in use (a busy bridge signs a platform
 * request per call); the JS backend signs in place.
 */
export async function sm2SignAsync(
  key: Sm2KeyPair,
  message: Uint8Array,
  id?: string,
  backend?: GmBackend,
): Promise<Buffer> {
  const native = nativeSm2();
  const e = sm2E(key.publicKey, message, id, backend);
  if (!native) return sm2SignDigest(key.privateKey, e);
  if (key.privateKey.length !== 32) throw new Error('SM2 private key must be 32 bytes');
  return native.signDigestAsync(privateHandle(native, key.privateKey), e);
}

type PrecomputedPoint = ReturnType<typeof smSm2.precomputePublicKey>;
const pointCache = new Map<string, { uses: number; point?: PrecomputedPoint }>();

/**
 * The public key as sm-crypto-v2 verifies with it. A key seen again (an app's, the platform's) is
 * precomputed once (~50 ms) and verifies ~6x faster after; one-off keys are not worth that.
 */
function verifyPoint(pubHex: string): string | PrecomputedPoint {
  let entry = pointCache.get(pubHex);
  if (!entry) {
    if (pointCache.size >= 256) pointCache.delete(pointCache.keys().next().value!);
    entry = { uses: 0 };
    pointCache.set(pubHex, entry);
  }
  entry.uses++;
  if (!entry.point && entry.uses >= 2) entry.point = smSm2.precomputePublicKey(pubHex);
  return entry.point ?? pubHex;
}

export function sm2VerifyDigest(
  publicPoint: Uint8Array,
  e: Uint8Array,
  signature: Uint8Array,
): boolean {
  let raw: Buffer;
  try {
    raw = signature.length === 64 ? Buffer.from(signature) : derToRaw(signature);
    const r = toBig(raw.subarray(0, 32));
    const s = toBig(raw.subarray(32));
    if (r <= 0n || r >= SM2_CURVE.n || s <= 0n || s >= SM2_CURVE.n) return false;
    if (e.length !== 32) return false;
    const native = nativeSm2();
    if (native)
      return native.verifyDigest(publicHandle(native, normalisePublicPoint(publicPoint)), e, raw);
    return smSm2.doVerifySignature(
      Buffer.from(e),
      raw.toString('hex'),
      verifyPoint(normalisePublicPoint(publicPoint).toString('hex')),
      {
        der: false,
        hash: false,
      },
    );
  } catch {
    return false;
  }
}

export function sm2Verify(
  publicPoint: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
  id?: string,
  backend?: GmBackend,
): boolean {
  let e: Buffer;
  try {
    e = sm2E(publicPoint, message, id, backend);
  } catch {
    return false;
  }
  return sm2VerifyDigest(publicPoint, e, signature);
}
