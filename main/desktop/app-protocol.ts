/**
 * The app://ukey-agent scheme serves the built renderer from one directory. A request maps to a
 * file inside that directory or to nothing: no "..", no encoded separators, no other host.
 */
import { posix, resolve, sep } from 'node:path';
import { APP_HOST, APP_SCHEME } from './renderer-origin';

/** The file for an app:// URL, or undefined when the URL is not a file of the renderer. */
export function resolveAppAsset(rootDir: string, url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined;
  }
  if (u.protocol !== `${APP_SCHEME}:` || u.host !== APP_HOST) return undefined;
  let path: string;
  try {
    path = decodeURIComponent(u.pathname);
  } catch {
    return undefined;
  }
  // Encoded dots and separators are refused outright rather than normalised away.
  if (path.includes('\\') || path.includes('\0') || path.split('/').includes('..'))
    return undefined;
  const rel = posix.normalize(path === '/' || path === '' ? '/index.html' : path);
  const root = resolve(rootDir);
  const file = resolve(root, `.${rel}`);
  return file.startsWith(root + sep) ? file : undefined;
}
