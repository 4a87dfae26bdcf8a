// What a running transfer needs from the agent, and the helpers both directions share.
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { createSm3 } from '../crypto/sm3';
import type { Sm3Hasher } from '../crypto/sm3';
import type { RequestSigner } from '../platform/canonical';
import type { BandwidthLimiter } from './bandwidth';
import { RelayError } from './http';
import type { RelayJob, RelayJobPatch, RelayJobStore } from './job-store';
import { relayAuthHeaders } from './protocol';

export interface TransferContext {
  signer: RequestSigner;
  jobs: RelayJobStore;
  /** Bytes per PATCH or ranged GET without a bandwidth cap (under one, pieces are smaller). */
  chunkBytes: number;
  /** The operator's bandwidth cap, shared by every transfer of this process. */
  bandwidth: BandwidthLimiter;
  /** Aborted when this process pauses, cancels or stops the job. */
  signal: AbortSignal;
  clock: () => number;
  /** Reports progress (offset) after each chunk. */
  progress(job: RelayJob): void;
}

/** Thrown when the job must stop without an error: paused, canceled, or the agent stopping. */
export class TransferStopped extends Error {
  constructor() {
    super('transfer stopped');
    this.name = 'TransferStopped';
  }
}

/**
 * Saves progress and checks, through the database, that nobody (this or another process)
 * paused or canceled the job meanwhile.
 */
export function checkpoint(ctx: TransferContext, job: RelayJob, patch: RelayJobPatch): RelayJob {
  if (ctx.signal.aborted) throw new TransferStopped();
  const next = ctx.jobs.update(job.id, patch);
  if (next.state !== 'running') throw new TransferStopped();
  return next;
}

export const authHeaders = (ctx: TransferContext, method: string, url: URL) =>
  relayAuthHeaders(ctx.signer, method, url.pathname, ctx.clock());

/** Feeds bytes [0, end) of `path` to `hasher`; stops promptly when `signal` aborts. */
export async function hashFile(
  path: string,
  end: number,
  signal: AbortSignal,
  hasher: Sm3Hasher = createSm3(),
): Promise<Sm3Hasher> {
  if (end <= 0) return hasher;
  const stream: Readable = createReadStream(path, { end: end - 1, highWaterMark: 1 << 20 });
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      if (signal.aborted) throw new TransferStopped();
      hasher.update(chunk);
    }
  } catch (e) {
    if (e instanceof TransferStopped) throw e;
    throw new RelayError(`cannot read ${path}: ${(e as Error).message}`, false);
  } finally {
    stream.destroy();
  }
  return hasher;
}
