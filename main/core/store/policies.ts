// Standing approvals: the operator lets an app sign with a seal up to N times until a deadline,
// without asking the signer each time. Every use is taken by one atomic UPDATE, so concurrent
// requests (or processes) never exceed the count.
import { badParam } from '../../common/errors';
import type { Database } from './database';
import { normaliseOrigin, tryNormaliseOrigin } from './origins';
import { checkId, checkInt } from './validate';

export { parseDuration } from './duration';

export const POLICY_MAX_COUNT = 10_000;
export const POLICY_MIN_TTL_MS = 60_000;
export const POLICY_MAX_TTL_MS = 30 * 86_400_000;

export interface StandingPolicy {
  id: number;
  appId: string;
  sealCode: string;
  /** Undefined: any origin the app is allowed from. */
  origin?: string;
  maxCount: number;
  used: number;
  createdAt: number;
  expiresAt: number;
  revokedAt?: number;
}

export interface AddPolicyInput {
  appId: string;
  sealCode: string;
  maxCount: number;
  ttlMs: number;
  origin?: string;
  now?: number;
}

export interface ConsumeInput {
  appId: string;
  sealCode: string;
  /** The request's Origin, if it carried one; only origin-free policies match a request without. */
  origin?: string;
  now?: number;
}

interface PolicyRow {
  id: number;
  app_id: string;
  seal_code: string;
  origin: string | null;
  max_count: number;
  used: number;
  created_at: number;
  expires_at: number;
  revoked_at: number | null;
}

const toPolicy = (r: PolicyRow): StandingPolicy => ({
  id: r.id,
  appId: r.app_id,
  sealCode: r.seal_code,
  ...(r.origin !== null ? { origin: r.origin } : {}),
  maxCount: r.max_count,
  used: r.used,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  ...(r.revoked_at !== null ? { revokedAt: r.revoked_at } : {}),
});

/** Whether a policy can still be used at `now`. */
export const isPolicyActive = (p: StandingPolicy, now = Date.now()): boolean =>
  p.revokedAt === undefined && p.used < p.maxCount && p.expiresAt > now;

export class PolicyStore {
  constructor(private readonly db: Database) {}

  add(input: AddPolicyInput): StandingPolicy {
    const appId = checkId(input.appId, 'appId');
    const sealCode = checkId(input.sealCode, 'sealCode');
    const maxCount = checkInt(input.maxCount, 'maxCount', 1, POLICY_MAX_COUNT);
    const ttlMs = checkInt(input.ttlMs, 'ttlMs', POLICY_MIN_TTL_MS, POLICY_MAX_TTL_MS);
    const origin = input.origin === undefined ? undefined : normaliseOrigin(input.origin);
    const now = input.now ?? Date.now();
    return this.db
      .transaction(() => {
        const app = this.db
          .prepare<[string], { revoked_at: number | null }>(
            'SELECT revoked_at FROM apps WHERE app_id = ?',
          )
          .get(appId);
        if (!app || app.revoked_at !== null)
          throw badParam(`appId ${appId} is not a registered (unrevoked) app`);
        if (
          origin !== undefined &&
          !this.db
            .prepare('SELECT 1 FROM app_origins WHERE app_id = ? AND origin = ?')
            .get(appId, origin)
        )
          throw badParam(`origin ${origin} is not one of app ${appId}'s origins`);
        const row = this.db
          .prepare<unknown[], PolicyRow>(
            `INSERT INTO policies (app_id, seal_code, origin, max_count, created_at, expires_at)
             VALUES (?, ?, ?, ?, ?, ?) RETURNING *`,
          )
          .get(appId, sealCode, origin ?? null, maxCount, now, now + ttlMs)!;
        return toPolicy(row);
      })
      .immediate();
  }

  get(id: number): StandingPolicy | undefined {
    const r = this.db.prepare<[number], PolicyRow>('SELECT * FROM policies WHERE id = ?').get(id);
    return r && toPolicy(r);
  }

  /** Active policies (unrevoked, unexpired, uses left); with includeInactive, every one. */
  list(opts: { includeInactive?: boolean; now?: number } = {}): StandingPolicy[] {
    const rows = opts.includeInactive
      ? this.db.prepare<[], PolicyRow>('SELECT * FROM policies ORDER BY id').all()
      : this.db
          .prepare<[number], PolicyRow>(
            `SELECT * FROM policies
             WHERE revoked_at IS NULL AND used < max_count AND expires_at > ? ORDER BY id`,
          )
          .all(opts.now ?? Date.now());
    return rows.map(toPolicy);
  }

  revoke(id: number, now = Date.now()): StandingPolicy {
    checkInt(id, 'id', 1, Number.MAX_SAFE_INTEGER);
    this.db
      .prepare('UPDATE policies SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?')
      .run(now, id);
    const p = this.get(id);
    if (!p) throw badParam(`id ${id}: no such policy`);
    return p;
  }

  /**
   * Takes one use of a matching policy, or answers undefined when none applies. One UPDATE …
   * RETURNING: the count check and the increment cannot be separated by another writer. A policy
   * pinned to an origin matches only that origin; the app must be live.
   */
  consume(input: ConsumeInput): StandingPolicy | undefined {
    let origin: string | null = null;
    if (input.origin !== undefined) {
      const o = tryNormaliseOrigin(input.origin);
      if (o === undefined) return undefined;
      origin = o;
    }
    const now = input.now ?? Date.now();
    const row = this.db
      .prepare<unknown[], PolicyRow>(
        `UPDATE policies SET used = used + 1
         WHERE id = (
           SELECT p.id FROM policies p JOIN apps a ON a.app_id = p.app_id
           WHERE p.app_id = ? AND p.seal_code = ? AND a.revoked_at IS NULL
             AND p.revoked_at IS NULL AND p.used < p.max_count AND p.expires_at > ?
             AND (p.origin IS NULL OR p.origin = ?)
           ORDER BY (p.origin IS NULL), p.expires_at, p.id LIMIT 1)
         AND used < max_count AND expires_at > ? AND revoked_at IS NULL
         RETURNING *`,
      )
      .get(input.appId, input.sealCode, now, origin, now);
    return row && toPolicy(row);
  }
}
