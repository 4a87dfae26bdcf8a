/**
 * The console's static files: the built operator UI in dist/renderer/ (index.html and assets/),
 * with a strict CSP. Only `/`, `/index.html` and `/assets/<name>` are served; anything with a dot
 * segment, a backslash or an odd character is not looked up at all. They hold no secret and need no
 * session (the page itself redeems the start-up token). Until the UI is built, `/` answers a small
 * placeholder page saying how to build it.
 */
import { existsSync, statSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.otf': 'font/otf',
  '.txt': 'text/plain; charset=utf-8',
};

/** Headers of every static answer (PROTOCOL §3). */
export function staticHeaders(port: number): Record<string, string> {
  return {
    'Content-Security-Policy': [
      "default-src 'self'",
      "script-src 'self'",
      "style-src 'self' 'unsafe-inline'",
      "img-src 'self' data: blob:",
      `connect-src 'self' ws://127.0.0.1:${port} ws://localhost:${port}`,
      "frame-ancestors 'none'",
      "base-uri 'none'",
      "form-action 'none'",
    ].join('; '),
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Cache-Control': 'no-store',
    'X-Frame-Options': 'DENY',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
  };
}

/** The file for a URL path, or undefined (404). */
export function staticFile(
  root: string,
  pathname: string,
): { file: string; type: string } | undefined {
  let rel: string;
  if (pathname === '/' || pathname === '/index.html') rel = 'index.html';
  else if (
    /^\/assets\/[A-Za-z0-9_-][A-Za-z0-9._-]*(\/[A-Za-z0-9_-][A-Za-z0-9._-]*)*$/.test(pathname)
  )
    rel = pathname.slice(1);
  else return undefined;
  if (rel.split('/').some((s) => s === '.' || s === '..' || s.includes('..'))) return undefined;
  const base = resolve(root);
  const file = resolve(join(base, rel));
  if (!file.startsWith(base + sep)) return undefined;
  if (!existsSync(file) || !statSync(file).isFile()) return undefined;
  const dot = file.lastIndexOf('.');
  const type = TYPES[dot >= 0 ? file.slice(dot).toLowerCase() : ''] ?? 'application/octet-stream';
  return { file, type };
}

/** The page `/` answers while dist/renderer/ has no index.html. */
export const PLACEHOLDER_HTML = `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>UKey 签章助手 — console</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 3em auto">
<h1>UKey 签章助手 / UKey agent console</h1>
<p>操作界面尚未构建。The operator UI is not built yet: run <code>npm run build:renderer</code>
(it writes <code>dist/renderer/</code>) and reload this page: the link is still good for 5 minutes
(<code>kill -USR1 &lt;pid&gt;</code> prints a new one). The operator API at <code>/operator/api</code>
and the events at <code>/operator/events</code> work already.</p>
</body></html>
`;
