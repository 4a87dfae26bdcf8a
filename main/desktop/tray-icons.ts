/**
 * The tray and application icons, drawn by code (no image tools, nothing downloaded): a UKey with a
 * status badge, one per tray status, written to assets/ by scripts/build-icons.mjs. A unit test
 * checks that the committed PNGs are exactly what this module draws.
 *
 * The states differ in shape as well as colour, for colour-blind signers and for monochrome trays:
 * no key = hollow outline; key present = filled key + dot; request waiting = badge with "!";
 * error = grey key + badge with "×".
 */
import { crc32, deflateSync } from 'node:zlib';
import type { TrayStatus } from './tray-state';

export const TRAY_STATUSES: readonly TrayStatus[] = [
  'no-key',
  'key-present',
  'request-waiting',
  'error',
];

/** 16 px for the tray, and @2x for high-density screens (Electron picks `name@2x.png` itself). */
export const TRAY_ICON_SIZES = [
  { suffix: '', size: 16 },
  { suffix: '@2x', size: 32 },
] as const;

/** electron-builder makes the .ico and .icns from this (≥ 512 px). */
export const APP_ICON = { file: 'icon.png', size: 512 } as const;

type Rgba = readonly [number, number, number, number];
/** Whether a point (unit square, y down) is inside the shape. */
type Shape = (x: number, y: number) => boolean;
interface Layer {
  shape: Shape;
  color: Rgba;
}

const RED: Rgba = [0xc0, 0x39, 0x2b, 0xff];
const GREY: Rgba = [0x7f, 0x8c, 0x8d, 0xff];
const LIGHT_GREY: Rgba = [0xb0, 0xb8, 0xb9, 0xff];
const WHITE: Rgba = [0xff, 0xff, 0xff, 0xff];
const GREEN: Rgba = [0x27, 0xae, 0x60, 0xff];
const AMBER: Rgba = [0xe6, 0x7e, 0x22, 0xff];
const ALERT: Rgba = [0xe7, 0x1d, 0x36, 0xff];

const roundRect =
  (x0: number, y0: number, x1: number, y1: number, r: number): Shape =>
  (x, y) => {
    if (x < x0 || x > x1 || y < y0 || y > y1) return false;
    const cx = Math.min(Math.max(x, x0 + r), x1 - r);
    const cy = Math.min(Math.max(y, y0 + r), y1 - r);
    return Math.hypot(x - cx, y - cy) <= r;
  };
const circle =
  (cx: number, cy: number, r: number): Shape =>
  (x, y) =>
    Math.hypot(x - cx, y - cy) <= r;
