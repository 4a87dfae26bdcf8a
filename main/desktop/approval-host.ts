/**
 * The desktop AgentHost. A signature request is queued, announced (notification, tray, operator UI)
 * and shown in an approval window one at a time; the first answer wins: the window's, a decision
 * sent by the operator UI (approvals.decide), or the core's timeout (the AbortSignal), which closes
 * the window and declines. The PIN can be typed in the approval window: it is kept in memory for
 * that request's key only, handed out once, and dropped after a minute.
 */
import { EventEmitter } from 'node:events';
import { AgentError, badParam } from '../common/errors';
import { ResultCode } from '../common/codes';
import type {
  ApprovalDecisionInput,
  BatchApproval,
  OperatorEvents,
  PendingApprovalView,
} from '../common/operator-api';
import { auditedOperatorAction } from '../core/audit/operator-audit';
import type { AgentHost, ApprovalDecision, ApprovalRequest, PinRequest } from '../core/host';
import type { AgentStore } from '../core/store/agent-store';
import type { NotificationCtor } from './electron-types';

/** Batch approval bounds: a signer can pre-approve a little, never a blank cheque. */
export const BATCH_MAX_COUNT = 50;
export const BATCH_MIN_TTL_MS = 60_000;
export const BATCH_MAX_TTL_MS = 8 * 3_600_000;
const PIN_KEEP_MS = 60_000;

export interface ApprovalAnswer {
  decision: 'approved' | 'declined';
  pin?: string;
  batch?: BatchApproval;
}

export interface ApprovalUi {
  /**
   * Shows the approval window for one request. `closed` aborts when the request is settled by any
   * other path (timeout, operator UI): the window must close then. Resolves with the window's
   * answer, or 'declined' when the signer closes it.
   */
  showApprovalWindow(req: PendingApprovalView, closed: AbortSignal): Promise<ApprovalAnswer>;
  /** A PIN from the PIN window; null when cancelled. */
  showPinWindow(req: PinRequest): Promise<string | null>;
  /** Brings the approval window (or the main window) forward, e.g. from a notification click. */
  focusApprovals?(): void;
}

export interface DesktopHostOptions {
  ui: ApprovalUi;
  Notification?: NotificationCtor;
  now?: () => number;
  log?: (msg: string, detail?: unknown) => void;
}

type HostEvents = {
  [E in 'approval.requested' | 'approval.resolved']: [OperatorEvents[E]];
};

interface Pending {
  view: PendingApprovalView;
  settle(answer: ApprovalAnswer, how?: 'timeout'): void;
  closed: AbortController;
}

/** The batch, checked against the bounds; 1001 naming the bound otherwise. */
export function checkBatch(b: BatchApproval): BatchApproval {
  if (!Number.isSafeInteger(b.count) || b.count < 1 || b.count > BATCH_MAX_COUNT)
    throw badParam(`batch.count must be from 1 to ${BATCH_MAX_COUNT}`);
  if (!Number.isSafeInteger(b.ttlMs) || b.ttlMs < BATCH_MIN_TTL_MS || b.ttlMs > BATCH_MAX_TTL_MS)
    throw badParam(`batch.ttlMs must be from 1 minute to 8 hours`);
  return b;
}

export class DesktopHost extends EventEmitter<HostEvents> implements AgentHost {
  private readonly queue = new Map<string, Pending>();
  private showing: Promise<unknown> = Promise.resolve();
  private store: Pick<AgentStore, 'policies' | 'audit'> | undefined;
  private pin: { ukeyId: string; pin: string; until: number } | undefined;
  private readonly now: () => number;

  constructor(private readonly o: DesktopHostOptions) {
    super();
    this.now = o.now ?? Date.now;
  }

  /** The store exists only once the agent is created (the agent needs this host first). */
  bindStore(store: Pick<AgentStore, 'policies' | 'audit'>): void {
    this.store = store;
  }

  pending(): PendingApprovalView[] {
    return [...this.queue.values()].map((p) => p.view);
  }

