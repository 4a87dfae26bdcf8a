import type { AgentError } from '../../common/errors';

interface Job {
  run: () => Promise<unknown>;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

/**
 * One queue per token: PKCS#11 operations on a key are stateful (SignInit … Sign on a session, one
 * login per token), so callers never interleave on one key. A key pulled out fails everything still
 * waiting, and the queue is usable again for the next key with that id.
 */
export class TokenQueue {
  private readonly jobs: Job[] = [];
  private running = false;

  get pending(): number {
    return this.jobs.length + (this.running ? 1 : 0);
  }

  run<T>(fn: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.jobs.push({ run: fn, resolve: resolve as (v: unknown) => void, reject });
      void this.pump();
    });
  }

  /** Rejects every job not yet started (the one running fails by itself when the key is gone). */
  failPending(err: AgentError): number {
    const dropped = this.jobs.splice(0);
    for (const j of dropped) j.reject(err);
    return dropped.length;
  }

  private async pump(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      for (let job = this.jobs.shift(); job; job = this.jobs.shift()) {
        try {
          job.resolve(await job.run());
        } catch (e) {
          job.reject(e);
        }
      }
    } finally {
      this.running = false;
    }
  }
}
