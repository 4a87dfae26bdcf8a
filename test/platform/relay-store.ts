// The reference platform's tus data store: @tus/file-store with the `checksum` extension (md5) that
// @tus/server 2.x lacks, a committed offset that survives a crash, and an incremental SM3.
import { createHash } from 'node:crypto';
import type { Hash } from 'node:crypto';
import { AsyncLocalStorage } from 'node:async_hooks';
import { readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, pipeline } from 'node:stream';
import type { Readable } from 'node:stream';
import type { FileStore } from '@tus/file-store';
import type { Upload } from '@tus/utils';
import { nodeHasSm3 } from '../../main/core/crypto/sm3';
import { CHECKSUM_MISMATCH } from '../../main/core/relay/protocol';

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

/** Parses `md5 <base64>`; a missing header or another algorithm is a 400 (tus checksum ext.). */
function expectedMd5(header: string | undefined): string {
  if (!header) throw tusError(400, 'Upload-Checksum is required');
  const [algo, value] = header.trim().split(/\s+/);
  if (algo !== 'md5' || !value) throw tusError(400, 'Upload-Checksum must be md5');
  return value;
}

/**
 * Builds the store class from the ESM module's FileStore (loaded at runtime, see relay-tus.ts).
 * A chunk is written in place while hashed; if its MD5 differs, the file is cut back to where the
 * chunk began, so a bad or torn chunk is never stored. `<id>.offset` records the last verified
 * end: after a crash mid-chunk the torn tail is cut off on the next look at the upload.
 */
export function checksumFileStore(Base: FileStoreClass, stats: RelayStats) {
  return class ChecksumFileStore extends Base {
    /** SM3 state per upload up to its committed offset, so finishing does not re-read the file. */
    private readonly running = new Map<string, { hash: Hash; offset: number }>();

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
      const upload = await super.getUpload(id);
      const committed = await this.committed(id);
      if ((upload.offset ?? 0) > committed) {
        await truncate(this.pathOf(id), committed);
        upload.offset = committed;
      }
      return upload;
    }

    override async write(readable: Readable, id: string, offset: number): Promise<number> {
      const expected = expectedMd5(checksumScope.getStore()?.checksum);
      const md5 = createHash('md5');
      const prior = this.running.get(id);
      let sm3: Hash | undefined;
      if (prior?.offset === offset) sm3 = prior.hash.copy();
      else if (offset === 0 && nodeHasSm3()) sm3 = createHash('sm3');
      const tap = new Transform({
        transform(chunk: Buffer, _enc, done) {
          stats.bytesReceived += chunk.length;
          md5.update(chunk);
          sm3?.update(chunk);
          done(null, chunk);
        },
      });
      let end: number;
      try {
        end = await super.write(
          pipeline(readable, tap, () => {}),
          id,
          offset,
        );
      } catch (e) {
        await truncate(this.pathOf(id), offset);
        throw e;
      }
      if (md5.digest('base64') !== expected) {
        await truncate(this.pathOf(id), offset);
        stats.chunksRefused++;
        throw tusError(CHECKSUM_MISMATCH, 'Checksum Mismatch');
      }
      await writeFile(this.committedFile(id), String(end));
      if (sm3) this.running.set(id, { hash: sm3, offset: end });
      else this.running.delete(id);
      return end;
    }

    /** SM3 (hex) of the whole upload: the running state if it covers the file, else a re-read. */
    async sm3Of(
      id: string,
      size: number,
      full: (path: string) => Promise<string>,
    ): Promise<string> {
      const run = this.running.get(id);
      this.running.delete(id);
      if (run?.offset === size) return run.hash.digest('hex');
      return full(this.pathOf(id));
    }

    override async remove(id: string): Promise<void> {
      this.running.delete(id);
      await super.remove(id);
      await rm(this.committedFile(id), { force: true });
      await rm(this.doneFile(id), { force: true });
    }
  };
}

export type ChecksumFileStore = InstanceType<ReturnType<typeof checksumFileStore>>;
