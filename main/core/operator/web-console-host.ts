/**
 * The headless console's AgentHost (`serve --console`): signature requests and PIN prompts are
 * queued and announced as operator events; the web UI answers them with approvals.decide and
 * pins.answer. The first answer wins; the core's timeout (the AbortSignal) declines a request, and
 * an unanswered PIN prompt is cancelled after `pinTimeoutMs`.
 *
 * A PIN typed with an approval is checked before the request is approved, by logging in to that
 * key with it: a wrong PIN is answered to the signer (2002 with the tries left) and the request stays
 * pending, so the signer can try again or decline — the JSAPI caller never sees a half-approval.
 * Approving without a PIN leaves it to the token: if the key needs one, a pin.requested prompt
 * follows.
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { AgentError, badParam } from '../../common/errors';
import { ResultCode } from '../../common/codes';
import type {
  ApprovalDecisionInput,
  OperatorEvents,
  PendingApprovalView,
  PinAnswerInput,
  PinPromptView,
} from '../../common/operator-api';
import type { AgentHost, ApprovalDecision, ApprovalRequest, PinRequest } from '../host';
import type { AgentStore } from '../store/agent-store';
import type { TokenService } from '../token/token-service';
import { checkDecisionBatch, createBatchPolicy } from './approval-queue';

export interface WebConsoleHostOptions {
  /** How long a PIN prompt waits for the web UI (default 2 minutes). */
  pinTimeoutMs?: number;
  /** The user PIN from a 0600 file (unattended signing), read when a PIN is needed. */
  userPin?: () => string;
  now?: () => number;
  log?: (msg: string, detail?: unknown) => void;
}

type HostEvents = {
  [E in 'approval.requested' | 'approval.resolved' | 'pin.requested' | 'pin.resolved']: [
    OperatorEvents[E],
  ];
};

interface PendingApproval {
  view: PendingApprovalView;
  /** A decide() is checking its PIN: a second one is refused meanwhile. */
  busy: boolean;
  settle(decision: ApprovalDecision, how?: 'timeout'): void;
}

interface PendingPin {
  view: PinPromptView;
  settle(pin: string | null, outcome: 'answered' | 'cancelled' | 'timeout'): void;
}

export class WebConsoleHost extends EventEmitter<HostEvents> implements AgentHost {
  private readonly approvals = new Map<string, PendingApproval>();
  private readonly pins = new Map<string, PendingPin>();
  /** A PIN being checked for an approval: handed out once, to that key's next user login. */
  private readonly checking = new Map<string, string>();
  private store: Pick<AgentStore, 'policies' | 'audit'> | undefined;
  private tokens: Pick<TokenService, 'keys' | 'logout'> | undefined;
  private readonly now: () => number;
  private readonly pinTimeoutMs: number;

  constructor(private readonly o: WebConsoleHostOptions = {}) {
    super();
    this.now = o.now ?? Date.now;
    this.pinTimeoutMs = o.pinTimeoutMs ?? 120_000;
  }

  /** The store and tokens exist only once the agent is created (the agent needs this host first). */
  bind(d: {
    store: Pick<AgentStore, 'policies' | 'audit'>;
    tokens: Pick<TokenService, 'keys' | 'logout'>;
  }): void {
    this.store = d.store;
    this.tokens = d.tokens;
  }

  pending(): PendingApprovalView[] {
    return [...this.approvals.values()].map((p) => p.view);
  }

  pendingPins(): PinPromptView[] {
    return [...this.pins.values()].map((p) => p.view);
  }

  approve(req: ApprovalRequest, signal: AbortSignal): Promise<ApprovalDecision> {
    if (signal.aborted) return Promise.resolve('declined');
    return new Promise<ApprovalDecision>((resolve) => {
      const view: PendingApprovalView = { ...req, receivedAt: this.now() };
      const onAbort = (): void => entry.settle('declined', 'timeout');
      const entry: PendingApproval = {
        view,
        busy: false,
        settle: (decision, how) => {
          if (!this.approvals.delete(req.requestId)) return; // answered already
          signal.removeEventListener('abort', onAbort);
          this.emit('approval.resolved', { requestId: req.requestId, decision: how ?? decision });
          resolve(decision);
        },
      };
      this.approvals.set(req.requestId, entry);
      signal.addEventListener('abort', onAbort, { once: true });
      this.emit('approval.requested', view);
    });
  }

