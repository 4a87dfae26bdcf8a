// Transfer progress for the UI and the CLI: bytes done, a smoothed rate and the time left.

export interface RelayProgress {
  jobId: number;
  kind: 'upload' | 'download';
  /** Bytes the platform holds (upload) or written locally (download). */
  bytes: number;
  total: number | null;
  /** Bytes per second over the recent window; 0 until two samples exist. */
  rate: number;
  /** Milliseconds left at that rate; null when unknown. */
  etaMs: number | null;
}

/** Rate over a sliding window of samples, so a stall shows quickly and a burst does not dominate. */
export class ProgressMeter {
  private readonly samples: { t: number; bytes: number }[] = [];

  constructor(
    private readonly windowMs = 3_000,
    private readonly clock: () => number = () => performance.now(),
  ) {}

  /** Records `bytes` done now; answers rate (B/s) and ETA (ms) for `total`. */
  sample(bytes: number, total: number | null): { rate: number; etaMs: number | null } {
    const t = this.clock();
    this.samples.push({ t, bytes });
    while (this.samples.length > 2 && t - this.samples[1]!.t >= this.windowMs) this.samples.shift();
    const first = this.samples[0]!;
    const dt = t - first.t;
    const rate = dt > 0 ? ((bytes - first.bytes) * 1000) / dt : 0;
    const etaMs =
      total === null
        ? null
        : bytes >= total
          ? 0
          : rate > 0
            ? ((total - bytes) * 1000) / rate
            : null;
    return { rate: Math.max(0, rate), etaMs };
  }
}
