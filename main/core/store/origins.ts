// Web origins a trusted app may call the JSAPI from. Matching is exact on the serialized origin
// (RFC 6454): no wildcards, no paths, so a look-alike host or a sibling subdomain never matches.
import { badParam } from '../../common/errors';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * The serialized origin `scheme://host[:port]` of `input` (default ports dropped, host lowercased),
 * or 1001 naming `field`. https only; http only for loopback hosts.
 */
export function normaliseOrigin(input: unknown, field = 'origin'): string {
  if (typeof input !== 'string' || input === '') throw badParam(`${field} must be a non-empty URL`);
  if (input.length > 512) throw badParam(`${field} is longer than 512 characters`);
  if (input.trim().toLowerCase() === 'null')
    throw badParam(`${field} "null" (opaque origin) cannot be trusted`);
  // WHATWG URL accepts '*' in host names, so a wildcard would silently become a literal host.
  if (input.includes('*')) throw badParam(`${field} must be an exact origin: no wildcards`);
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw badParam(`${field} is not a URL: ${JSON.stringify(input)}`);
  }
  if (url.username !== '' || url.password !== '' || /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*@/i.test(input))
    throw badParam(`${field} must not carry user information`);
  if (
    (url.pathname !== '/' && url.pathname !== '') ||
    url.search !== '' ||
    url.hash !== '' ||
    /[?#]/.test(input)
  )
    throw badParam(
      `${field} must be an origin (scheme://host[:port]) without path, query or fragment`,
    );
  if (url.protocol === 'http:') {
    if (!LOOPBACK_HOSTS.has(url.hostname))
      throw badParam(
        `${field} must use https (http is allowed for 127.0.0.1, localhost and [::1] only)`,
      );
  } else if (url.protocol !== 'https:') {
    throw badParam(
      `${field} must use https (http is allowed for 127.0.0.1, localhost and [::1] only)`,
    );
  }
  return url.origin;
}

/** normaliseOrigin, or undefined for anything that is not an acceptable origin. */
export function tryNormaliseOrigin(input: unknown): string | undefined {
  try {
    return normaliseOrigin(input);
  } catch {
    return undefined;
  }
}
