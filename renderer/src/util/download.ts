/** Saves text as a file through the browser's download (works in Electron and the console). */
export function saveText(filename: string, content: string, mime = 'text/plain'): void {
  saveBlob(filename, new Blob([content], { type: `${mime};charset=utf-8` }));
}

/** Saves bytes the page holds (audit exports, CSRs) as a file. */
export function saveBlob(filename: string, blob: Blob): void {
  const url = URL.createObjectURL(blob);
  follow(url, filename);
  window.setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/**
 * Saves what a same-origin link serves as an attachment (the console's one-time download links):
 * the browser streams it to disk under the server's file name, the page holds none of it.
 */
export function saveLink(url: string): void {
  follow(url, '');
}

function follow(url: string, filename: string): void {
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  a.rel = 'noopener';
  document.body.appendChild(a);
  a.click();
  a.remove();
}

/** Reads a chosen file as text (PEM input). */
export const readText = (file: File): Promise<string> => file.text();

/** SHA-256 of a file in the browser, base64 (cloud signing: the document never leaves the PC). */
export async function sha256Base64(file: Blob): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', await file.arrayBuffer()));
  let s = '';
  for (const b of digest) s += String.fromCharCode(b);
  return btoa(s);
}

export function hexToBase64(hex: string): string {
  const clean = hex.replace(/\s+/g, '');
  let s = '';
  for (let i = 0; i < clean.length; i += 2)
    s += String.fromCharCode(parseInt(clean.slice(i, i + 2), 16));
  return btoa(s);
}

export function base64ToHex(b64: string): string {
  const raw = atob(b64);
  let out = '';
  for (let i = 0; i < raw.length; i++) out += raw.charCodeAt(i).toString(16).padStart(2, '0');
  return out;
}
