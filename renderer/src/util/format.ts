/** Display helpers: sizes, rates, durations, times, fingerprints, PEM. */

export function bytes(n: number | null | undefined): string {
  if (n == null) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

export const rate = (bytesPerSecond: number): string => `${bytes(Math.round(bytesPerSecond))}/s`;

export function duration(ms: number | null | undefined): string {
  if (ms == null || !Number.isFinite(ms)) return '—';
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  return `${Math.floor(m / 60)}h ${m % 60}m`;
}

const pad = (n: number): string => String(n).padStart(2, '0');

/** Local time, YYYY-MM-DD HH:mm:ss (the same in both languages). */
export function dateTime(ms: number | null | undefined): string {
  if (ms == null) return '—';
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** Hex in colon-separated pairs, upper case (how certificate viewers show fingerprints). */
export const fingerprint = (hex: string): string =>
  (
    hex
      .replace(/[^0-9a-f]/gi, '')
      .toUpperCase()
      .match(/.{1,2}/g) ?? []
  ).join(':');

/** Base64 DER → PEM with 64-character lines. */
export function pem(derBase64: string, label = 'CERTIFICATE'): string {
  const body = derBase64.replace(/\s+/g, '').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${body.join('\n')}\n-----END ${label}-----\n`;
}

export const DAY_MS = 86_400_000;
