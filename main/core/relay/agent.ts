// The agent's file relay: a persistent job queue (relay_jobs) run with retry and backoff, resumed
// after a restart, steerable by pause/resume/cancel from this or another process.
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { rm } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { badParam } from '../../common/errors';
import type { RequestSigner } from '../platform/canonical';
import type { Database } from '../store/database';
import { BandwidthLimiter } from './bandwidth';
import { partPathOf, runDownload } from './download';
import { RelayError } from './http';
import { RelayJobStore } from './job-store';
import type { RelayJob, RelayJobState } from './job-store';
import { ProgressMeter } from './progress';
import type { RelayProgress } from './progress';
import { TransferStopped } from './transfer';
import type { TransferContext } from './transfer';
import { runUpload, terminateUpload } from './upload';

export interface RelayRetry {
  /** First delay; doubles per consecutive failure. Default 500 ms. */
  baseMs?: number;
  /** Longest delay. Default 30 s. */
  maxMs?: number;
  /** Consecutive failures without progress before the job fails. Default 10. */
  maxAttempts?: number;
}

export interface RelayAgentOptions {
  db: Database;
  signer: RequestSigner;
  /** The platform's base URL for new jobs (a job keeps the one it began with). */
  baseUrl: string;
  /** Default 8 MiB: memory is about two chunks per running upload, whatever the file size. */
  chunkBytes?: number;
  /** Jobs run at once. Default 2. */
  concurrency?: number;
  retry?: RelayRetry;
  clock?: () => number;
  /** How long a claim on a job lasts without renewal. Default 30 s, renewed every third of it. */
  leaseMs?: number;
  /** The bandwidth cap for all of this agent's transfers, asked often (0 = none). Default none. */
  maxBytesPerSecond?: () => number;
}

