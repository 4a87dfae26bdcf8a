// The reference platform's whole-file SM3, off the event loop: a worker thread keeps one running
// hash per upload and reads each verified chunk back from disk (the page cache), so a PATCH is
// answered once its MD5 verifies and its bytes are written, while SM3 catches up on the other core.
import { closeSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { Worker, isMainThread, parentPort } from 'node:worker_threads';
import { createSm3 } from '../../main/core/crypto/sm3';
import type { Sm3Hasher } from '../../main/core/crypto/sm3';

type Request =
  /** Bytes [start, end) of `path` are verified and stored: add them to the upload's hash. */
  | { op: 'feed'; path: string; start: number; end: number }
  /** The SM3 (hex) of the first `size` bytes of `path`: the running hash, else a full read. */
  | { op: 'digest'; id: number; path: string; size: number }
  | { op: 'drop'; path: string };

interface Reply {
  id: number;
  hex?: string;
  error?: string;
}

const BLOCK = 1 << 20;

/** Feeds bytes [start, end) of the file at `path` to `hasher`. */
function hashRange(hasher: Sm3Hasher, path: string, start: number, end: number, buf: Buffer) {
  const fd = openSync(path, 'r');
  try {
    for (let at = start; at < end;) {
      const n = readSync(fd, buf, 0, Math.min(buf.length, end - at), at);
      if (n === 0) throw new Error('file shorter than its verified offset');
      hasher.update(buf.subarray(0, n));
      at += n;
    }
  } finally {
    closeSync(fd);
  }
}

function serve(): void {
  const running = new Map<string, { hasher: Sm3Hasher; offset: number }>();
  const buf = Buffer.allocUnsafe(BLOCK);
  parentPort!.on('message', (m: Request) => {
    if (m.op === 'drop') {
      running.delete(m.path);
      return;
    }
    if (m.op === 'feed') {
      let run = running.get(m.path);
      if (!run && m.start === 0) running.set(m.path, (run = { hasher: createSm3(), offset: 0 }));
      // A gap (platform restart, a hash lost) leaves the upload to a full read at the end.
      if (!run || run.offset !== m.start) return void running.delete(m.path);
      try {
        hashRange(run.hasher, m.path, m.start, m.end, buf);
        run.offset = m.end;
      } catch {
        running.delete(m.path);
      }
      return;
    }
    const reply: Reply = { id: m.id };
    try {
      const run = running.get(m.path);
      running.delete(m.path);
      let hasher = run?.offset === m.size ? run.hasher : undefined;
      if (!hasher) hashRange((hasher = createSm3()), m.path, 0, m.size, buf);
      reply.hex = hasher.digest().toString('hex');
    } catch (e) {
      reply.error = (e as Error).message;
    }
    parentPort!.postMessage(reply);
  });
}

/** The main thread's handle on the worker (one per process, started on first use). */
export class Sm3Worker {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly waiting = new Map<
    number,
    { resolve(hex: string): void; reject(e: Error): void }
  >();

  private get w(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(join(__dirname, 'relay-sm3-worker.js'));
    w.on('message', (r: Reply) => {
      const p = this.waiting.get(r.id);
      this.waiting.delete(r.id);
      if (r.hex) p?.resolve(r.hex);
      else p?.reject(new Error(`SM3 worker: ${r.error ?? 'no digest'}`));
    });
    w.on('error', (e) => {
      this.worker = undefined;
      for (const p of this.waiting.values()) p.reject(e);
      this.waiting.clear();
    });
    w.unref(); // after the listeners (adding one refs it again): never keeps a process alive
    return (this.worker = w);
  }

  feed(path: string, start: number, end: number): void {
    this.w.postMessage({ op: 'feed', path, start, end } satisfies Request);
  }

  drop(path: string): void {
    this.worker?.postMessage({ op: 'drop', path } satisfies Request);
  }

  /** Answers after every earlier feed of `path` is hashed (messages are handled in order). */
  digest(path: string, size: number): Promise<string> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.w.postMessage({ op: 'digest', id, path, size } satisfies Request);
    });
  }
}

if (!isMainThread && parentPort) serve();
