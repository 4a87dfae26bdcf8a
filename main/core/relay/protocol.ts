// The wire side of the file relay (CONTRACT §4 "File relay"): paths, tus headers and the per-request
// authentication headers, shared by the agent's client and the reference platform.
import { randomInt } from 'node:crypto';
import { canonicalString } from '../platform/canonical';
import type { RequestSigner } from '../platform/canonical';

/** Collection URL of the tus endpoint; an upload's URL is this plus its id. */
export const RELAY_PATH = '/api/v1/files/';
export const TUS_VERSION = '1.0.0';
/** Status a tus server answers when a chunk's Upload-Checksum does not match (tus checksum ext.). */
export const CHECKSUM_MISMATCH = 460;

export const AUTH_HEADERS = {
  appId: 'x-app-id',
  time: 'x-time',
  nonce: 'x-nonce',
  sign: 'x-sign',
} as const;

/** The fields a relay request's X-Sign covers. */
export interface RelayAuthFields {
  appId: string;
  method: string;
  nonce: string;
  path: string;
  time: string;
}

/** The canonical string of a relay request: the path excludes any query string. */
export const relayCanonical = (f: RelayAuthFields): string =>
  canonicalString({ appId: f.appId, method: f.method, nonce: f.nonce, path: f.path, time: f.time });

/** Headers authenticating one request; each call uses a fresh nonce, so retries are not replays. */
export async function relayAuthHeaders(
  signer: RequestSigner,
  method: string,
  path: string,
  now: number = Date.now(),
): Promise<Record<string, string>> {
  const fields: RelayAuthFields = {
    appId: signer.appId,
    method: method.toUpperCase(),
    nonce: String(randomInt(0, 100_000_000)),
    path,
    time: String(now),
  };
  const sign = await signer.sign(Buffer.from(relayCanonical(fields), 'utf8'));
  return {
    'X-App-Id': fields.appId,
    'X-Time': fields.time,
    'X-Nonce': fields.nonce,
    'X-Sign': Buffer.from(sign).toString('base64'),
  };
}

/** tus Upload-Metadata: comma-separated `key base64(value)` pairs. */
export function encodeMetadata(meta: Record<string, string>): string {
  return Object.entries(meta)
    .map(([k, v]) => `${k} ${Buffer.from(v, 'utf8').toString('base64')}`)
    .join(',');
}

export function decodeMetadata(header: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of header.split(',')) {
    const [key, value] = pair.trim().split(' ');
    if (key) out[key] = value ? Buffer.from(value, 'base64').toString('utf8') : '';
  }
  return out;
}

/** The upload id at the end of a Location header or upload URL; undefined if none. */
export function fileIdOf(location: string): string | undefined {
  const path = new URL(location, 'http://x').pathname;
  if (!path.startsWith(RELAY_PATH)) return undefined;
  const id = decodeURIComponent(path.slice(RELAY_PATH.length));
  return /^[0-9A-Za-z_-]{1,128}$/.test(id) ? id : undefined;
}

/**
 * The file name in a download's Content-Disposition (RFC 6266: `filename*` first), made safe to
 * show and to offer as a save name: no directories, no control characters, at most 255
 * characters. Undefined when the platform sent none (the contract does not require it).
 */
export function dispositionFilename(header: string | undefined): string | undefined {
  if (!header) return undefined;
  let name: string | undefined;
  const star = /filename\*\s*=\s*UTF-8''([^;]+)/i.exec(header)?.[1];
  if (star) {
    try {
      name = decodeURIComponent(star.trim());
    } catch {
      name = undefined;
    }
  }
  name ??=
    /filename\s*=\s*"([^"]*)"/i.exec(header)?.[1] ?? /filename\s*=\s*([^;\s]+)/i.exec(header)?.[1];
  if (name === undefined) return undefined;
  const clean = (name.split(/[\\/]/).pop() ?? '').replace(/[\u0000-\u001f\u007f]/g, '').trim();
  if (clean === '' || clean === '.' || clean === '..') return undefined;
  return [...clean].slice(0, 255).join('');
}
