/**
 * The desktop AgentHost: the operator-UI host of the core (WebConsoleHost: queue, first answer wins,
 * timeout declines, PIN typed with an approval checked by logging in, bounded batch approval) plus
 * what a desktop adds: an OS notification for every request, and windows. Every request not covered
 * by a standing policy raises its approval window; windows show one at a time in arrival order and
 * close as soon as their request is settled any other way (timeout, another window, the tray). A
 * PIN the core asks outside an approval (PIN change, unblock, key generation) opens a PIN window.
 *
 * The windows answer through the operator API (approvals.decide, pins.answer) like any other UI;
 * closing a window declines its request, or cancels its PIN prompt. A wrong PIN is reported back
 * to the window (2002 with the tries left) and never retried by the agent.
 */
import type { PendingApprovalView, PinPromptView } from '../common/operator-api';
import { WebConsoleHost } from '../core/operator/web-console-host';
import type { NotificationCtor } from './electron-types';

/** A window the host opened; `close()` is a no-op once it is gone. */
export interface WindowHandle {
  close(): void;
}

export interface ApprovalUi {
  /** Opens the approval window of one request; `onClosed` runs when the window goes away. */
  openApproval(view: PendingApprovalView, onClosed: () => void): WindowHandle;
  /** Opens the PIN window of one prompt; `onClosed` runs when the window goes away. */
  openPin(view: PinPromptView, onClosed: () => void): WindowHandle;
  /** Brings the open approval window (or the main window) forward, e.g. from a notification. */
  focusApprovals?(): void;
}

export interface DesktopHostOptions {
  ui: ApprovalUi;
  Notification?: NotificationCtor;
  /** How long a PIN prompt waits (default 2 minutes), then it is cancelled. */
  pinTimeoutMs?: number;
  now?: () => number;
  log?: (msg: string, detail?: unknown) => void;
}

/** One kind of window (approval or PIN): one open at a time, the rest waiting in arrival order. */
class WindowQueue<V extends { requestId: string }> {
  private readonly waiting: V[] = [];
  private current: { id: string; handle: WindowHandle | undefined } | undefined;

  constructor(
    private readonly open: (view: V, onClosed: () => void) => WindowHandle,
    /** The window went away while its request was still waiting: decline / cancel it. */
    private readonly onAbandoned: (id: string) => void,
    private readonly log?: (msg: string, detail?: unknown) => void,
  ) {}

  add(view: V): void {
    this.waiting.push(view);
    this.next();
  }

  /** The request is settled: close its window, or drop it from the queue. */
  settled(id: string): void {
    const i = this.waiting.findIndex((v) => v.requestId === id);
    if (i >= 0) this.waiting.splice(i, 1);
    if (this.current?.id !== id) return;
    const h = this.current.handle;
    this.current = undefined;
    h?.close();
    this.next();
  }

  openIds(): string[] {
    return this.current ? [this.current.id] : [];
  }

  private next(): void {
    if (this.current) return;
    const view = this.waiting.shift();
    if (!view) return;
    const id = view.requestId;
    const slot: { id: string; handle: WindowHandle | undefined } = { id, handle: undefined };
    this.current = slot;
    const onClosed = (): void => {
      if (this.current !== slot) return; // closed because it was settled
      this.current = undefined;
      this.onAbandoned(id);
      this.next();
    };
    try {
      slot.handle = this.open(view, onClosed);
    } catch (e) {
      this.log?.('window failed to open', e);
      onClosed(); // fail closed: decline / cancel
    }
  }
}

export class DesktopHost extends WebConsoleHost {
  private readonly approvalWindows: WindowQueue<PendingApprovalView>;
  private readonly pinWindows: WindowQueue<PinPromptView>;

  constructor(private readonly d: DesktopHostOptions) {
    super({
      ...(d.pinTimeoutMs !== undefined ? { pinTimeoutMs: d.pinTimeoutMs } : {}),
      ...(d.now ? { now: d.now } : {}),
      ...(d.log ? { log: d.log } : {}),
    });
    this.approvalWindows = new WindowQueue(
      (v, closed) => d.ui.openApproval(v, closed),
      (requestId) =>
        this.decide({ requestId, decision: 'declined' }).catch(
          (e) => d.log?.('declining a closed approval window failed', e), // settled meanwhile
        ),
      d.log,
    );
    this.pinWindows = new WindowQueue(
      (v, closed) => d.ui.openPin(v, closed),
      (requestId) => {
        try {
          this.answerPin({ requestId, cancel: true });
        } catch (e) {
          d.log?.('cancelling a closed PIN window failed', e); // settled meanwhile
        }
      },
      d.log,
    );
    this.on('approval.requested', (view) => {
      this.notify('签名请求 / Signature request', `${view.origin} — ${view.sealName}`);
      this.approvalWindows.add(view);
    });
    this.on('approval.resolved', ({ requestId }) => this.approvalWindows.settled(requestId));
    this.on('pin.requested', (view) => this.pinWindows.add(view));
    this.on('pin.resolved', ({ requestId }) => this.pinWindows.settled(requestId));
  }

  /** The requests whose approval window is open now (at most one). */
  openApprovalWindows(): string[] {
    return this.approvalWindows.openIds();
  }

  private notify(title: string, body: string): void {
    const N = this.d.Notification;
    if (!N) return;
    try {
      const n = new N({ title, body });
      n.on('click', () => this.d.ui.focusApprovals?.());
      n.show();
    } catch (e) {
      this.d.log?.('notification failed', e); // the window still shows
    }
  }
}
