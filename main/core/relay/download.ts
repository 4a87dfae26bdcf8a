// A download job: ranged GETs into `<out>.part`, SM3 over every byte, and a rename to the final
// name only once the digest equals the platform's X-File-SM3. The .part file is the resume point.
import { open, rename, rm, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { RelayError, relayRequest, statusError, textOf } from './http';
import type { RelayJob } from './job-store';
import { RELAY_PATH, dispositionFilename } from './protocol';
import { TransferStopped, authHeaders, checkpoint, hashFile } from './transfer';
import type { TransferContext } from './transfer';

export const partPathOf = (job: RelayJob): string => `${job.localPath}.part`;

const sizeOf = (path: string): Promise<number> =>
  stat(path).then(
    (s) => s.size,
    () => 0,
  );

/** Total size from `Content-Range: bytes a-b/total` or, for a 200, Content-Length. */
function totalOf(res: IncomingMessage): number {
  const range = /\/(\d+)$/.exec(String(res.headers['content-range'] ?? ''));
  const total = Number(range ? range[1] : res.headers['content-length']);
  if (!Number.isSafeInteger(total) || total < 0)
    throw new RelayError('download: the platform answered no usable size', true);
  return total;
}

const diskError = (e: NodeJS.ErrnoException, part: string): RelayError =>
  new RelayError(
    `${e.code === 'ENOSPC' ? 'disk full' : 'cannot write'} (${e.code ?? e.message}): the partial file ${part} is kept; free space and resume the job`,
    false,
  );

/**
 * Bytes gathered before one write: few trips to the thread pool, and no copy (writev). At most
 * 1 MiB (two batches live: memory) and a quarter of a chunk, so a crash mid-chunk keeps most of
 * what arrived (the .part is the resume point).
 */
const batchBytes = (chunkBytes: number): number =>
  Math.min(1024 * 1024, Math.max(64 * 1024, Math.floor(chunkBytes / 4)));

/**
 * Writes received buffers at increasing positions, one writev in flight while more arrive;
 * `drain()` waits for all of it. A write error surfaces on the next push or drain.
 */
class BatchWriter {
  private parts: Buffer[] = [];
  private bytes = 0;
  private inFlight: Promise<void> = Promise.resolve();

  constructor(
    private readonly fh: FileHandle,
    private position: number,
    private readonly part: string,
    private readonly batch: number,
  ) {}

  async push(data: Buffer): Promise<void> {
    this.parts.push(data);
    this.bytes += data.length;
    if (this.bytes >= this.batch) await this.flush();
  }

  async drain(): Promise<void> {
    await this.flush();
    await this.inFlight;
  }

  private async flush(): Promise<void> {
    await this.inFlight; // at most one batch written while the next one fills
    if (this.bytes === 0) return;
    const parts = this.parts;
    const at = this.position;
    this.position += this.bytes;
    this.parts = [];
    this.bytes = 0;
    this.inFlight = writevAll(this.fh, parts, at).catch((e: NodeJS.ErrnoException) => {
      throw diskError(e, this.part);
    });
    this.inFlight.catch(() => undefined); // handled: it is awaited by the next flush or drain
  }
}

/** writev until every byte of `parts` is at `position` onwards (writes may be partial). */
async function writevAll(fh: FileHandle, parts: Buffer[], position: number): Promise<void> {
  let i = 0; // first part not fully written
  let skip = 0; // bytes of parts[i] already written
  while (i < parts.length) {
    const iov = parts.slice(i, i + 512); // within IOV_MAX (1024 on Linux)
    if (skip > 0) iov[0] = iov[0]!.subarray(skip);
    const { bytesWritten } = await fh.writev(iov, position);
    if (bytesWritten === 0) throw Object.assign(new Error('no progress writing'), { code: 'EIO' });
    position += bytesWritten;
    let n = bytesWritten + skip;
    while (i < parts.length && n >= parts[i]!.length) n -= parts[i++]!.length;
    skip = n;
  }
}

/** One ranged GET of [offset, offset + chunk): at most one chunk is ever in flight. */
async function getRange(ctx: TransferContext, job: RelayJob, offset: number, want: number) {
  const url = new URL(`${RELAY_PATH}${encodeURIComponent(job.fileId!)}`, job.baseUrl);
  const res = await relayRequest(url, {
    method: 'GET',
    signal: ctx.signal,
    headers: {
      ...(await authHeaders(ctx, 'GET', url)),
      Range: `bytes=${offset}-${offset + want - 1}`,
    },
  });
  if (res.statusCode !== 206 && res.statusCode !== 200)
    throw statusError(res.statusCode ?? 0, await textOf(res), 'download');
  const sm3 = String(res.headers['x-file-sm3'] ?? '').toLowerCase();
  const start =
    res.statusCode === 200
      ? 0
      : Number(/^bytes (\d+)-/.exec(String(res.headers['content-range']))?.[1]);
  if (!/^[0-9a-f]{64}$/.test(sm3) || start !== offset) {
    res.destroy();
    throw new RelayError('download: the platform sent no X-File-SM3 or a wrong range', false);
  }
  const name = dispositionFilename(res.headers['content-disposition']);
  return { res, sm3, total: totalOf(res), name };
}

/** Runs (or resumes) a download job until the verified file is under its final name. */
export async function runDownload(ctx: TransferContext, start: RelayJob): Promise<RelayJob> {
  let job = start;
  const part = partPathOf(job);
  let offset = await sizeOf(part); // what the disk holds is what counts after a crash
  if (job.size === null || offset > job.size) offset = 0;
  const hasher = await hashFile(part, offset, ctx.signal); // the prefix already on disk
  if (offset > 0 && offset === job.size) {
    // Killed between the last byte and the rename: finish if the bytes are right.
    if (hasher.digest().toString('hex') === job.sm3) {
      await rename(part, job.localPath);
      return job;
    }
    await rm(part, { force: true });
    throw new RelayError('download: the partial file was corrupt; starting over', true);
  }
  const fh = await open(part, offset === 0 ? 'w' : 'r+').catch((e: NodeJS.ErrnoException) => {
    throw diskError(e, part);
  });
  try {
    let saved = offset;
    do {
      // Under a bandwidth cap ranges shrink (half a second's worth) so progress stays live.
      const want = ctx.bandwidth.pieceBytes(ctx.chunkBytes);
      const { res, sm3, total, name } = await getRange(ctx, job, offset, want);
      try {
        if (job.sm3 !== sm3 || job.size !== total) {
          if (offset > 0) {
            // The platform's file is not the one the partial came from: start over.
            await fh.truncate(0);
            job = checkpoint(ctx, job, { sm3: null, size: null, offset: 0 });
            throw new RelayError('download: the file changed on the platform; restarting', true);
          }
          // The uploader's file name, when the platform tells it: what the operator saves as.
          job = checkpoint(ctx, job, { sm3, size: total, filename: job.filename ?? name ?? null });
        }
        // Hashing on this thread overlaps the previous batch's write in the thread pool.
        const writer = new BatchWriter(fh, offset, part, batchBytes(ctx.chunkBytes));
        let got = 0;
        try {
          for await (const chunk of res as AsyncIterable<Buffer>) {
            hasher.update(chunk);
            got += chunk.length;
            await writer.push(chunk);
            // Not reading on holds the sender back (TCP flow control).
            await ctx.bandwidth.take(chunk.length, ctx.signal);
          }
        } finally {
          // Whatever was received is written (or failed) before this attempt ends.
          await writer.drain();
        }
        offset += got;
      } catch (e) {
        if (e instanceof RelayError || e instanceof TransferStopped) throw e;
        if (ctx.signal.aborted) throw new TransferStopped();
        throw new RelayError(`download: ${(e as Error).message}`, true);
      } finally {
        res.destroy();
      }
      if (offset - saved >= want || offset >= job.size!) {
        saved = offset;
        job = checkpoint(ctx, job, { offset, attempts: 0, error: null });
        ctx.progress(job);
      }
    } while (offset < job.size!);
    await fh.sync().catch((e: NodeJS.ErrnoException) => {
      throw diskError(e, part);
    });
  } finally {
    await fh.close();
  }
  if (offset !== job.size)
    throw new RelayError(`download: received ${offset} bytes of ${job.size}`, true);
  if (hasher.digest().toString('hex') !== job.sm3) {
    await rm(part, { force: true });
    throw new RelayError('download: SM3 of the received file differs from X-File-SM3', true);
  }
  await rename(part, job.localPath);
  return job;
}
