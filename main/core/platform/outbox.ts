// The agent's persistent outbox for platform operations that change state (seal filing and state
// changes): each is stored with its own idempotency key before it is sent and retried until the
// platform answers, across restarts. The key (sent as `requestId`) makes a repeat after a lost
// answer safe: the platform answers the first answer again instead of filing the seal twice.
import { randomUUID } from 'node:crypto';
import { ResultCode } from '../../common/codes';
import { AgentError, badParam, toAgentError } from '../../common/errors';
import type { Database } from '../store/database';
import type { SealFilingParams, SealFilingResult, SealStateParams } from './types';

export type OutboxOperation =
  | { kind: 'seal.filing'; params: SealFilingParams }
  | { kind: 'seal.state'; params: SealStateParams };

export type OutboxStatus = 'pending' | 'delivered' | 'failed';

export interface OutboxItem {
  id: number;
  kind: OutboxOperation['kind'];
  requestId: string;
  params: Record<string, unknown>;
  status: OutboxStatus;
  attempts: number;
  nextAttemptAt: number;
  /** The platform's `data` once delivered (a filing's sealCode; null for a state change). */
  result: unknown;
  /** The last error: final when failed, the reason for the next retry while pending. */
  errorCode: string | null;
  errorMessage: string | null;
  createdAt: number;
  updatedAt: number;
}

interface Row {
  id: number;
  kind: OutboxOperation['kind'];
  request_id: string;
  params: string;
  status: OutboxStatus;
  attempts: number;
  next_attempt_at: number;
  result: string | null;
  error_code: string | null;
  error_message: string | null;
  created_at: number;
  updated_at: number;
}

const KINDS = new Set(['seal.filing', 'seal.state']);

const toItem = (r: Row): OutboxItem => ({
  id: r.id,
  kind: r.kind,
  requestId: r.request_id,
  params: JSON.parse(r.params) as Record<string, unknown>,
  status: r.status,
  attempts: r.attempts,
  nextAttemptAt: r.next_attempt_at,
  result: r.result === null ? null : (JSON.parse(r.result) as unknown),
  errorCode: r.error_code,
  errorMessage: r.error_message,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/** The table `platform_outbox` of the agent database (migration 2). */
export class Outbox {
  constructor(private readonly db: Database) {}

  /** Stores the operation with a fresh idempotency key; nothing is sent yet. */
  enqueue(op: OutboxOperation, now = Date.now()): OutboxItem {
    if (!KINDS.has(op.kind)) throw badParam(`unknown outbox operation ${String(op.kind)}`);
    // The key is ours: a caller-chosen requestId in params would be sent with another one.
    const { requestId: _ignored, ...params } = op.params as unknown as Record<string, unknown>;
    const requestId = randomUUID();
    const info = this.db
      .prepare(
        `INSERT INTO platform_outbox (kind, request_id, params, status, next_attempt_at, created_at, updated_at)
         VALUES (?, ?, ?, 'pending', ?, ?, ?)`,
      )
      .run(op.kind, requestId, JSON.stringify(params), now, now, now);
    return this.get(Number(info.lastInsertRowid))!;
  }

  get(id: number): OutboxItem | undefined {
    const row = this.db
      .prepare<[number], Row>('SELECT * FROM platform_outbox WHERE id = ?')
      .get(id);
    return row && toItem(row);
  }

  list(status?: OutboxStatus): OutboxItem[] {
    const rows =
      status === undefined
        ? this.db.prepare<[], Row>('SELECT * FROM platform_outbox ORDER BY id').all()
        : this.db
            .prepare<[string], Row>('SELECT * FROM platform_outbox WHERE status = ? ORDER BY id')
            .all(status);
    return rows.map(toItem);
  }

  /**
   * Pending items due at `now`, leased to the caller until `now + leaseMs` so that a second worker
   * (the CLI while `serve` runs) does not send them at the same time. A lease left by a killed
   * process simply runs out.
   */
  claimDue(now: number, leaseMs: number, limit = 20, onlyId?: number): OutboxItem[] {
    return this.db
      .transaction((): OutboxItem[] => {
        const rows = this.db
          .prepare<[number, number, number | null, number | null, number], Row>(
            `SELECT * FROM platform_outbox WHERE status = 'pending' AND next_attempt_at <= ?
               AND (lease_until IS NULL OR lease_until <= ?) AND (? IS NULL OR id = ?)
             ORDER BY next_attempt_at, id LIMIT ?`,
          )
          .all(now, now, onlyId ?? null, onlyId ?? null, limit);
        const lease = this.db.prepare(
          'UPDATE platform_outbox SET lease_until = ?, attempts = attempts + 1 WHERE id = ?',
        );
        for (const r of rows) lease.run(now + leaseMs, r.id);
        return rows.map((r) => toItem({ ...r, attempts: r.attempts + 1 }));
      })
      .immediate();
  }

  markDelivered(id: number, result: unknown, now = Date.now()): void {
    this.db
      .prepare(
        `UPDATE platform_outbox SET status = 'delivered', result = ?, lease_until = NULL,
           error_code = NULL, error_message = NULL, updated_at = ? WHERE id = ? AND status = 'pending'`,
      )
      .run(JSON.stringify(result ?? null), now, id);
  }

  markRetry(id: number, error: AgentError, nextAttemptAt: number, now = Date.now()): void {
    this.db
      .prepare(
        `UPDATE platform_outbox SET next_attempt_at = ?, lease_until = NULL, error_code = ?,
           error_message = ?, updated_at = ? WHERE id = ? AND status = 'pending'`,
      )
      .run(nextAttemptAt, error.code, error.message, now, id);
  }

  markFailed(id: number, error: AgentError, now = Date.now()): void {
    this.db
      .prepare(
        `UPDATE platform_outbox SET status = 'failed', lease_until = NULL, error_code = ?,
           error_message = ?, updated_at = ? WHERE id = ? AND status = 'pending'`,
      )
      .run(error.code, error.message, now, id);
  }
}

/** What the worker needs of the platform client. */
export interface OutboxPlatform {
  fileSeal(params: SealFilingParams): Promise<SealFilingResult>;
  setSealState(params: SealStateParams): Promise<void>;
}

export interface OutboxWorkerOptions {
  /** First retry delay (default 1 s); doubles per attempt up to maxDelayMs (default 5 min). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** How long a claimed item is reserved for this worker (default 60 s). */
  leaseMs?: number;
  clock?: () => number;
  /** Called between the platform's answer and the outbox recording it (tests simulate crashes). */
  onAnswered?: (item: OutboxItem, result: unknown) => void | Promise<void>;
}

/**
 * Whether an error is worth another try: the platform was not reached or its answer could not be
 * trusted (3001), or it reported a fault of its own. Any refusal of the request (1001, 1005,
 * 2006, ...) is the platform's final answer.
 */
export function isTransient(e: AgentError): boolean {
  return e.code === ResultCode.PLATFORM_UNAVAILABLE || e.detail?.retryable === true;
}

/** Delay before attempt `attempts + 1`: exponential, half fixed and half random (jitter). */
export function backoffDelay(attempts: number, baseMs: number, maxMs: number): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempts - 1));
  return Math.floor(ceiling / 2 + Math.random() * (ceiling / 2));
}