  /** The signer's decision from the web UI; see the file comment for the PIN. */
  async decide(input: ApprovalDecisionInput): Promise<void> {
    const entry = this.approvals.get(input.requestId);
    if (!entry) throw badParam('no such pending request (answered or timed out)');
    if (entry.busy) throw badParam('this request is being decided already');
    checkDecisionBatch(input.decision, input.batch);
    if (input.decision === 'declined') return entry.settle('declined');
    if (input.pin !== undefined) {
      entry.busy = true;
      try {
        await this.checkPin(entry.view, input.pin);
      } finally {
        entry.busy = false;
      }
      if (!this.approvals.has(input.requestId))
        throw new AgentError(ResultCode.APPROVAL_TIMEOUT, 'the request timed out meanwhile');
    }
    entry.settle('approved');
    if (!input.batch) return;
    try {
      await createBatchPolicy(this.store, entry.view, input.batch, this.now());
    } catch (e) {
      // The signer's own approval stands; only the standing policy failed.
      const msg = e instanceof AgentError ? e.message : 'internal error';
      throw new AgentError(
        e instanceof AgentError ? e.code : ResultCode.INTERNAL,
        `this request was approved; the batch approval was not created: ${msg}`,
      );
    }
  }

  /** Logs in to the request's key with `pin`; throws the token's 2002 (tries left) when wrong. */
  private async checkPin(view: PendingApprovalView, pin: string): Promise<void> {
    if (!this.tokens) throw new AgentError(ResultCode.INTERNAL, 'not available in this build');
    // A fresh login even when the key is logged in already: the PIN typed is the one checked.
    await this.tokens.logout(view.ukeyId);
    this.checking.set(view.ukeyId, pin);
    try {
      await this.tokens.keys(view.ukeyId, `approve the signature request from ${view.origin}`, {
        action: 'approve',
        origin: view.origin,
      });
    } finally {
      this.checking.delete(view.ukeyId);
    }
  }

  async askPin(req: PinRequest): Promise<string | null> {
    if (req.kind === 'user') {
      const pin = this.checking.get(req.ukeyId);
      if (pin !== undefined) {
        this.checking.delete(req.ukeyId); // once, whatever happens next
        return pin;
      }
      if (this.o.userPin) return this.o.userPin();
    }
    return this.prompt({
      ukeyId: req.ukeyId,
      tokenLabel: req.tokenLabel,
      kind: req.kind,
      reason: req.reason,
      ...(req.purpose ? { purpose: req.purpose } : {}),
      ...(req.triesLeft !== undefined ? { triesLeft: req.triesLeft } : {}),
      ...(req.previousAttemptFailed ? { previousAttemptFailed: true } : {}),
    });
  }

  /**
   * The agent's key store passphrase (the desktop unlocking the platform identity at start), asked
   * in the same prompt as a PIN with kind 'passphrase'; null when cancelled or unanswered.
   */
  askPassphrase(req: { reason: string; previousAttemptFailed?: boolean }): Promise<string | null> {
    return this.prompt({
      ukeyId: '',
      tokenLabel: '',
      kind: 'passphrase',
      reason: req.reason,
      ...(req.previousAttemptFailed ? { previousAttemptFailed: true } : {}),
    });
  }

  private prompt(fields: Omit<PinPromptView, 'requestId' | 'expiresAt'>): Promise<string | null> {
    return new Promise<string | null>((resolve) => {
      const requestId = randomBytes(16).toString('hex');
      const view: PinPromptView = {
        requestId,
        ...fields,
        expiresAt: this.now() + this.pinTimeoutMs,
      };
      const timer = setTimeout(() => entry.settle(null, 'timeout'), this.pinTimeoutMs);
      timer.unref();
      const entry: PendingPin = {
        view,
        settle: (pin, outcome) => {
          if (!this.pins.delete(requestId)) return;
          clearTimeout(timer);
          this.emit('pin.resolved', { requestId, outcome });
          resolve(pin);
        },
      };
      this.pins.set(requestId, entry);
      this.emit('pin.requested', view);
    });
  }

  /** pins.answer: the PIN for a prompt, or its cancellation. */
  answerPin(input: PinAnswerInput): void {
    const entry = this.pins.get(input.requestId);
    if (!entry) throw badParam('no such PIN prompt (answered, cancelled or timed out)');
    if (input.cancel) return entry.settle(null, 'cancelled');
    if (input.pin === undefined || input.pin.length === 0)
      throw badParam('request.pin is needed (or cancel: true)');
    entry.settle(input.pin, 'answered');
  }

  /** Declines and cancels everything still waiting (the console is closing). */
  closeAll(): void {
    for (const p of [...this.approvals.values()]) p.settle('declined', 'timeout');
    for (const p of [...this.pins.values()]) p.settle(null, 'cancelled');
  }
}
