// The agent's SQLite database: one file, WAL, foreign keys, schema migrations numbered by
// `PRAGMA user_version`, readable by its owner only.
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { AgentError } from '../../common/errors';
import { ResultCode } from '../../common/codes';
import { MIGRATIONS } from './migrations';

export type Database = BetterSqlite3.Database;

export interface OpenDatabaseOptions {
  /** For tests of the migration runner; the agent always uses its own list. */
  migrations?: readonly string[];
  /**
   * NORMAL (default): in WAL mode a commit survives the process being killed (the WAL is written
   * before the commit returns; the OS flushes it later), only an OS crash or power loss may drop
   * the last commits, never corrupt the file. FULL also fsyncs the WAL on every commit.
   */
  synchronous?: 'NORMAL' | 'FULL';
}

const isPosix = process.platform !== 'win32';

/** Opens (creating if needed) the database file and brings its schema up to date. */
export function openDatabase(file: string, opts: OpenDatabaseOptions = {}): Database {
  // ':memory:' (tests) is SQLite's in-memory database: there is no file to create or protect.
  if (file !== ':memory:') {
    const dir = dirname(file);
    if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
    // Create the file 0600 ourselves: SQLite would use the umask, and it gives the -wal and -shm
    // files the mode of the database file.
    if (!existsSync(file)) closeSync(openSync(file, 'a', 0o600));
    if (isPosix) chmodSync(file, 0o600);
  }
  const db = new BetterSqlite3(file);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    db.pragma(`synchronous = ${opts.synchronous ?? 'NORMAL'}`);
    migrate(db, opts.migrations ?? MIGRATIONS);
    return db;
  } catch (e) {
    db.close();
    throw e;
  }
}

function migrate(db: Database, migrations: readonly string[]): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > migrations.length)
    throw new AgentError(
      ResultCode.INTERNAL,
      `the agent database was written by a newer version (schema ${current}, this program knows ${migrations.length})`,
    );
  for (let v = current; v < migrations.length; v++) {
    // IMMEDIATE: two processes opening a fresh file must not both run migration v.
    db.transaction(() => {
      if ((db.pragma('user_version', { simple: true }) as number) !== v) return;
      db.exec(migrations[v]!);
      db.pragma(`user_version = ${v + 1}`);
    }).immediate();
  }
}

/** Makes the data dir private to its owner (0700), creating it if needed. */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (isPosix) chmodSync(dir, 0o700);
}
