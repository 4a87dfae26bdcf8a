/**
 * The console's staging area (`<data-dir>/staging/`): files the browser uploads with
 * PUT /operator/stage, streamed to disk (never held in memory), named by a random id. relay.upload
 * and documents.verify take `{stagedId}` where Electron passes a local path. Files older than a day
 * are swept at start-up.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { open, readFile, rm, writeFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { join } from 'node:path';
import { badParam } from '../../common/errors';
import type { StagedFileView } from '../../common/operator-api';

export const STAGE_MAX_BYTES = 2 * 1024 ** 3;
const SWEEP_AGE_MS = 24 * 3_600_000;

export class StageTooLarge extends Error {}

/** A filename safe to keep and to show: no path, no control characters, at most 255 characters. */
export function cleanName(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? '';
  const clean = base.replace(/[\x00-\x1f\x7f]/g, '').trim();
  return (clean === '.' || clean === '..' ? '' : clean).slice(0, 255) || 'file';
}

export class StagingArea {
  readonly dir: string;

  constructor(
    dataDir: string,
    private readonly maxBytes = STAGE_MAX_BYTES,
  ) {
    this.dir = join(dataDir, 'staging');
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const old = Date.now() - SWEEP_AGE_MS;
    for (const f of readdirSync(this.dir)) {
      const p = join(this.dir, f);
      try {
        if (statSync(p).mtimeMs < old) rmSync(p, { force: true });
      } catch {
        /* gone meanwhile */
      }
    }
  }

  private pathOf(id: string): string {
    if (!/^[0-9a-f]{32}$/.test(id)) throw badParam('not a staged file id');
    return join(this.dir, `${id}.bin`);
  }

  /** Streams `body` to a new staging file; StageTooLarge (and nothing kept) past the cap. */
  async put(body: Readable, name: string, declared?: number): Promise<StagedFileView> {
    if (declared !== undefined && declared > this.maxBytes) throw new StageTooLarge();
    const stagedId = randomBytes(16).toString('hex');
    const file = this.pathOf(stagedId);
    let size = 0;
    const max = this.maxBytes;
    const counter = async function* (src: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
      for await (const chunk of src) {
        size += chunk.length;
        if (size > max) throw new StageTooLarge();
        yield chunk;
      }
    };
    // Opened before the copy starts: a stream that opens lazily could create the file after a
    // refusal had removed it, leaving a partial upload behind.
    const fh = await open(file, 'wx', 0o600);
    try {
      await pipeline(body, counter, fh.createWriteStream());
      const clean = cleanName(name);
      await writeFile(`${file}.name`, clean, { mode: 0o600 });
      return { stagedId, name: clean, size };
    } catch (e) {
      await fh.close().catch(() => undefined); // closed already unless the copy never began
      await rm(file, { force: true });
      throw e;
    }
  }

  /** The staged file's path and original name; 1001 when unknown. */
  resolve(stagedId: string): { path: string; name: string } {
    const path = this.pathOf(stagedId);
    if (!existsSync(path) || !existsSync(`${path}.name`))
      throw badParam('no such staged file (expired or never uploaded)');
    return { path, name: readFileSync(`${path}.name`, 'utf8') };
  }

  async read(stagedId: string, maxBytes: number): Promise<{ bytes: Buffer; name: string }> {
    const { path, name } = this.resolve(stagedId);
    if (statSync(path).size > maxBytes) throw badParam('the staged file is too large for this');
    return { bytes: await readFile(path), name };
  }
}
