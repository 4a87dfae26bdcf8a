// Seal records in the platform database, and the unique seal code (印章唯一赋码) it assigns.
import { randomBytes } from 'node:crypto';
import type { PlatformDb } from './database';
import { formatCstDateTime, parseCstDateTime } from './fields';

/** A seal as stored: one row of `seals`. */
export interface SealRow {
  seal_code: string;
  app_id: string;
  code: string | null;
  name: string;
  seal_type: string;
  ukey_id: string | null;
  /** Normalised serial (see normaliseSerial). */
  cert_number: string | null;
  possessor: string;
  possessor_cert_no: string;
  possessor_type: number;
  cert_type: number;
  org_code: string;
  state: number;
  downloaded: number;
  moulage_data: string | null;
  width: number | null;
  height: number | null;
  dpi_x: number | null;
  dpi_y: number | null;
  seal_data: string | null;
  seal_invalid_time: string | null;
  algorithm: string | null;
  sign_public_key: string | null;
  cert_invalid_time: string | null;
  subject_cn: string | null;
  user_name: string | null;
  mobile_phone: string | null;
  filed_at: number;
  updated_at: number;
}

/** The attributes a filing sets (everything but the code, owner, state and timestamps). */
export type SealAttributes = Omit<
  SealRow,
  'seal_code' | 'app_id' | 'state' | 'downloaded' | 'filed_at' | 'updated_at'
>;

export const ATTRIBUTE_COLUMNS: readonly (keyof SealAttributes)[] = [
  'code',
  'name',
  'seal_type',
  'ukey_id',
  'cert_number',
  'possessor',
  'possessor_cert_no',
  'possessor_type',
  'cert_type',
  'org_code',
  'moulage_data',
  'width',
  'height',
  'dpi_x',
  'dpi_y',
  'seal_data',
  'seal_invalid_time',
  'algorithm',
  'sign_public_key',
  'cert_invalid_time',
  'subject_cn',
  'user_name',
  'mobile_phone',
];

export const findSeal = (db: PlatformDb, sealCode: string): SealRow | undefined =>
  db.prepare('SELECT * FROM seals WHERE seal_code = ?').get(sealCode) as SealRow | undefined;

export const findLiveSealByCode = (
  db: PlatformDb,
  appId: string,
  code: string,
): SealRow | undefined =>
  db
    .prepare('SELECT * FROM seals WHERE app_id = ? AND code = ? AND state <> 3')
    .get(appId, code) as SealRow | undefined;

export function insertSeal(db: PlatformDb, row: SealRow): void {
  const cols = Object.keys(row);
  db.prepare(
    `INSERT INTO seals (${cols.join(', ')}) VALUES (${cols.map((c) => `@${c}`).join(', ')})`,
  ).run(row);
}

export function updateSeal(
  db: PlatformDb,
  sealCode: string,
  attrs: SealAttributes,
  now: number,
): void {
  const set = ATTRIBUTE_COLUMNS.map((c) => `${c} = @${c}`).join(', ');
  db.prepare(`UPDATE seals SET ${set}, updated_at = @now WHERE seal_code = @sealCode`).run({
    ...attrs,
    now,
    sealCode,
  });
}

export function recordEvent(
  db: PlatformDb,
  sealCode: string,
  appId: string,
  action: string,
  state: number,
  now: number,
): void {
  db.prepare(
    'INSERT INTO seal_events (seal_code, app_id, action, state, at) VALUES (?, ?, ?, ?, ?)',
  ).run(sealCode, appId, action, state, now);
}

// Crockford Base32: no I, L, O or U, so a code read aloud or retyped is not misread.
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * A new seal code: `ES`, the filing date in China Standard Time (YYYYMMDD), then 10 random
 * Crockford Base32 characters (50 bits) — 20 characters. The seed fixes no format.
 */
export function newSealCode(now: number): string {
  const date = formatCstDateTime(now).slice(0, 10).replace(/-/g, '');
  const bytes = randomBytes(10);
  let tail = '';
  for (const b of bytes) tail += CROCKFORD[b & 31];
  return `ES${date}${tail}`;
}

/** Whether the seal's validity (sealInvalidTime) has passed at `now`. */
export function sealExpired(seal: SealRow, now: number): boolean {
  if (!seal.seal_invalid_time) return false;
  const until = parseCstDateTime(seal.seal_invalid_time);
  return until !== undefined && until <= now;
}
