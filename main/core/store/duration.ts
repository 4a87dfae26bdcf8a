import { badParam } from '../../common/errors';

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** '90s' | '10m' | '2h' | '7d' → milliseconds; anything else is 1001 naming `field`. */
export function parseDuration(text: unknown, field = 'ttl'): number {
  const m = typeof text === 'string' ? /^(\d{1,9})([smhd])$/.exec(text.trim()) : null;
  if (!m)
    throw badParam(`${field} must be a number followed by s, m, h or d (e.g. 90s, 10m, 2h, 7d)`);
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}
