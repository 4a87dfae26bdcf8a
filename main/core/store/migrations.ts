// The agent database's schema. Migration n (1-based) brings user_version n-1 to n; each runs once,
// in its own transaction. Never edit a released migration: append a new one.
export const MIGRATIONS: readonly string[] = [
  `CREATE TABLE apps (
     app_id TEXT PRIMARY KEY,
     name TEXT,
     public_key BLOB NOT NULL,                 -- SPKI DER
     key_algorithm TEXT NOT NULL CHECK (key_algorithm IN ('sm2', 'rsa')),
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL,
     revoked_at INTEGER
   );
   CREATE TABLE app_origins (
     app_id TEXT NOT NULL REFERENCES apps (app_id) ON DELETE CASCADE,
     origin TEXT NOT NULL,                     -- serialized origin, scheme://host[:port]
     PRIMARY KEY (app_id, origin)
   ) WITHOUT ROWID;

   CREATE TABLE policies (
     id INTEGER PRIMARY KEY AUTOINCREMENT,     -- never reused, so an old id cannot be revived
     app_id TEXT NOT NULL REFERENCES apps (app_id),
     seal_code TEXT NOT NULL,
     origin TEXT,                              -- NULL: any origin the app is allowed from
     max_count INTEGER NOT NULL CHECK (max_count BETWEEN 1 AND 10000),
     used INTEGER NOT NULL DEFAULT 0 CHECK (used BETWEEN 0 AND max_count),
     created_at INTEGER NOT NULL,
     expires_at INTEGER NOT NULL,
     revoked_at INTEGER
   );
   CREATE INDEX policies_lookup ON policies (app_id, seal_code, expires_at);

   CREATE TABLE approvals (
     id INTEGER PRIMARY KEY,
     request_id TEXT NOT NULL,
     app_id TEXT NOT NULL,
     origin TEXT,
     seal_code TEXT NOT NULL,
     ukey_id TEXT NOT NULL,
     digest_hex TEXT NOT NULL,
     format TEXT NOT NULL CHECK (format IN ('p1', 'p7')),
     decision TEXT NOT NULL CHECK (decision IN ('approved', 'declined', 'timeout')),
     decided_by TEXT NOT NULL CHECK (decided_by IN ('signer', 'policy')),
     policy_id INTEGER REFERENCES policies (id),
     decided_at INTEGER NOT NULL
   );
   CREATE INDEX approvals_app ON approvals (app_id, id);

   CREATE TABLE settings (
     key TEXT PRIMARY KEY,
     value TEXT NOT NULL,                      -- JSON
     updated_at INTEGER NOT NULL
   ) WITHOUT ROWID;

   CREATE TABLE secret_data_key (
     id INTEGER PRIMARY KEY CHECK (id = 1),
     protector TEXT NOT NULL,                  -- KeyProtector.id that wrapped it
     wrapped BLOB NOT NULL,
     created_at INTEGER NOT NULL
   );
   CREATE TABLE secrets (
     name TEXT PRIMARY KEY,
     nonce BLOB NOT NULL,
     ciphertext BLOB NOT NULL,
     tag BLOB NOT NULL,
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL
   ) WITHOUT ROWID;

   CREATE TABLE audit_log (
     seq INTEGER PRIMARY KEY,                  -- assigned as head + 1 inside the append transaction
     time INTEGER NOT NULL,                    -- ms since the epoch
     source TEXT NOT NULL,
     serial_number TEXT,
     app_id TEXT,
     origin TEXT,
     interface TEXT NOT NULL,
     duration_ms INTEGER,
     result_code TEXT NOT NULL,
     message TEXT NOT NULL,
     normalized TEXT NOT NULL,                 -- canonical JSON
     raw TEXT NOT NULL,                        -- canonical JSON, redacted and truncated
     hash BLOB NOT NULL                        -- SM3(previous hash || canonical bytes)
   );
   CREATE INDEX audit_log_time ON audit_log (time);
   CREATE INDEX audit_log_app ON audit_log (app_id, seq);
   CREATE TABLE audit_seals (
     id INTEGER PRIMARY KEY,
     seq INTEGER NOT NULL,
     hash BLOB NOT NULL,
     time INTEGER NOT NULL,
     key_algorithm TEXT NOT NULL CHECK (key_algorithm IN ('sm2', 'rsa')),
     spki BLOB NOT NULL,
     signature BLOB NOT NULL
   );
   CREATE INDEX audit_seals_seq ON audit_seals (seq);
   -- The last pruned entry: where verification of the retained chain starts.
   CREATE TABLE audit_anchor (
     id INTEGER PRIMARY KEY CHECK (id = 1),
     seq INTEGER NOT NULL,
     hash BLOB NOT NULL,
     seal_id INTEGER NOT NULL,
     pruned_at INTEGER NOT NULL
   );
   -- Speed bumps against accidental edits by our own code; the hash chain and the seals are what
   -- make tampering evident, since anyone who can write the file can also drop these.
   CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
   BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
   CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
   WHEN old.seq > coalesce((SELECT seq FROM audit_anchor WHERE id = 1), 0)
   BEGIN SELECT RAISE(ABORT, 'audit entries are removed only by prune, below its anchor'); END;
   CREATE TRIGGER audit_seals_no_update BEFORE UPDATE ON audit_seals
   BEGIN SELECT RAISE(ABORT, 'audit seals are append-only'); END;
   CREATE TRIGGER audit_seals_no_delete BEFORE DELETE ON audit_seals
   BEGIN SELECT RAISE(ABORT, 'audit seals are append-only'); END;
   CREATE TRIGGER audit_anchor_forward BEFORE UPDATE ON audit_anchor
   WHEN new.seq < old.seq
   BEGIN SELECT RAISE(ABORT, 'the audit anchor only moves forward'); END;`,
  // Platform operations that must reach the platform exactly once (main/core/platform/outbox.ts).
  `CREATE TABLE platform_outbox (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     kind TEXT NOT NULL,                       -- 'seal.filing' | 'seal.state'
     request_id TEXT NOT NULL UNIQUE,          -- idempotency key sent as requestId
     params TEXT NOT NULL,                     -- JSON of the request's own fields
     status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
     attempts INTEGER NOT NULL DEFAULT 0,
     next_attempt_at INTEGER NOT NULL,
     lease_until INTEGER,                      -- a worker is delivering it until then
     result TEXT,                              -- JSON of the platform's data once delivered
     error_code TEXT,
     error_message TEXT,
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL
   );
   CREATE INDEX platform_outbox_due ON platform_outbox (status, next_attempt_at);`,
  // File relay jobs (main/core/relay/job-store.ts): enough to resume after a crash.
  `CREATE TABLE relay_jobs (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     kind TEXT NOT NULL CHECK (kind IN ('upload', 'download')),
     state TEXT NOT NULL
       CHECK (state IN ('queued', 'running', 'paused', 'done', 'failed', 'canceled')),
     base_url TEXT NOT NULL,                   -- the platform the job talks to
     local_path TEXT NOT NULL,                 -- upload: the source; download: the final name
     file_id TEXT,                             -- the platform's file id, once known
     filename TEXT,
     size INTEGER,                             -- NULL until known
     offset INTEGER NOT NULL DEFAULT 0,        -- bytes the platform holds / written locally
     sm3 TEXT,                                 -- hex SM3 of the whole file, once known
     attempts INTEGER NOT NULL DEFAULT 0,      -- consecutive failures, for backoff
     error TEXT,
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL
   );
   CREATE INDEX relay_jobs_state ON relay_jobs (state);`,
  // Which process runs a relay job: two agents (serve and a CLI) must never run the same one.
  `ALTER TABLE relay_jobs ADD COLUMN lease_owner TEXT;   -- '<pid>:<random>' of the running agent
   ALTER TABLE relay_jobs ADD COLUMN lease_until INTEGER; -- ms; renewed while the job runs`,
  // The Requests history shows each decision's outcome from the audit entry of its request.
  `CREATE INDEX audit_log_serial ON audit_log (serial_number);`,
];

export const SCHEMA_VERSION = MIGRATIONS.length;