  approve(req: ApprovalRequest, signal: AbortSignal): Promise<ApprovalDecision> {
    if (signal.aborted) return Promise.resolve('declined');
    return new Promise<ApprovalDecision>((resolve) => {
      const view: PendingApprovalView = { ...req, receivedAt: this.now() };
      const closed = new AbortController();
      const onAbort = (): void => entry.settle({ decision: 'declined' }, 'timeout');
      const entry: Pending = {
        view,
        closed,
        settle: (answer, how) => {
          if (!this.queue.delete(req.requestId)) return; // answered already
          signal.removeEventListener('abort', onAbort);
          closed.abort();
          if (answer.decision === 'approved' && answer.pin !== undefined)
            this.pin = { ukeyId: req.ukeyId, pin: answer.pin, until: this.now() + PIN_KEEP_MS };
          this.emit('approval.resolved', {
            requestId: req.requestId,
            decision: how ?? answer.decision,
          });
          resolve(answer.decision);
        },
      };
      this.queue.set(req.requestId, entry);
      signal.addEventListener('abort', onAbort, { once: true });
      this.emit('approval.requested', view);
      this.notify(view);
      this.showInTurn(entry);
    });
  }

  /** A decision from the operator UI; the batch policy (if any) is made after this request is settled. */
  async decide(input: ApprovalDecisionInput): Promise<void> {
    const entry = this.queue.get(input.requestId);
    if (!entry) throw badParam('no such pending request (answered or timed out)');
    if (input.batch !== undefined) {
      if (input.decision !== 'approved') throw badParam('batch is given only when approving');
      checkBatch(input.batch);
    }
    entry.settle(input);
    if (!input.batch) return;
    try {
      await this.createBatchPolicy(entry.view, input.batch);
    } catch (e) {
      // The signer's own approval stands; only the standing policy failed.
      const msg = e instanceof AgentError ? e.message : 'internal error';
      throw new AgentError(
        e instanceof AgentError ? e.code : ResultCode.INTERNAL,
        `this request was approved; the batch approval was not created: ${msg}`,
      );
    }
  }

  async askPin(req: PinRequest): Promise<string | null> {
    const kept = this.pin;
    if (kept && req.kind === 'user') {
      this.pin = undefined; // once, whatever happens next
      if (kept.ukeyId === req.ukeyId && kept.until > this.now() && !req.previousAttemptFailed)
        return kept.pin;
    }
    return this.o.ui.showPinWindow(req);
  }

  /** One approval window at a time, in arrival order; settled requests are skipped. */
  private showInTurn(entry: Pending): void {
    this.showing = this.showing.then(async () => {
      if (!this.queue.has(entry.view.requestId)) return;
      let answer: ApprovalAnswer;
      try {
        answer = await this.o.ui.showApprovalWindow(entry.view, entry.closed.signal);
        if (answer.batch !== undefined) {
          if (answer.decision !== 'approved') throw badParam('batch is given only when approving');
          checkBatch(answer.batch);
        }
      } catch (e) {
        this.o.log?.('approval window failed: declined', e);
        answer = { decision: 'declined' }; // fail closed
      }
      const wasPending = this.queue.has(entry.view.requestId);
      entry.settle(answer);
      if (wasPending && answer.batch) {
        await this.createBatchPolicy(entry.view, answer.batch).catch((e) =>
          this.o.log?.('standing approval not created', e),
        );
      }
    });
  }

  private async createBatchPolicy(view: PendingApprovalView, batch: BatchApproval): Promise<void> {
    const store = this.store;
    if (!store) throw new AgentError(ResultCode.INTERNAL, 'not available in this build');
    await auditedOperatorAction(
      store.audit,
      {
        interface: 'approvals.batch',
        appId: view.appId,
        raw: { requestId: view.requestId, origin: view.origin, sealCode: view.sealCode, ...batch },
        normalized: (p: { id: number }) => ({ policyId: p.id }),
      },
      () =>
        store.policies.add({
          appId: view.appId,
          sealCode: view.sealCode,
          origin: view.origin,
          maxCount: batch.count,
          ttlMs: batch.ttlMs,
          now: this.now(),
        }),
    );
  }

  private notify(view: PendingApprovalView): void {
    const N = this.o.Notification;
    if (!N) return;
    try {
      const n = new N({
        title: '签名请求 / Signature request',
        body: `${view.origin} — ${view.sealName}`,
      });
      n.on('click', () => this.o.ui.focusApprovals?.());
      n.show();
    } catch (e) {
      this.o.log?.('notification failed', e); // the window still shows
    }
  }
}
