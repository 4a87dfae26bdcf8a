/**
 * Incremental SM3 (GB/T 32905) in plain JS, for runtimes whose crypto has no SM3 (Electron's
 * BoringSSL). sm-crypto-v2 covers one-shot hashing but exposes no streaming hasher, and the relay
 * and audit chain hash data that must not be held in memory whole.
 */
const IV = [
  0x7380166f, 0x4914b2b9, 0x172442d7, 0xda8a0600, 0xa96f30bc, 0x163138aa, 0xe38dee4d, 0xb0fb0e4e,
];

const rotl = (x: number, n: number): number => ((x << (n & 31)) | (x >>> (32 - (n & 31)))) >>> 0;
const T = new Array<number>(64);
for (let j = 0; j < 64; j++) T[j] = rotl(j < 16 ? 0x79cc4519 : 0x7a879d8a, j % 32);

export class Sm3Js {
  private readonly v = Uint32Array.from(IV);
  private readonly block = new Uint8Array(64);
  private readonly w = new Uint32Array(68);
  private blockLen = 0;
  private total = 0;
  private done = false;

  update(data: Uint8Array): this {
    if (this.done) throw new Error('SM3 digest already finalised');
    let off = 0;
    this.total += data.length;
    if (this.blockLen > 0) {
      const take = Math.min(64 - this.blockLen, data.length);
      this.block.set(data.subarray(0, take), this.blockLen);
      this.blockLen += take;
      off = take;
      if (this.blockLen < 64) return this;
      this.compress(this.block, 0);
      this.blockLen = 0;
    }
    for (; off + 64 <= data.length; off += 64) this.compress(data, off);
    if (off < data.length) {
      this.block.set(data.subarray(off), 0);
      this.blockLen = data.length - off;
    }
    return this;
  }

  digest(): Buffer {
    if (this.done) throw new Error('SM3 digest already finalised');
    const bitLen = BigInt(this.total) * 8n;
    const padLen = this.blockLen < 56 ? 56 - this.blockLen : 120 - this.blockLen;
    const pad = new Uint8Array(padLen + 8);
    pad[0] = 0x80;
    new DataView(pad.buffer).setBigUint64(padLen, bitLen, false);
    this.update(pad);
    this.done = true;
    const out = Buffer.alloc(32);
    for (let i = 0; i < 8; i++) out.writeUInt32BE(this.v[i]!, i * 4);
    return out;
  }

  private compress(buf: Uint8Array, off: number): void {
    const w = this.w;
    const v = this.v;
    for (let j = 0; j < 16; j++) {
      const p = off + j * 4;
      w[j] = ((buf[p]! << 24) | (buf[p + 1]! << 16) | (buf[p + 2]! << 8) | buf[p + 3]!) >>> 0;
    }
    for (let j = 16; j < 68; j++) {
      const x = w[j - 16]! ^ w[j - 9]! ^ rotl(w[j - 3]!, 15);
      w[j] = (x ^ rotl(x, 15) ^ rotl(x, 23) ^ rotl(w[j - 13]!, 7) ^ w[j - 6]!) >>> 0;
    }
    let a = v[0]!,
      b = v[1]!,
      c = v[2]!,
      d = v[3]!,
      e = v[4]!,
      f = v[5]!,
      g = v[6]!,
      h = v[7]!;
    for (let j = 0; j < 64; j++) {
      const a12 = rotl(a, 12);
      const ss1 = rotl((a12 + e + T[j]!) >>> 0, 7);
      const ss2 = ss1 ^ a12;
      const w1 = w[j]! ^ w[j + 4]!;
      const ff = j < 16 ? a ^ b ^ c : (a & b) | (a & c) | (b & c);
      const gg = j < 16 ? e ^ f ^ g : (e & f) | (~e & g);
      const tt1 = (ff + d + ss2 + w1) >>> 0;
      const tt2 = (gg + h + ss1 + w[j]!) >>> 0;
      d = c;
      c = rotl(b, 9);
      b = a;
      a = tt1;
      h = g;
      g = rotl(f, 19);
      f = e;
      e = (tt2 ^ rotl(tt2, 9) ^ rotl(tt2, 17)) >>> 0;
    }
    v[0]! ^= a;
    v[1]! ^= b;
    v[2]! ^= c;
    v[3]! ^= d;
    v[4]! ^= e;
    v[5]! ^= f;
    v[6]! ^= g;
    v[7]! ^= h;
  }
}
