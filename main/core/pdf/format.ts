// How table 27 writes times: the platform's users read China Standard Time (UTC+8, no DST).
const CST_OFFSET_MS = 8 * 3600_000;

/** yyyy-MM-dd HH:mm:ss in China Standard Time. */
export function chinaTime(d: Date): string {
  return new Date(d.getTime() + CST_OFFSET_MS).toISOString().slice(0, 19).replace('T', ' ');
}
