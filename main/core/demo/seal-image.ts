import { deflateSync } from 'node:zlib';

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/**
 * A demo seal image: a red ring with a red star on a transparent ground, as an RGBA PNG. Real seal
 * images come from the seal maker; the demo needs one that PDF viewers and browsers render.
 */
export function demoSealPng(size = 128): Buffer {
  const raw = Buffer.alloc((size * 4 + 1) * size);
  const c = (size - 1) / 2;
  const outer = size / 2 - 2;
  const inner = outer - size / 14;
  // A five-pointed star of radius r0 as a polar inequality.
  const r0 = inner * 0.62;
  for (let y = 0; y < size; y++) {
    raw[y * (size * 4 + 1)] = 0;
    for (let x = 0; x < size; x++) {
      const dx = x - c;
      const dy = y - c;
      const r = Math.hypot(dx, dy);
      const a = Math.atan2(dy, dx) + Math.PI / 2;
      const k = ((((a / (2 * Math.PI)) * 5) % 1) + 1) % 1;
      const starR = r0 * (0.38 + 0.62 * Math.abs(1 - 2 * k));
      const on = (r <= outer && r >= inner) || r <= starR;
      const o = y * (size * 4 + 1) + 1 + x * 4;
      raw[o] = 0xd0;
      raw[o + 1] = 0x10;
      raw[o + 2] = 0x10;
      raw[o + 3] = on ? 0xff : 0;
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // RGBA
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}
