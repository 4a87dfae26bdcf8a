// The relay's job queue in the agent database (table relay_jobs): every fact needed to resume a
// transfer after the agent restarts. The state column is also how other processes steer a job.
import type { Database } from '../store/database';

export type RelayJobKind = 'upload' | 'download';
export type RelayJobState = 'queued' | 'running' | 'paused' | 'done' | 'failed' | 'canceled';

export interface RelayJob {
  id: number;
  kind: RelayJobKind;
  state: RelayJobState;
  baseUrl: string;
  localPath: string;
  fileId: string | null;
  filename: string | null;
  size: number | null;
  offset: number;
  sm3: string | null;
  attempts: number;
  error: string | null;
  createdAt: number;
  updatedAt: number;
}

interface Row {
  id: number;
  kind: RelayJobKind;
  state: RelayJobState;
  base_url: string;
  local_path: string;
  file_id: string | null;
  filename: string | null;
  size: number | null;
  offset: number;
  sm3: string | null;
  attempts: number;
  error: string | null;
  created_at: number;
  updated_at: number;
}

const toJob = (r: Row): RelayJob => ({
  id: r.id,
  kind: r.kind,
  state: r.state,
  baseUrl: r.base_url,
  localPath: r.local_path,
  fileId: r.file_id,
  filename: r.filename,
  size: r.size,
  offset: r.offset,
  sm3: r.sm3,
  attempts: r.attempts,
  error: r.error,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/** Fields a transfer may update as it goes. */
export type RelayJobPatch = Partial<
  Pick<RelayJob, 'state' | 'fileId' | 'filename' | 'size' | 'offset' | 'sm3' | 'attempts' | 'error'>
>;

const COLUMNS: Record<keyof RelayJobPatch, string> = {
  state: 'state',
  fileId: 'file_id',
  filename: 'filename',
  size: 'size',
  offset: 'offset',
  sm3: 'sm3',
  attempts: 'attempts',
  error: 'error',
};

export const FINAL_STATES: readonly RelayJobState[] = ['done', 'canceled'];

export class RelayJobStore {
  constructor(
    private readonly db: Database,
    private readonly clock: () => number = Date.now,
  ) {}

  add(job: {
    kind: RelayJobKind;
    baseUrl: string;
    localPath: string;
    fileId?: string;
    filename?: string;
  }): RelayJob {
    const now = this.clock();
    const { lastInsertRowid } = this.db
      .prepare(
        `INSERT INTO relay_jobs (kind, state, base_url, local_path, file_id, filename, created_at, updated_at)
         VALUES (?, 'queued', ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        job.kind,
        job.baseUrl,
        job.localPath,
        job.fileId ?? null,
        job.filename ?? null,
        now,
        now,
      );
    return this.get(Number(lastInsertRowid))!;
  }

  get(id: number): RelayJob | undefined {
    const row = this.db.prepare('SELECT * FROM relay_jobs WHERE id = ?').get(id) as Row | undefined;
    return row && toJob(row);
  }

  list(): RelayJob[] {
    return (this.db.prepare('SELECT * FROM relay_jobs ORDER BY id').all() as Row[]).map(toJob);
  }

  /** Jobs to (re)start: queued ones, and running ones whose process died. */
  pending(): RelayJob[] {
    return (
      this.db
        .prepare("SELECT * FROM relay_jobs WHERE state IN ('queued', 'running') ORDER BY id")
        .all() as Row[]
    ).map(toJob);
  }

  update(id: number, patch: RelayJobPatch): RelayJob {
    const keys = Object.keys(patch) as (keyof RelayJobPatch)[];
    const sets = keys.map((k) => `${COLUMNS[k]} = @${k}`);
    this.db
      .prepare(`UPDATE relay_jobs SET ${[...sets, 'updated_at = @now'].join(', ')} WHERE id = @id`)
      .run({ ...patch, id, now: this.clock() });
    return this.get(id)!;
  }

  /**
   * Takes a queued or interrupted job for `owner` until `now + leaseMs`. A job another agent is
   * running is left alone unless its lease ran out or `ownerAlive` says that agent is gone (a
   * SIGKILLed process is noticed at once, without waiting for the lease). Atomic.
   */
  claim(
    id: number,
    owner: string,
    leaseMs: number,
    ownerAlive: (owner: string) => boolean,
  ): boolean {
    return this.db
      .transaction((): boolean => {
        const row = this.db
          .prepare('SELECT state, lease_owner, lease_until FROM relay_jobs WHERE id = ?')
          .get(id) as
          | { state: RelayJobState; lease_owner: string | null; lease_until: number | null }
          | undefined;
        const now = this.clock();
        if (!row) return false;
        if (row.state === 'running' && row.lease_owner !== null && row.lease_owner !== owner) {
          const expired = row.lease_until === null || row.lease_until < now;
          if (!expired && ownerAlive(row.lease_owner)) return false;
        } else if (row.state !== 'queued' && row.state !== 'running') return false;
        this.db
          .prepare(
            `UPDATE relay_jobs SET state = 'running', lease_owner = ?, lease_until = ?, updated_at = ?
           WHERE id = ?`,
          )
          .run(owner, now + leaseMs, now, id);
        return true;
      })
      .immediate();
  }

  /** Extends the lease while the job runs; false if another agent took it over. */
  renew(id: number, owner: string, leaseMs: number): boolean {
    return (
      this.db
        .prepare('UPDATE relay_jobs SET lease_until = ? WHERE id = ? AND lease_owner = ?')
        .run(this.clock() + leaseMs, id, owner).changes === 1
    );
  }

  release(id: number, owner: string): void {
    this.db
      .prepare(
        'UPDATE relay_jobs SET lease_owner = NULL, lease_until = NULL WHERE id = ? AND lease_owner = ?',
      )
      .run(id, owner);
  }

  /**
   * Moves a job from one of `from` to `to` in one statement; false if it was in another state
   * (another process got there first).
   */
  transition(id: number, from: readonly RelayJobState[], to: RelayJobState): boolean {
    const marks = from.map(() => '?').join(', ');
    return (
      this.db
        .prepare(
          `UPDATE relay_jobs SET state = ?, updated_at = ? WHERE id = ? AND state IN (${marks})`,
        )
        .run(to, this.clock(), id, ...from).changes === 1
    );
  }
}
