// The replay cache of CONTRACT §1 in SQLite, so a restart does not reopen the replay window.
import type BetterSqlite3 from 'better-sqlite3';
import type { NonceStore } from './canonical';

/** How often expired pairs are swept; between sweeps `claim` ignores them anyway. */
const PRUNE_EVERY_MS = 60_000;

/**
 * A NonceStore in the given database. It owns the table `request_nonces` and creates it if needed,
 * so it can share a database with other stores.
 */
export class SqliteNonceStore implements NonceStore {
  private readonly upsert: BetterSqlite3.Statement;
  private readonly prune: BetterSqlite3.Statement;
  private lastPrune = Number.NEGATIVE_INFINITY;

  constructor(private readonly db: BetterSqlite3.Database) {
    db.exec(`CREATE TABLE IF NOT EXISTS request_nonces (
      app_id TEXT NOT NULL,
      nonce INTEGER NOT NULL,
      expires_at INTEGER NOT NULL,
      PRIMARY KEY (app_id, nonce)
    ) WITHOUT ROWID;
    CREATE INDEX IF NOT EXISTS request_nonces_expiry ON request_nonces (expires_at);`);
    // An expired row is taken over; a live one makes the statement change nothing.
    this.upsert =
      db.prepare(`INSERT INTO request_nonces (app_id, nonce, expires_at) VALUES (?, ?, ?)
      ON CONFLICT (app_id, nonce) DO UPDATE SET expires_at = excluded.expires_at
      WHERE request_nonces.expires_at <= ?`);
    this.prune = db.prepare('DELETE FROM request_nonces WHERE expires_at <= ?');
  }

  claim(appId: string, nonce: number, expiresAt: number, now: number): boolean {
    if (now - this.lastPrune >= PRUNE_EVERY_MS || now < this.lastPrune) {
      this.prune.run(now);
      this.lastPrune = now;
    }
    return this.upsert.run(appId, nonce, expiresAt, now).changes === 1;
  }

  /** Pairs currently remembered (for tests and diagnostics). */
  size(): number {
    const row = this.db.prepare('SELECT COUNT(*) AS n FROM request_nonces').get() as { n: number };
    return row.n;
  }
}
