// An upload job over tus 1.0.0 (creation, termination, checksum md5): hash the file (SM3, for
// Upload-Metadata), create the upload once, then PATCH fixed-size chunks from the platform's offset.
import { createHash } from 'node:crypto';
import { open, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { basename } from 'node:path';
import { RelayError, relayRequest, statusError, textOf } from './http';
import type { RelayJob } from './job-store';
import { RELAY_PATH, TUS_VERSION, encodeMetadata, fileIdOf } from './protocol';
import { authHeaders, checkpoint, hashFile } from './transfer';
import type { TransferContext } from './transfer';

const uploadUrl = (job: RelayJob): URL =>
  new URL(`${RELAY_PATH}${encodeURIComponent(job.fileId!)}`, job.baseUrl);

async function createUpload(ctx: TransferContext, job: RelayJob): Promise<RelayJob> {
  const url = new URL(RELAY_PATH, job.baseUrl);
  const res = await relayRequest(url, {
    method: 'POST',
    signal: ctx.signal,
    headers: {
      ...(await authHeaders(ctx, 'POST', url)),
      'Tus-Resumable': TUS_VERSION,
      'Upload-Length': String(job.size),
      'Upload-Metadata': encodeMetadata({ filename: job.filename!, sm3: job.sm3! }),
    },
  });
  const body = await textOf(res);
  if (res.statusCode !== 201) throw statusError(res.statusCode ?? 0, body, 'create upload');
  const fileId = fileIdOf(String(res.headers.location ?? ''));
  if (!fileId) throw new RelayError('create upload: no usable Location in the answer', false);
  return checkpoint(ctx, job, { fileId, offset: 0 });
}

/** The platform's offset for the upload; undefined when the platform no longer has it. */
async function serverOffset(ctx: TransferContext, job: RelayJob): Promise<number | undefined> {
  const url = uploadUrl(job);
  const res = await relayRequest(url, {
    method: 'HEAD',
    signal: ctx.signal,
    headers: { ...(await authHeaders(ctx, 'HEAD', url)), 'Tus-Resumable': TUS_VERSION },
  });
  res.resume();
  if (res.statusCode === 404 || res.statusCode === 410) return undefined;
  if (res.statusCode !== 200) throw statusError(res.statusCode ?? 0, '', 'upload offset');
  const offset = Number(res.headers['upload-offset']);
  if (!Number.isSafeInteger(offset) || offset < 0 || offset > job.size!)
    throw new RelayError('upload offset: the platform answered a bad Upload-Offset', true);
  return offset;
}

/** Bytes per read while filling a chunk: the event loop runs between them (see readChunk). */
const SLICE = 1024 * 1024;

/**
 * Reads and MD5s the chunk at `offset` in slices: each slice's read yields to the event loop, so
 * the request on the wire keeps being fed to the socket while the next chunk is prepared.
 */
async function readChunk(fh: FileHandle, buf: Buffer, offset: number, size: number) {
  const want = Math.min(buf.length, size - offset);
  const md5 = createHash('md5');
  let got = 0;
  while (got < want) {
    const { bytesRead } = await fh.read(buf, got, Math.min(SLICE, want - got), offset + got);
    if (bytesRead === 0) throw new RelayError('the source file shrank during the upload', false);
    md5.update(buf.subarray(got, got + bytesRead));
    got += bytesRead;
  }
  return { offset, data: buf.subarray(0, want), md5: md5.digest('base64') };
}

async function patchChunk(
  ctx: TransferContext,
  job: RelayJob,
  chunk: { offset: number; data: Buffer; md5: string },
): Promise<number> {
  const url = uploadUrl(job);
  const res = await relayRequest(url, {
    method: 'PATCH',
    signal: ctx.signal,
    body: chunk.data,
    headers: {
      ...(await authHeaders(ctx, 'PATCH', url)),
      'Tus-Resumable': TUS_VERSION,
      'Content-Type': 'application/offset+octet-stream',
      'Content-Length': String(chunk.data.length),
      'Upload-Offset': String(chunk.offset),
      'Upload-Checksum': `md5 ${chunk.md5}`,
    },
  });
  const body = await textOf(res);
  if (res.statusCode !== 204) throw statusError(res.statusCode ?? 0, body, 'upload chunk');
  return Number(res.headers['upload-offset']);
}

/** Runs (or resumes) an upload job until the platform holds the whole verified file. */
export async function runUpload(ctx: TransferContext, start: RelayJob): Promise<RelayJob> {
  let job = start;
  const info = await stat(job.localPath).catch(() => {
    throw new RelayError(`cannot read ${job.localPath}`, false);
  });
  if (job.size !== null && job.size !== info.size)
    throw new RelayError('the source file changed size since the upload began', false);
  if (job.sm3 === null) {
    const sm3 = (await hashFile(job.localPath, info.size, ctx.signal)).digest().toString('hex');
    job = checkpoint(ctx, job, {
      size: info.size,
      sm3,
      filename: job.filename ?? basename(job.localPath),
    });
  }
  const size = job.size!;
  let offset: number | undefined;
  if (job.fileId !== null) offset = await serverOffset(ctx, job);
  if (offset === undefined) {
    job = await createUpload(ctx, job); // first run, or the platform dropped the upload
    offset = 0;
  }
  job = checkpoint(ctx, job, { offset });
  ctx.progress(job);
  if (offset === size && size > 0) return job;

  const fh = await open(job.localPath, 'r');
  // Two buffers: the next chunk is read and hashed while the current one is on the wire.
  const bufs = [Buffer.allocUnsafe(ctx.chunkBytes), Buffer.allocUnsafe(ctx.chunkBytes)];
  try {
    let turn = 0;
    // Under a bandwidth cap pieces shrink (half a second's worth) so progress stays live.
    const piece = (): number => ctx.bandwidth.pieceBytes(ctx.chunkBytes);
    let next = readChunk(fh, bufs[0]!.subarray(0, piece()), offset, size);
    do {
      const chunk = await next;
      turn ^= 1;
      const end = chunk.offset + chunk.data.length;
      if (end < size) next = readChunk(fh, bufs[turn]!.subarray(0, piece()), end, size);
      const at = await ctx.bandwidth
        .take(chunk.data.length, ctx.signal)
        .then(() => patchChunk(ctx, job, chunk))
        .catch(async (e: unknown) => {
          await next.catch(() => undefined); // do not leave a read on a closing handle
          throw e;
        });
      if (at !== end)
        throw new RelayError(`upload chunk: platform at ${at}, expected ${end}`, true);
      job = checkpoint(ctx, job, { offset: at, attempts: 0, error: null });
      ctx.progress(job);
      offset = at;
    } while (offset < size);
  } finally {
    await fh.close();
  }
  return job;
}

/** Termination (tus): asks the platform to drop an unfinished upload. Best effort. */
export async function terminateUpload(ctx: TransferContext, job: RelayJob): Promise<void> {
  if (job.fileId === null) return;
  const url = uploadUrl(job);
  try {
    const res = await relayRequest(url, {
      method: 'DELETE',
      headers: { ...(await authHeaders(ctx, 'DELETE', url)), 'Tus-Resumable': TUS_VERSION },
      timeoutMs: 10_000,
    });
    res.resume();
  } catch {
    // The platform expires abandoned uploads; a cancel must not fail on the network.
  }
}
