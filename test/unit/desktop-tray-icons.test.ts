import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32, inflateSync } from 'node:zlib';
import { APP_ICON, TRAY_STATUSES, iconFiles, trayIconPixels } from '../../main/desktop/tray-icons';

const ASSETS = join(__dirname, '..', '..', '..', 'assets');

/** A minimal PNG reader: checks signature and CRCs, answers size and RGBA pixels. */
function readPng(png: Buffer): { width: number; height: number; rgba: Buffer } {
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  let off = 8;
  let width = 0;
  let height = 0;
  const idat: Buffer[] = [];
  for (;;) {
    const len = png.readUInt32BE(off);
    const type = png.toString('latin1', off + 4, off + 8);
    const data = png.subarray(off + 8, off + 8 + len);
    assert.equal(png.readUInt32BE(off + 8 + len), crc32(png.subarray(off + 4, off + 8 + len)));
    off += 12 + len;
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      assert.equal(data[8], 8);
      assert.equal(data[9], 6); // RGBA
    } else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') break;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const rgba = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) {
    assert.equal(raw[y * (width * 4 + 1)], 0); // filter type None
    raw.copy(rgba, y * width * 4, y * (width * 4 + 1) + 1, (y + 1) * (width * 4 + 1));
  }
  return { width, height, rgba };
}

const px = (rgba: Buffer, size: number, x: number, y: number): number[] => {
  const o = (Math.floor(y * size) * size + Math.floor(x * size)) * 4;
  return [...rgba.subarray(o, o + 4)];
};

describe('tray icons', () => {
  it('the PNGs in assets/ are exactly what tray-icons.ts draws (run scripts/build-icons.mjs)', () => {
    const files = iconFiles();
    assert.equal(files.length, TRAY_STATUSES.length * 2 + 1);
    for (const { file, png } of files)
      assert.ok(readFileSync(join(ASSETS, file)).equals(png), `${file} is stale`);
  });

  it('decodes to the sizes Electron and electron-builder expect', () => {
    for (const { file, png } of iconFiles()) {
      const { width, height } = readPng(png);
      const want = file === APP_ICON.file ? 512 : file.includes('@2x') ? 32 : 16;
      assert.deepEqual([width, height], [want, want], file);
    }
  });

  it('each status looks different, by shape as well as colour', () => {
    const S = 64;
    const img = Object.fromEntries(TRAY_STATUSES.map((s) => [s, trayIconPixels(s, S)]));
    for (const a of TRAY_STATUSES)
      for (const b of TRAY_STATUSES) if (a < b) assert.ok(!img[a]!.equals(img[b]!), `${a} = ${b}`);
    // No key: a hollow outline (the body's middle is transparent) and no badge.
    assert.equal(px(img['no-key']!, S, 0.43, 0.4)[3], 0);
    assert.equal(px(img['no-key']!, S, 0.72, 0.72)[3], 0);
    // Key present: a filled body and a green badge.
    assert.equal(px(img['key-present']!, S, 0.43, 0.5)[3], 255);
    const [r, g] = px(img['key-present']!, S, 0.72, 0.72);
    assert.ok(g! > r!);
    // Waiting: amber badge with a white "!"; error: red badge with a white "×" at its centre.
    const amber = px(img['request-waiting']!, S, 0.72, 0.62);
    assert.deepEqual(amber, [255, 255, 255, 255]);
    assert.deepEqual(px(img.error!, S, 0.72, 0.72), [255, 255, 255, 255]);
    const badge = px(img.error!, S, 0.72, 0.56);
    assert.ok(badge[0]! > 200 && badge[1]! < 80);
    // Everything outside the drawing is transparent (the tray shows through).
    for (const s of TRAY_STATUSES) assert.equal(px(img[s]!, S, 0.02, 0.98)[3], 0);
  });
});
