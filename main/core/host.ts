/**
 * How the core asks a person for something. The core never opens a window or reads stdin: the
 * desktop shell (tray prompt), the headless console and the tests each implement this.
 */
import type { PinPurpose } from '../common/operator-api';

export type PinKind = 'user' | 'so' | 'new-user' | 'new-so';

export interface PinRequest {
  ukeyId: string;
  tokenLabel: string;
  kind: PinKind;
  /** What the PIN is for, in words the signer understands. */
  reason: string;
  /** The same, structured, for a UI in another language. */
  purpose?: PinPurpose;
  /** Tries left before the key locks, when the key tells. */
  triesLeft?: number;
  /** Set when the previous attempt failed (the core never retries by itself). */
  previousAttemptFailed?: boolean;
}

export interface PinHost {
  /** A PIN, or null when the person cancelled. */
  askPin(req: PinRequest): Promise<string | null>;
}

/** What the signer is shown before a signature (the origin is the browser's, never the page's). */
export interface ApprovalRequest {
  requestId: string;
  /** The Origin header exactly as the browser sent it. */
  origin: string;
  appId: string;
  appName?: string;
  sealCode: string;
  sealName: string;
  sealType?: string;
  /** Base64 seal image from the platform. */
  moulageData?: string;
  ukeyId: string;
  tokenLabel: string;
  development: boolean;
  certSubject: string;
  format: 'P1' | 'P7';
  hashName: string;
  /** The bytes to be signed (docHash), hex. */
  digestHex: string;
  /** When the request is declined as timed out if unanswered (ms since the epoch). */
  expiresAt?: number;
}

export type ApprovalDecision = 'approved' | 'declined';

export interface ApprovalHost {
  /** The signer's decision; `signal` aborts when the request times out or the caller goes away. */
  approve(req: ApprovalRequest, signal: AbortSignal): Promise<ApprovalDecision>;
}

/** Everything the core may ask a person for. */
export interface AgentHost extends PinHost, ApprovalHost {}