/** Whether the agent process named in a lease ('<pid>:<random>') still runs on this machine. */
export function leaseOwnerAlive(owner: string): boolean {
  const pid = Number(owner.split(':')[0]);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to someone else, so it is alive.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface RelayAgentEvents {
  progress: [RelayProgress];
  state: [RelayJob];
}

const SETTLED: readonly RelayJobState[] = ['done', 'failed', 'canceled', 'paused'];

export class RelayAgent extends EventEmitter<RelayAgentEvents> {
  readonly jobs: RelayJobStore;
  private readonly active = new Map<number, AbortController>();
  private readonly chunkBytes: number;
  private readonly concurrency: number;
  private readonly retry: Required<RelayRetry>;
  private readonly clock: () => number;
  /** Jobs this agent runs: all pending ones after start(), else only those it was asked to. */
  private readonly wanted = new Set<number>();
  private all = false;
  private stopped = false;
  /** This agent's name in job leases: the pid (for liveness) and a random part (per instance). */
  private readonly owner = `${process.pid}:${randomUUID()}`;
  private readonly leaseMs: number;
  private readonly bandwidth: BandwidthLimiter;

  constructor(private readonly options: RelayAgentOptions) {
    super();
    this.clock = options.clock ?? Date.now;
    this.jobs = new RelayJobStore(options.db, this.clock);
    this.chunkBytes = options.chunkBytes ?? 8 * 1024 * 1024;
    this.concurrency = options.concurrency ?? 2;
    this.retry = { baseMs: 500, maxMs: 30_000, maxAttempts: 10, ...options.retry };
    this.leaseMs = options.leaseMs ?? 30_000;
    this.bandwidth = new BandwidthLimiter(options.maxBytesPerSecond ?? (() => 0));
    if (!Number.isInteger(this.chunkBytes) || this.chunkBytes < 1024)
      throw badParam('chunkBytes must be an integer of at least 1024');
  }

  /** Queues an upload of `path` and runs it. */
  upload(path: string, filename: string = basename(path)): RelayJob {
    const job = this.jobs.add({
      kind: 'upload',
      baseUrl: this.options.baseUrl,
      localPath: resolve(path),
      filename,
    });
    this.run(job.id);
    return job;
  }

  /** Queues a download of the platform's file `fileId` to `outPath` and runs it. */
  download(fileId: string, outPath: string): RelayJob {
    if (!/^[0-9A-Za-z_-]{1,128}$/.test(fileId)) throw badParam('not a relay file id');
    const job = this.jobs.add({
      kind: 'download',
      baseUrl: this.options.baseUrl,
      localPath: resolve(outPath),
      fileId,
    });
    this.run(job.id);
    return job;
  }

  /** Runs every pending job, including those a crash left 'running', and later ones. */
  start(): void {
    this.stopped = false;
    this.all = true;
    this.pump();
  }

  /** Runs one job (queued or interrupted) in this process. */
  run(id: number): void {
    this.stopped = false;
    this.wanted.add(id);
    this.pump();
  }

  pause(id: number): RelayJob {
    this.steer(id, ['queued', 'running'], 'paused');
    return this.jobs.get(id)!;
  }

  /** Requeues a paused or failed job and runs it here. */
  resume(id: number): RelayJob {
    if (this.jobs.transition(id, ['paused', 'failed'], 'queued'))
      this.jobs.update(id, { attempts: 0, error: null });
    this.emitState(id);
    this.run(id);
    return this.jobs.get(id)!;
  }

  /** Stops the job for good and drops its partial data (tus termination / the .part file). */
  async cancel(id: number): Promise<RelayJob> {
    const job = this.steer(id, ['queued', 'running', 'paused', 'failed'], 'canceled');
    if (job) {
      if (job.kind === 'upload') await terminateUpload(this.context(new AbortController()), job);
      else await rm(partPathOf(job), { force: true });
    }
    return this.jobs.get(id)!;
  }

  /** Resolves once the job is done, failed, canceled or paused. */
  waitFor(id: number): Promise<RelayJob> {
    return new Promise((resolve) => {
      const check = (job?: RelayJob): void => {
        const j = job ?? this.jobs.get(id);
        if (j?.id === id && SETTLED.includes(j.state) && !this.active.has(id)) {
          this.off('state', check);
          resolve(j);
        }
      };
      this.on('state', check);
      check();
    });
  }

  /** Interrupts running jobs, leaving them to resume on the next start (as after a crash). */
  async stop(): Promise<void> {
    this.stopped = true;
    const waits = [...this.active.keys()].map((id) => this.waitIdle(id));
    for (const c of this.active.values()) c.abort(new TransferStopped());
    await Promise.all(waits);
  }

  private waitIdle(id: number): Promise<void> {
    return new Promise((resolve) => {
      const check = (): void => {
        if (this.active.has(id)) return;
        this.off('state', check);
        resolve();
      };
      this.on('state', check);
      check();
    });
  }

  private steer(id: number, from: RelayJobState[], to: RelayJobState): RelayJob | undefined {
    const job = this.jobs.get(id);
    if (!job) throw badParam(`no relay job ${id}`);
    if (!this.jobs.transition(id, from, to)) return undefined;
    this.active.get(id)?.abort(new TransferStopped());
    this.emitState(id);
    return job;
  }

  private emitState(id: number): void {
    const job = this.jobs.get(id);
    if (job) this.emit('state', job);
  }

  private pump(): void {
    if (this.stopped) return;
    for (const job of this.jobs.pending()) {
      if (this.active.size >= this.concurrency) return;
      if (this.active.has(job.id) || (!this.all && !this.wanted.has(job.id))) continue;
      // Another live agent (serve, a CLI) may be running it: never run a job twice.
      if (!this.jobs.claim(job.id, this.owner, this.leaseMs, leaseOwnerAlive)) continue;
      const controller = new AbortController();
      this.active.set(job.id, controller);
      const heartbeat = setInterval(
        () => {
          if (!this.jobs.renew(job.id, this.owner, this.leaseMs))
            controller.abort(new TransferStopped());
        },
        Math.max(50, Math.floor(this.leaseMs / 3)),
      );
      heartbeat.unref();
      void this.runJob(job.id, controller).finally(() => {
        clearInterval(heartbeat);
        this.jobs.release(job.id, this.owner);
        this.active.delete(job.id);
        this.wanted.delete(job.id);
        this.emitState(job.id);
        this.pump();
      });
    }
  }

  private context(controller: AbortController): TransferContext {
    const meters = new Map<number, ProgressMeter>();
    return {
      signer: this.options.signer,
      jobs: this.jobs,
      chunkBytes: this.chunkBytes,
      bandwidth: this.bandwidth,
      signal: controller.signal,
      clock: this.clock,
      progress: (job) => {
        const meter = meters.get(job.id) ?? new ProgressMeter();
        meters.set(job.id, meter);
        const { rate, etaMs } = meter.sample(job.offset, job.size);
        this.emit('progress', {
          jobId: job.id,
          kind: job.kind,
          bytes: job.offset,
          total: job.size,
          rate,
          etaMs,
        });
      },
    };
  }

  private async runJob(id: number, controller: AbortController): Promise<void> {
    const ctx = this.context(controller);
    this.emitState(id);
    for (;;) {
      const job = this.jobs.get(id)!;
      if (job.state !== 'running' || controller.signal.aborted) return;
      try {
        await (job.kind === 'upload' ? runUpload(ctx, job) : runDownload(ctx, job));
        this.jobs.transition(id, ['running'], 'done');
        this.jobs.update(id, { attempts: 0, error: null });
        return;
      } catch (e) {
        if (e instanceof TransferStopped || controller.signal.aborted) return;
        const err =
          e instanceof RelayError ? e : new RelayError((e as Error).message ?? String(e), false);
        const attempts = this.jobs.get(id)!.attempts + 1;
        this.jobs.update(id, { attempts, error: err.message });
        if (!err.retryable || attempts >= this.retry.maxAttempts) {
          this.jobs.transition(id, ['running'], 'failed');
          return;
        }
        this.emitState(id);
        const delay = Math.min(this.retry.maxMs, this.retry.baseMs * 2 ** (attempts - 1));
        await sleep(delay * (0.5 + Math.random() / 2), controller.signal);
      }
    }
  }
}

const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done);
  });