/** A stroke from a to b of half-width w with round ends. */
const segment =
  (ax: number, ay: number, bx: number, by: number, w: number): Shape =>
  (x, y) => {
    const dx = bx - ax;
    const dy = by - ay;
    const t = Math.max(0, Math.min(1, ((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy)));
    return Math.hypot(x - (ax + t * dx), y - (ay + t * dy)) <= w;
  };
const shift =
  (s: Shape, dx: number, dy: number): Shape =>
  (x, y) =>
    s(x - dx, y - dy);
const minus =
  (a: Shape, b: Shape): Shape =>
  (x, y) =>
    a(x, y) && !b(x, y);

// The key: a body with the seal mark, and its USB connector below.
const BODY = roundRect(0.2, 0.04, 0.66, 0.64, 0.09);
const BODY_INSET = roundRect(0.29, 0.13, 0.57, 0.55, 0.03);
const CONNECTOR = roundRect(0.29, 0.62, 0.57, 0.95, 0.03);
const MARK = circle(0.43, 0.3, 0.1);
// The badge, bottom right, with a white rim so it reads on any tray colour.
const BADGE_RIM = circle(0.72, 0.72, 0.28);
const BADGE = circle(0.72, 0.72, 0.22);

function layers(status: TrayStatus): Layer[] {
  const key = (body: Rgba): Layer[] => [
    { shape: CONNECTOR, color: LIGHT_GREY },
    { shape: BODY, color: body },
    { shape: MARK, color: WHITE },
  ];
  switch (status) {
    case 'no-key':
      return [
        { shape: minus(CONNECTOR, roundRect(0.36, 0.69, 0.5, 0.88, 0.01)), color: GREY },
        { shape: minus(BODY, BODY_INSET), color: GREY },
      ];
    case 'key-present':
      return [
        ...key(RED),
        { shape: BADGE_RIM, color: WHITE },
        { shape: circle(0.72, 0.72, 0.16), color: GREEN },
      ];
    case 'request-waiting':
      return [
        ...key(RED),
        { shape: BADGE_RIM, color: WHITE },
        { shape: BADGE, color: AMBER },
        { shape: segment(0.72, 0.58, 0.72, 0.73, 0.045), color: WHITE },
        { shape: circle(0.72, 0.84, 0.045), color: WHITE },
      ];
    case 'error':
      return [
        ...key(GREY),
        { shape: BADGE_RIM, color: WHITE },
        { shape: BADGE, color: ALERT },
        { shape: segment(0.64, 0.64, 0.8, 0.8, 0.04), color: WHITE },
        { shape: segment(0.8, 0.64, 0.64, 0.8, 0.04), color: WHITE },
      ];
  }
}

/** Paints the layers with 4×4 supersampling (smooth edges at 16 px); straight-alpha RGBA out. */
function paint(size: number, ls: readonly Layer[]): Buffer {
  const out = Buffer.alloc(size * size * 4);
  const S = 4;
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      // Premultiplied accumulation, "over" per layer.
      let r = 0;
      let g = 0;
      let b = 0;
      let a = 0;
      for (const l of ls) {
        let hits = 0;
        for (let sy = 0; sy < S; sy++)
          for (let sx = 0; sx < S; sx++)
            if (l.shape((px + (sx + 0.5) / S) / size, (py + (sy + 0.5) / S) / size)) hits++;
        if (hits === 0) continue;
        const cov = (hits / (S * S)) * (l.color[3] / 255);
        r = l.color[0] * cov + r * (1 - cov);
        g = l.color[1] * cov + g * (1 - cov);
        b = l.color[2] * cov + b * (1 - cov);
        a = cov + a * (1 - cov);
      }
      const o = (py * size + px) * 4;
      if (a > 0) {
        out[o] = Math.round(r / a);
        out[o + 1] = Math.round(g / a);
        out[o + 2] = Math.round(b / a);
      }
      out[o + 3] = Math.round(a * 255);
    }
  }
  return out;
}

function pngChunk(type: string, data: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const head = Buffer.alloc(4);
  head.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([head, body, crc]);
}

/** An 8-bit RGBA PNG (filter 0 on every row; deterministic bytes for the freshness test). */
export function encodePng(width: number, height: number, rgba: Buffer): Buffer {
  if (rgba.length !== width * height * 4) throw new Error('rgba size mismatch');
  const raw = Buffer.alloc((width * 4 + 1) * height);
  for (let y = 0; y < height; y++)
    rgba.copy(raw, y * (width * 4 + 1) + 1, y * width * 4, (y + 1) * width * 4);
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // colour type RGBA
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', deflateSync(raw, { level: 9 })),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** The raw RGBA pixels of a tray icon (tests look at these). */
export function trayIconPixels(status: TrayStatus, size: number): Buffer {
  return paint(size, layers(status));
}

export function trayIconPng(status: TrayStatus, size: number): Buffer {
  return encodePng(size, size, trayIconPixels(status, size));
}

/** The application icon: the key with its seal mark, no badge. */
export function appIconPng(size: number = APP_ICON.size): Buffer {
  return encodePng(
    size,
    size,
    paint(size, [
      { shape: roundRect(0, 0, 1, 1, 0.18), color: WHITE },
      ...[
        { shape: CONNECTOR, color: LIGHT_GREY },
        { shape: BODY, color: RED },
        { shape: MARK, color: WHITE },
      ].map((l) => ({ ...l, shape: shift(l.shape, 0.07, 0) })),
    ]),
  );
}

/** Every icon file under assets/, with its bytes. */
export function iconFiles(): { file: string; png: Buffer }[] {
  const out: { file: string; png: Buffer }[] = [];
  for (const status of TRAY_STATUSES)
    for (const { suffix, size } of TRAY_ICON_SIZES)
      out.push({ file: `tray-${status}${suffix}.png`, png: trayIconPng(status, size) });
  out.push({ file: APP_ICON.file, png: appIconPng() });
  return out;
}
