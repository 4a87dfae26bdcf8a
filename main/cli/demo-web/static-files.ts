// The demo page's files: demo/web-app/public/ and the browser SDK's built ES modules, both from the
// repository checkout (the demo is a development tool and is not packaged).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { extname, join, normalize, sep } from 'node:path';

/** The repository root: the folder above this file holding demo/web-app (source or dist/). */
export function repoRoot(from = __dirname): string {
  for (let dir = from, i = 0; i < 6; i++, dir = join(dir, '..')) {
    if (existsSync(join(dir, 'demo', 'web-app', 'public', 'index.html'))) return normalize(dir);
  }
  throw new Error('demo/web-app/public not found: run the demo from the repository checkout');
}

export const publicDir = (root: string): string => join(root, 'demo', 'web-app', 'public');
export const sdkDistDir = (root: string): string => join(root, 'sdk', 'jsapi-client', 'dist');

/** Builds the SDK (git-ignored dist/) when it is not there yet: about 2 s, once. */
export function ensureSdkBuilt(root: string): void {
  if (existsSync(join(sdkDistDir(root), 'index.js'))) return;
  const r = spawnSync(process.execPath, [join(root, 'sdk', 'jsapi-client', 'build.mjs')], {
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`building the browser SDK failed:\n${r.stdout}${r.stderr}`);
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
};

export interface StaticFile {
  type: string;
  body: Buffer;
}

/**
 * The file for a URL path: `/sdk/*` from the SDK's dist, anything else from public/ (`/` is
 * index.html). Undefined for what is not there or would leave those folders.
 */
export function staticFile(root: string, path: string): StaticFile | undefined {
  const [base, rel] = path.startsWith('/sdk/')
    ? [sdkDistDir(root), path.slice('/sdk/'.length)]
    : [publicDir(root), path === '/' ? 'index.html' : path.slice(1)];
  let file: string;
  try {
    file = normalize(join(base, decodeURIComponent(rel)));
  } catch {
    return undefined;
  }
  if (!file.startsWith(base + sep) || !existsSync(file)) return undefined;
  try {
    return {
      type: TYPES[extname(file)] ?? 'application/octet-stream',
      body: readFileSync(file),
    };
  } catch {
    return undefined; // a folder, or unreadable
  }
}
