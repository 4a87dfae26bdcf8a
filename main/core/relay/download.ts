// A download job: ranged GETs into `<out>.part`, SM3 over every byte, and a rename to the final
// name only once the digest equals the platform's X-File-SM3. The .part file is the resume point.
import { open, rename, rm, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { RelayError, relayRequest, statusError, textOf } from './http';
import type { RelayJob } from './job-store';
import { RELAY_PATH } from './protocol';
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

async function writeAll(fh: FileHandle, data: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < data.length) {
    const { bytesWritten } = await fh.write(data, done, data.length - done, position + done);
    done += bytesWritten;
  }
}

const diskError = (e: NodeJS.ErrnoException, part: string): RelayError =>
  new RelayError(
    `${e.code === 'ENOSPC' ? 'disk full' : 'cannot write'} (${e.code ?? e.message}): the partial file ${part} is kept; free space and resume the job`,
    false,
  );

/** One ranged GET of [offset, offset + chunk): at most one chunk is ever in flight. */
async function getRange(ctx: TransferContext, job: RelayJob, offset: number) {
  const url = new URL(`${RELAY_PATH}${encodeURIComponent(job.fileId!)}`, job.baseUrl);
  const res = await relayRequest(url, {
    method: 'GET',
    signal: ctx.signal,
    headers: {
      ...(await authHeaders(ctx, 'GET', url)),
      Range: `bytes=${offset}-${offset + ctx.chunkBytes - 1}`,
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
  return { res, sm3, total: totalOf(res) };
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
      const { res, sm3, total } = await getRange(ctx, job, offset);
      try {
        if (job.sm3 !== sm3 || job.size !== total) {
          if (offset > 0) {
            // The platform's file is not the one the partial came from: start over.
            await fh.truncate(0);
            job = checkpoint(ctx, job, { sm3: null, size: null, offset: 0 });
            throw new RelayError('download: the file changed on the platform; restarting', true);
          }
          job = checkpoint(ctx, job, { sm3, size: total });
        }
        for await (const chunk of res as AsyncIterable<Buffer>) {
          hasher.update(chunk);
          await writeAll(fh, chunk, offset).catch((e: NodeJS.ErrnoException) => {
            throw diskError(e, part);
          });
          offset += chunk.length;
        }
      } catch (e) {
        if (e instanceof RelayError || e instanceof TransferStopped) throw e;
        if (ctx.signal.aborted) throw new TransferStopped();
        throw new RelayError(`download: ${(e as Error).message}`, true);
      } finally {
        res.destroy();
      }
      if (offset - saved >= ctx.chunkBytes || offset >= job.size!) {
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
