// The operator's relay bandwidth cap (setting relayMaxKiBps): one token bucket shared by every
// transfer of this process, read live so a change applies to running jobs within a second.
import { TransferStopped } from './transfer';

/** Longest single sleep: a raised or removed cap, a pause or a cancel is seen this soon. */
const TICK_MS = 200;
/** Bytes a transfer may send at once under a cap: half a second's worth, within these bounds. */
const MIN_PIECE = 16 * 1024;

export class BandwidthLimiter {
  /** Bytes that may go now; negative = debt the next caller waits off. */
  private tokens = 0;
  private last: number;

  /**
   * @param bytesPerSecond the cap now (0 = none); called often, so the caller caches it.
   */
  constructor(
    private readonly bytesPerSecond: () => number,
    private readonly clock: () => number = Date.now,
    private readonly sleep: (ms: number) => Promise<void> = (ms) =>
      new Promise((r) => setTimeout(r, ms)),
  ) {
    this.last = clock();
  }

  /**
   * How many bytes to move in one request: `max` without a cap; under one, about half a second's
   * worth, so progress, pause and cancel stay responsive on a slow allowance.
   */
  pieceBytes(max: number): number {
    const rate = this.bytesPerSecond();
    if (rate <= 0) return max;
    return Math.min(max, Math.max(MIN_PIECE, Math.floor(rate / 2)));
  }

  /** Waits until `bytes` fit under the cap; throws TransferStopped when `signal` aborts. */
  async take(bytes: number, signal: AbortSignal): Promise<void> {
    this.refill();
    if (this.bytesPerSecond() <= 0) return;
    this.tokens -= bytes;
    while (this.tokens < 0) {
      if (signal.aborted) throw new TransferStopped();
      const rate = this.bytesPerSecond();
      if (rate <= 0) {
        this.tokens = 0; // the cap was lifted: debts are forgiven
        return;
      }
      await this.sleep(Math.min(TICK_MS, Math.ceil((-this.tokens / rate) * 1000)));
      this.refill();
    }
    if (signal.aborted) throw new TransferStopped();
  }

  private refill(): void {
    const now = this.clock();
    const rate = this.bytesPerSecond();
    const elapsed = Math.max(0, now - this.last);
    this.last = now;
    if (rate <= 0) {
      this.tokens = 0;
      return;
    }
    // At most half a second of burst after an idle spell.
    this.tokens = Math.min(rate / 2, this.tokens + (elapsed * rate) / 1000);
  }
}

/** The operator's cap (setting relayMaxKiBps) in bytes per second, re-read at most once a second. */
export function relayCapFromSettings(settings: {
  get(key: 'relayMaxKiBps'): number;
}): () => number {
  return cachedReader(() => settings.get('relayMaxKiBps') * 1024);
}

/** `read()` at most once per `ttlMs`: settings are in SQLite, transfers ask per piece. */
export function cachedReader<T>(
  read: () => T,
  ttlMs = 1000,
  clock: () => number = Date.now,
): () => T {
  let at = -Infinity;
  let value: T;
  return () => {
    const now = clock();
    if (now - at >= ttlMs) {
      value = read();
      at = now;
    }
    return value;
  };
}
