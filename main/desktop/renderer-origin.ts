/**
 * Where the operator UI comes from, and the only places it may go. The renderer is served from the
 * privileged custom scheme app://ukey-agent (registered standard + secure in main.ts), or, in a
 * packaged fallback, from one exact file URL. Nothing else is "ours": not other files, not http.
 */

export const APP_SCHEME = 'app';
export const APP_HOST = 'ukey-agent';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;

export interface RendererLocation {
  /** The exact packaged index.html as a file: URL, when the build loads from disk. */
  fileUrl?: string;
}

const parse = (url: unknown): URL | undefined => {
  if (typeof url !== 'string') return undefined;
  try {
    return new URL(url);
  } catch {
    return undefined;
  }
};

/**
 * Whether `url` is the app's own renderer. Compared by scheme and host, because the WHATWG origin of
 * a custom scheme is the opaque "null" (it would match any other opaque origin).
 */
export function isAppUrl(url: unknown, loc: RendererLocation = {}): boolean {
  const u = parse(url);
  if (!u) return false;
  if (u.protocol === `${APP_SCHEME}:`)
    return u.host === APP_HOST && u.username === '' && u.password === '' && u.port === '';
  if (u.protocol === 'file:' && loc.fileUrl !== undefined) {
    const want = parse(loc.fileUrl);
    return want !== undefined && u.host === '' && u.pathname === want.pathname;
  }
  return false;
}

/** An external link the operator may open in the system browser: https to an allowlisted host. */
export function isAllowedExternal(url: unknown, allowedHosts: readonly string[]): boolean {
  const u = parse(url);
  if (!u || u.protocol !== 'https:' || u.username !== '' || u.password !== '') return false;
  return allowedHosts.includes(u.hostname.toLowerCase());
}

/** The renderer's Content-Security-Policy: our own code only, no eval, no framing, no plugins. */
export const RENDERER_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  // antd writes inline style attributes; inline <script> stays forbidden.
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-src 'none'",
  "frame-ancestors 'none'",
  "worker-src 'none'",
].join('; ');
