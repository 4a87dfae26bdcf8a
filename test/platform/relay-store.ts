// The reference platform's tus data store: @tus/file-store with the `checksum` extension (md5) that
// @tus/server 2.x lacks, a committed offset that survives a crash, and an incremental SM3.
import { createHash } from 'node:crypto';
import { AsyncLocalStorage } from 'node:async_hooks';
import { constants, createWriteStream } from 'node:fs';
import { open, readFile, rm, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { FileStore } from '@tus/file-store';
import type { Upload } from '@tus/utils';
import { CHECKSUM_MISMATCH } from '../../main/core/relay/protocol';
import { Sm3Worker } from './relay-sm3-worker';

/** Digits of `<id>.offset`: fixed, so an update is one in-place write of the same length. */
const OFFSET_WIDTH = 20;
const sm3Worker = new Sm3Worker();

/** A tus error as @tus/server answers it: status and plain-text body. */
export interface TusError {
  status_code: number;
  body: string;
}
export const tusError = (status_code: number, body: string): TusError => ({
  status_code,
  body: `${body}\n`,
});

/** The Upload-Checksum header of the PATCH being handled (set around each request). */
export const checksumScope = new AsyncLocalStorage<{ checksum: string | undefined }>();

/** Byte counters for tests: what arrived in PATCH bodies (kept or not) and what GETs sent. */
export interface RelayStats {
  bytesReceived: number;
  bytesSent: number;
  chunksRefused: number;
}

type FileStoreClass = typeof FileStore;

/** A copy of an Upload that keeps its class (tus reads `sizeIsDeferred`, a getter). */
const copyOf = (u: Upload): Upload =>
  Object.assign(Object.create(Object.getPrototypeOf(u) as object) as Upload, u);

/** Parses `md5 <base64>`; a missing header or another algorithm is a 400 (tus checksum ext.). */
function expectedMd5(header: string | undefined): string {
  if (!header) throw tusError(400, 'Upload-Checksum is required');
  const [algo, value] = header.trim().split(/\s+/);
  if (algo !== 'md5' || !value) throw tusError(400, 'Upload-Checksum must be md5');
  return value;
}

/**
 * Builds the store class from the ESM module's FileStore (loaded at runtime, see relay-tus.ts).
 * A chunk is written in place while its MD5 is computed; if the MD5 differs, the file is cut back
 * to where the chunk began, so a bad or torn chunk is never stored. `<id>.offset` records the last
 * verified end: after a crash mid-chunk the torn tail is cut off on the next look at the upload.
 * The whole-file SM3 runs in a worker thread over verified bytes only (relay-sm3-worker.ts).
 */
export function checksumFileStore(Base: FileStoreClass, stats: RelayStats) {
  return class ChecksumFileStore extends Base {
    /**
     * Uploads as last read from disk, offset kept at the committed end: a PATCH then costs no
     * file reads (this process owns the directory; a restart starts empty and reads the disk).
     */
    private readonly known = new Map<string, Upload>();

    constructor(directory: string) {
      super({ directory });
      this.extensions = ['creation', 'termination', 'checksum'];
    }

    // FileStore's own resolver is private; tus has already refused ids with separators.
    pathOf = (id: string): string => join(this.directory, id);
    private committedFile = (id: string): string => join(this.directory, `${id}.offset`);
    doneFile = (id: string): string => join(this.directory, `${id}.done`);

    private async committed(id: string): Promise<number> {
      try {
        return Number(await readFile(this.committedFile(id), 'utf8')) || 0;
      } catch {
        return 0;
      }
    }

    override async getUpload(id: string): Promise<Upload> {
      const cached = this.known.get(id);
      if (cached) return copyOf(cached);
      const upload = await super.getUpload(id);
      const committed = await this.committed(id);
      if ((upload.offset ?? 0) > committed) {
        await truncate(this.pathOf(id), committed);
        upload.offset = committed;
      }
      this.known.set(id, copyOf(upload));
      return upload;
    }

    override async write(readable: Readable, id: string, offset: number): Promise<number> {
      const expected = expectedMd5(checksumScope.getStore()?.checksum);
      const path = this.pathOf(id);
      const md5 = createHash('md5');
      const tap = new Transform({
        transform(chunk: Buffer, _enc, done) {
          stats.bytesReceived += chunk.length;
          md5.update(chunk);
          done(null, chunk);
        },
      });
      // Large write batches: fewer trips to the thread pool than FileStore's 16 KiB default.
      const out = createWriteStream(path, { flags: 'r+', start: offset, highWaterMark: 1 << 20 });
      try {
        await pipeline(readable, tap, out);
      } catch {
        await truncate(path, offset);
        throw tusError(500, 'Something went wrong receiving the file');
      }
      const end = offset + out.bytesWritten;
      if (md5.digest('base64') !== expected) {
        await truncate(path, offset);
        stats.chunksRefused++;
        throw tusError(CHECKSUM_MISMATCH, 'Checksum Mismatch');
      }
      await this.commit(id, end);
      const known = this.known.get(id);
      if (known) known.offset = end;
      // SM3 reads the verified bytes back on the worker's core while the client sends the next.
      sm3Worker.feed(path, offset, end);
      return end;
    }

    /**
     * Records the verified end in place with one small write (no truncate-then-write window a
     * crash could leave empty). No fsync per chunk: a process crash keeps the page cache, and
     * the file is synced once complete (finish).
     */
    private async commit(id: string, end: number): Promise<void> {
      const fh = await open(this.committedFile(id), constants.O_WRONLY | constants.O_CREAT, 0o600);
      try {
        await fh.write(String(end).padStart(OFFSET_WIDTH, '0'), 0, 'utf8');
      } finally {
        await fh.close();
      }
    }

    /** SM3 (hex) of the whole upload, after syncing it to disk: the worker's running hash. */
    async sm3Of(id: string, size: number): Promise<string> {
      const fh = await open(this.pathOf(id), 'r+');
      try {
        await fh.datasync();
      } finally {
        await fh.close();
      }
      return sm3Worker.digest(this.pathOf(id), size);
    }

    override async remove(id: string): Promise<void> {
      this.known.delete(id);
      sm3Worker.drop(this.pathOf(id));
      await super.remove(id);
      await rm(this.committedFile(id), { force: true });
      await rm(this.doneFile(id), { force: true });
    }
  };
}

export type ChecksumFileStore = InstanceType<ReturnType<typeof checksumFileStore>>;
