/**
 * How the core asks a person for something. The core never opens a window or reads stdin: the
 * desktop shell (tray prompt), the headless console and the tests each implement this.
 */
export type PinKind = 'user' | 'so' | 'new-user' | 'new-so';

export interface PinRequest {
  ukeyId: string;
  tokenLabel: string;
  kind: PinKind;
  /** What the PIN is for, in words the signer understands. */
  reason: string;
  /** Tries left before the key locks, when the key tells. */
  triesLeft?: number;
  /** Set when the previous attempt failed (the core never retries by itself). */
  previousAttemptFailed?: boolean;
}

export interface PinHost {
  /** A PIN, or null when the person cancelled. */
  askPin(req: PinRequest): Promise<string | null>;
}