async function send(platform: OutboxPlatform, item: OutboxItem): Promise<unknown> {
  const params = { ...item.params, requestId: item.requestId };
  if (item.kind === 'seal.filing') return platform.fileSeal(params as unknown as SealFilingParams);
  await platform.setSealState(params as unknown as SealStateParams);
  return null;
}

/** Delivers the outbox's due items; `start` keeps doing so until `stop`. */
export class OutboxWorker {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private stopped = true;
  private readonly clock: () => number;

  constructor(
    private readonly outbox: Outbox,
    private readonly platform: OutboxPlatform,
    private readonly options: OutboxWorkerOptions = {},
  ) {
    this.clock = options.clock ?? Date.now;
  }

  /** One attempt at each due item (or only `onlyId`); answers the items as they now stand. */
  async runOnce(onlyId?: number): Promise<OutboxItem[]> {
    const leaseMs = this.options.leaseMs ?? 60_000;
    const out: OutboxItem[] = [];
    for (const item of this.outbox.claimDue(this.clock(), leaseMs, 20, onlyId)) {
      await this.attempt(item);
      out.push(this.outbox.get(item.id)!);
    }
    return out;
  }

  private async attempt(item: OutboxItem): Promise<void> {
    let result: unknown;
    try {
      result = await send(this.platform, item);
    } catch (e) {
      const err = toAgentError(e);
      const now = this.clock();
      if (e instanceof AgentError && !isTransient(err)) this.outbox.markFailed(item.id, err, now);
      else {
        const delay = backoffDelay(
          item.attempts,
          this.options.baseDelayMs ?? 1_000,
          this.options.maxDelayMs ?? 300_000,
        );
        this.outbox.markRetry(item.id, err, now + delay, now);
      }
      return;
    }
    await this.options.onAnswered?.(item, result);
    this.outbox.markDelivered(item.id, result, this.clock());
  }

  /** Runs every `pollMs` (default 1 s) until stopped; pending items of earlier runs resume. */
  start(pollMs = 1_000): void {
    if (!this.stopped) return;
    this.stopped = false;
    const tick = (): void => {
      if (this.stopped) return;
      this.running = this.runOnce()
        .catch(() => undefined) // a database hiccup: the next tick tries again
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(tick, pollMs);
        });
    };
    tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /**
   * Tries item `id` until it is delivered or failed, or `timeoutMs` passes (then it stays pending
   * for a later run): what `platform seals file` waits on.
   */
  async deliver(id: number, timeoutMs: number): Promise<OutboxItem> {
    const deadline = this.clock() + timeoutMs;
    for (;;) {
      await this.runOnce(id);
      const item = this.outbox.get(id);
      if (!item) throw badParam(`no outbox item ${id}`);
      if (item.status !== 'pending') return item;
      const now = this.clock();
      if (now >= deadline) return item;
      const wait = Math.min(Math.max(item.nextAttemptAt - now, 50), deadline - now);
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}
