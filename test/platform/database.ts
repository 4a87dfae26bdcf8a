// The reference platform's SQLite database: WAL, foreign keys, and schema migrations numbered by
// `PRAGMA user_version` (each runs once, in its own transaction).
import Database from 'better-sqlite3';
import type BetterSqlite3 from 'better-sqlite3';
import { join } from 'node:path';

export type PlatformDb = BetterSqlite3.Database;

export const DATABASE_FILE = 'platform.db';

/** Migration n (1-based) brings the schema from user_version n-1 to n. Never edit one: append. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE apps (
     app_id TEXT PRIMARY KEY,
     public_key BLOB NOT NULL,          -- SPKI DER
     key_algorithm TEXT NOT NULL CHECK (key_algorithm IN ('sm2', 'rsa')),
     org_code TEXT NOT NULL,
     plat_name TEXT,
     dest_host TEXT,
     created_at INTEGER NOT NULL
   );
   CREATE TABLE seals (
     seal_code TEXT PRIMARY KEY,
     app_id TEXT NOT NULL REFERENCES apps (app_id),
     code TEXT,
     name TEXT NOT NULL,
     seal_type TEXT NOT NULL,
     ukey_id TEXT,
     cert_number TEXT,
     possessor TEXT NOT NULL,
     possessor_cert_no TEXT NOT NULL,
     possessor_type INTEGER NOT NULL,
     cert_type INTEGER NOT NULL,
     org_code TEXT NOT NULL,
     state INTEGER NOT NULL CHECK (state IN (1, 3, 4)),
     downloaded INTEGER NOT NULL DEFAULT 0,
     moulage_data TEXT,
     width INTEGER,
     height INTEGER,
     dpi_x INTEGER,
     dpi_y INTEGER,
     seal_data TEXT,
     seal_invalid_time TEXT,
     algorithm TEXT,
     sign_public_key TEXT,
     cert_invalid_time TEXT,
     subject_cn TEXT,
     user_name TEXT,
     mobile_phone TEXT,
     filed_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL
   );
   CREATE INDEX seals_org ON seals (org_code, seal_type);
   -- One live seal per business-system code of an app; a cancelled one frees its code.
   CREATE UNIQUE INDEX seals_app_code ON seals (app_id, code) WHERE code IS NOT NULL AND state <> 3;
   CREATE TABLE seal_events (
     id INTEGER PRIMARY KEY,
     seal_code TEXT NOT NULL REFERENCES seals (seal_code),
     app_id TEXT NOT NULL,
     action TEXT NOT NULL,
     state INTEGER NOT NULL,
     at INTEGER NOT NULL
   );
   CREATE TABLE sign_ids (
     id_hash BLOB PRIMARY KEY,          -- SM3 of the signId: a copied database yields no usable ids
     seal_code TEXT NOT NULL REFERENCES seals (seal_code),
     cert_number TEXT,
     app_id TEXT NOT NULL,
     issued_at INTEGER NOT NULL,
     expires_at INTEGER NOT NULL,
     used_at INTEGER
   ) WITHOUT ROWID;
   CREATE INDEX sign_ids_expiry ON sign_ids (expires_at);`,
  // Idempotency keys (requestId) of filing and state requests, with the first answer.
  `CREATE TABLE request_ids (
     app_id TEXT NOT NULL,
     request_id TEXT NOT NULL,
     path TEXT NOT NULL,
     fields_hash BLOB NOT NULL,         -- SM3 of the request's canonical string without envelope
     code TEXT NOT NULL,
     message TEXT NOT NULL,
     data TEXT,                         -- JSON
     at INTEGER NOT NULL,
     PRIMARY KEY (app_id, request_id)
   ) WITHOUT ROWID;
   CREATE INDEX request_ids_at ON request_ids (at);`,
  // Cloud certificates (seed tables 10–18) and the CAs document verification trusts (24–28).
  `CREATE TABLE trusted_cas (
     fingerprint TEXT PRIMARY KEY,      -- SM3 of the DER, hex
     certificate BLOB NOT NULL,
     subject TEXT NOT NULL,
     added_at INTEGER NOT NULL
   ) WITHOUT ROWID;
   CREATE TABLE cloud_ca (
     id INTEGER PRIMARY KEY CHECK (id = 1),
     private_key TEXT NOT NULL,         -- hex: a test platform, see docs/PLATFORM.md
     certificate BLOB NOT NULL
   );
   CREATE TABLE cloud_keys (
     seal_code TEXT PRIMARY KEY REFERENCES seals (seal_code),
     private_key TEXT NOT NULL,         -- hex: a test platform, see docs/PLATFORM.md
     certificate BLOB NOT NULL,
     cert_serial TEXT NOT NULL UNIQUE,  -- normalised
     created_at INTEGER NOT NULL
   ) WITHOUT ROWID;
   CREATE TABLE cloud_auths (
     auth_id TEXT PRIMARY KEY,
     app_id TEXT NOT NULL,
     seal_code TEXT NOT NULL REFERENCES seals (seal_code),
     mobile TEXT NOT NULL,
     name TEXT,
     id_card TEXT,
     org_code TEXT,
     redirect_url TEXT,
     code_hash BLOB NOT NULL,           -- SM3(authId ‖ code): the code itself is never stored
     tries INTEGER NOT NULL DEFAULT 0,
     state TEXT NOT NULL CHECK (state IN ('pending', 'confirmed', 'used', 'locked')),
     auth_code TEXT,
     created_at INTEGER NOT NULL,
     expires_at INTEGER NOT NULL,
     confirmed_at INTEGER,
     used_at INTEGER
   ) WITHOUT ROWID;
   CREATE INDEX cloud_auths_expiry ON cloud_auths (expires_at);`,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/** Opens (creating if needed) the database in dataDir and brings its schema up to date. */
export function openPlatformDatabase(dataDir: string): PlatformDb {
  const db = new Database(join(dataDir, DATABASE_FILE));
  try {
    db.pragma('journal_mode = WAL');
    // WAL + NORMAL survives a process crash; a reference platform need not sync every commit.
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    migrate(db);
    return db;
  } catch (e) {
    db.close();
    throw e;
  }
}

function migrate(db: PlatformDb): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length)
    throw new Error(
      `platform database schema ${current} is newer than this program (${MIGRATIONS.length})`,
    );
  for (let v = current; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    }).immediate();
  }
}
