// The registry of apps (connected e-seal systems) allowed to call the platform, with the public key
// that verifies their requests' `sign`.
import { existsSync, mkdirSync } from 'node:fs';
import { badParam } from '../../main/common/errors';
import { spkiFrom } from '../../main/core/platform/canonical';
import { parseSpki } from '../../main/core/pki/keys';
import { openPlatformDatabase } from './database';
import type { PlatformDb } from './database';

export interface AppRegistration {
  appId: string;
  /** SPKI, DER bytes or PEM text; SM2 or RSA (at least 2048 bits). */
  publicKey: Uint8Array | string;
  /** The connected organisation's code (入驻单位). */
  orgCode: string;
  /** Name of the e-seal system, answered as a seal's `platName` (table 7). */
  platName?: string;
  /** Its client address, answered as a UKey seal's `destHost` (table 7). */
  destHost?: string;
}

export interface AppRecord {
  appId: string;
  spki: Buffer;
  keyAlgorithm: 'sm2' | 'rsa';
  orgCode: string;
  platName: string | null;
  destHost: string | null;
}

const APP_ID = /^[0-9A-Za-z._-]{1,64}$/;
const MIN_RSA_BITS = 2048;

/**
 * Adds an app, or replaces the key and details of one already registered (key rotation).
 * 1001 for a malformed id, org code or key.
 */
export function registerAppIn(db: PlatformDb, app: AppRegistration, now: number): AppRecord {
  if (!APP_ID.test(app.appId))
    throw badParam('appId must be letters, digits, . _ or -, at most 64 characters');
  if (typeof app.orgCode !== 'string' || app.orgCode.length === 0 || app.orgCode.length > 64)
    throw badParam('orgCode must be 1 to 64 characters');
  const spki = spkiFrom(app.publicKey);
  const info = parseSpki(spki);
  if (info.algorithm !== 'sm2' && info.algorithm !== 'rsa')
    throw badParam('an app key must be SM2 or RSA');
  if (info.algorithm === 'rsa' && info.rsa!.bits < MIN_RSA_BITS)
    throw badParam(`RSA app keys must have at least ${MIN_RSA_BITS} bits`);
  const record: AppRecord = {
    appId: app.appId,
    spki,
    keyAlgorithm: info.algorithm,
    orgCode: app.orgCode,
    platName: app.platName ?? null,
    destHost: app.destHost ?? null,
  };
  db.prepare(
    `INSERT INTO apps (app_id, public_key, key_algorithm, org_code, plat_name, dest_host, created_at)
     VALUES (@appId, @spki, @keyAlgorithm, @orgCode, @platName, @destHost, @now)
     ON CONFLICT (app_id) DO UPDATE SET public_key = excluded.public_key,
       key_algorithm = excluded.key_algorithm, org_code = excluded.org_code,
       plat_name = excluded.plat_name, dest_host = excluded.dest_host`,
  ).run({ ...record, now });
  return record;
}

interface AppRow {
  app_id: string;
  public_key: Buffer;
  key_algorithm: 'sm2' | 'rsa';
  org_code: string;
  plat_name: string | null;
  dest_host: string | null;
}

export function findApp(db: PlatformDb, appId: string): AppRecord | undefined {
  const row = db.prepare('SELECT * FROM apps WHERE app_id = ?').get(appId) as AppRow | undefined;
  if (!row) return undefined;
  return {
    appId: row.app_id,
    spki: row.public_key,
    keyAlgorithm: row.key_algorithm,
    orgCode: row.org_code,
    platName: row.plat_name,
    destHost: row.dest_host,
  };
}

/**
 * Registers an app in the platform kept in dataDir, whether or not it is running (the database
 * is shared safely through WAL): what `platform apps add` calls.
 */
export function registerApp(dataDir: string, app: AppRegistration, now = Date.now()): AppRecord {
  if (!existsSync(dataDir)) mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const db = openPlatformDatabase(dataDir);
  try {
    return registerAppIn(db, app, now);
  } finally {
    db.close();
  }
}
