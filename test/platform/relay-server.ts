// The reference platform's file relay (CONTRACT §4 "File relay", seed 000 §6.9, §8.4.5): a tus
// endpoint per app under /api/v1/files/, each app in its own directory, plus ranged download.
import { createReadStream } from 'node:fs';
import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { join } from 'node:path';
import type { Server } from '@tus/server';
import type { Upload } from '@tus/utils';
import { AgentError } from '../../main/common/errors';
import { httpStatusOf, ResultCode } from '../../main/common/codes';
import { checkReplay, verifyRequestSign } from '../../main/core/platform/canonical';
import type { NonceStore } from '../../main/core/platform/canonical';
import { AUTH_HEADERS, RELAY_PATH } from '../../main/core/relay/protocol';
import { findApp } from './apps';
import type { PlatformDb } from './database';
import { checksumFileStore, checksumScope, tusError } from './relay-store';
import type { ChecksumFileStore, RelayStats } from './relay-store';
import { loadTus } from './relay-tus';

const GIB = 1024 ** 3;

export interface RelayOptions {
  /** Largest single file. Default 2 GiB. */
  maxFileBytes?: number;
  /** Bytes an app may hold, finished or not. Default 8 GiB. */
  quotaBytes?: number;
  /** Addresses or CIDR blocks always refused (checked first). */
  ipDeny?: readonly string[];
  /** If non-empty, only these addresses or CIDR blocks are served. */
  ipAllow?: readonly string[];
}

export interface RelayDeps {
  /** Apps' files live under <root>/<appId>/. */
  root: string;
  db: PlatformDb;
  nonces: NonceStore;
  clock: () => number;
  windowMs: number;
  onError: (e: unknown) => void;
}

export interface RelayHandler {
  handle(req: IncomingMessage, res: ServerResponse): void;
  readonly stats: RelayStats;
}

export const isRelayPath = (url: string): boolean =>
  url.startsWith(RELAY_PATH) || url.split('?')[0] === RELAY_PATH.slice(0, -1);

/** A BlockList of addresses and `addr/prefix` blocks (IPv4 or IPv6). */
function blockList(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [addr = '', prefix] = entry.split('/');
    const type = isIPv4(addr) ? 'ipv4' : isIPv6(addr) ? 'ipv6' : undefined;
    if (!type) throw new Error(`relay IP list: ${entry} is not an address or block`);
    if (prefix === undefined) list.addAddress(addr, type);
    else list.addSubnet(addr, Number(prefix), type);
  }
  return list;
}

/** `::ffff:1.2.3.4` (IPv4 on a dual-stack socket) checked as 1.2.3.4. */
function ipAllowed(remote: string, deny: BlockList, allow: BlockList | undefined): boolean {
  const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(remote)?.[1];
  const addr = v4 ?? remote;
  const type = isIPv4(addr) ? 'ipv4' : 'ipv6';
  if (deny.check(addr, type)) return false;
  return !allow || allow.check(addr, type);
}

function sendText(res: ServerResponse, status: number, text: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Tus-Resumable': '1.0.0' });
  res.end(`${text}\n`);
}

/** Bytes an app's directory holds: declared sizes of its uploads (a quota reserves them). */
async function usedBytes(dir: string): Promise<number> {
  let used = 0;
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (!name.endsWith('.json')) continue;
    try {
      const info = JSON.parse(await readFile(join(dir, name), 'utf8')) as { size?: number };
      used += info.size ?? 0;
    } catch {
      // A config being written concurrently: count it on the next request.
    }
  }
  return used;
}

const byteRange = (header: string | undefined, size: number): [number, number] | 'bad' | null => {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return 'bad';
  let start: number;
  let end: number;
  if (m[1] === '') {
    start = Math.max(0, size - Number(m[2]));
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  return start > end || start >= size ? 'bad' : [start, end];
};

export async function createRelayHandler(
  deps: RelayDeps,
  options: RelayOptions = {},
): Promise<RelayHandler> {
  const tus = await loadTus();
  const stats: RelayStats = { bytesReceived: 0, bytesSent: 0, chunksRefused: 0 };
  const Store = checksumFileStore(tus.FileStore, stats);
  const maxFile = options.maxFileBytes ?? 2 * GIB;
  const quota = options.quotaBytes ?? 8 * GIB;
  const deny = blockList(options.ipDeny ?? []);
  const allow = options.ipAllow?.length ? blockList(options.ipAllow) : undefined;
  const perApp = new Map<string, { server: Server; store: ChecksumFileStore; dir: string }>();

  /** One tus server per app over the app's own directory: isolation by construction. */
  async function appRelay(appId: string) {
    const known = perApp.get(appId);
    if (known) return known;
    const dir = join(deps.root, appId);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const store = new Store(dir);
    const server = new tus.Server({
      path: RELAY_PATH.slice(0, -1),
      datastore: store,
      maxSize: maxFile,
      relativeLocation: true,
      onUploadCreate: async (_req, upload: Upload) => {
        const meta = upload.metadata ?? {};
        if (!meta.filename) throw tusError(400, 'Upload-Metadata must carry filename');
        if (!/^[0-9a-f]{64}$/.test(meta.sm3 ?? ''))
          throw tusError(400, 'Upload-Metadata must carry sm3 (64 hex digits)');
        if (upload.size === undefined) throw tusError(400, 'Upload-Length is required');
        if ((await usedBytes(dir)) + upload.size > quota)
          throw tusError(413, 'the app storage quota would be exceeded');
        return {};
      },
      onUploadFinish: async (_req, upload: Upload) => {
        const digest = await store.sm3Of(upload.id, upload.size ?? 0);
        if (digest !== upload.metadata?.sm3) {
          await store.remove(upload.id);
          throw tusError(422, 'the file SM3 does not match Upload-Metadata sm3; upload discarded');
        }
        // The digest, then the name the uploader gave (served back as Content-Disposition).
        await writeFile(store.doneFile(upload.id), `${digest}\n${upload.metadata?.filename ?? ''}`);
        return {};
      },
      onResponseError: (_req, err) => {
        if ('status_code' in err) return undefined;
        deps.onError(err);
        return { status_code: 500, body: 'internal error\n' };
      },
    });
    const entry = { server, store, dir };
    perApp.set(appId, entry);
    return entry;
  }

  /** CONTRACT §4: X-App-Id, X-Time, X-Nonce, X-Sign over {appId, method, nonce, path, time}. */
  function authenticate(req: IncomingMessage, path: string): string {
    const h = (name: string): string => {
      const v = req.headers[name];
      if (typeof v !== 'string' || v === '')
        throw new AgentError(ResultCode.BAD_PARAM, `header ${name} is required`);
      return v;
    };
    const appId = h(AUTH_HEADERS.appId);
    const time = h(AUTH_HEADERS.time);
    const nonce = h(AUTH_HEADERS.nonce);
    const sign = h(AUTH_HEADERS.sign);
    const app = findApp(deps.db, appId);
    if (!app) throw new AgentError(ResultCode.APP_NOT_ALLOWED, 'appId is not registered');
    const fields = { appId, method: req.method ?? '', nonce, path, time };
    if (!verifyRequestSign(fields, sign, app.spki))
      throw new AgentError(ResultCode.BAD_SIGN, 'X-Sign does not verify with the app key');
    if (!/^\d{1,8}$/.test(nonce)) throw new AgentError(ResultCode.BAD_PARAM, 'bad X-Nonce');
    checkReplay({ appId, time, nonce: Number(nonce) }, deps.nonces, deps.clock(), deps.windowMs);
    return appId;
  }

  async function download(res: ServerResponse, req: IncomingMessage, dir: string, id: string) {
    if (!/^[0-9A-Za-z_-]{1,128}$/.test(id)) return sendText(res, 404, 'no such file');
    const file = join(dir, id);
    let sm3: string;
    let name: string;
    let size: number;
    try {
      [sm3 = '', name = ''] = (await readFile(`${file}.done`, 'utf8')).split('\n');
      size = (await stat(file)).size;
    } catch {
      return sendText(res, 404, 'no such file');
    }
    const range = size === 0 ? null : byteRange(req.headers.range, size);
    if (range === 'bad') {
      res.setHeader('Content-Range', `bytes */${size}`);
      return sendText(res, 416, 'range not satisfiable');
    }
    const [start, end] = range ?? [0, size - 1];
    const headers: Record<string, string | number> = {
      'Content-Type': 'application/octet-stream',
      'Accept-Ranges': 'bytes',
      'X-File-SM3': sm3,
      'Content-Length': size === 0 ? 0 : end - start + 1,
    };
    if (name)
      headers['Content-Disposition'] = `attachment; filename*=UTF-8''${encodeURIComponent(name)}`;
    if (range) headers['Content-Range'] = `bytes ${start}-${end}/${size}`;
    res.writeHead(range ? 206 : 200, headers);
    if (req.method === 'HEAD' || size === 0) return void res.end();
    const body = createReadStream(file, { start, end, highWaterMark: 1 << 20 });
    body.on('data', (c: string | Buffer) => {
      stats.bytesSent += c.length;
    });
    body.on('error', () => res.destroy());
    res.on('close', () => body.destroy());
    body.pipe(res);
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!ipAllowed(req.socket.remoteAddress ?? '', deny, allow))
      return sendText(res, 403, 'this address may not use the file relay');
    const path = (req.url ?? '/').split('?')[0]!;
    if (req.method === 'OPTIONS') {
      res.writeHead(204, {
        'Tus-Resumable': '1.0.0',
        'Tus-Version': '1.0.0',
        'Tus-Extension': 'creation,termination,checksum',
        'Tus-Checksum-Algorithm': 'md5',
        'Tus-Max-Size': maxFile,
      });
      return void res.end();
    }
    let appId: string;
    try {
      appId = authenticate(req, path);
    } catch (e) {
      const err = e instanceof AgentError ? e : new AgentError(ResultCode.BAD_PARAM, String(e));
      req.resume();
      return sendText(res, httpStatusOf[err.code] ?? 400, `${err.code} ${err.message}`);
    }
    const relay = await appRelay(appId);
    if (req.method === 'GET') return download(res, req, relay.dir, path.slice(RELAY_PATH.length));
    const checksum = req.headers['upload-checksum'];
    await checksumScope.run({ checksum: typeof checksum === 'string' ? checksum : undefined }, () =>
      relay.server.handle(req, res),
    );
  }

  return {
    stats,
    handle: (req, res) => {
      route(req, res).catch((e: unknown) => {
        deps.onError(e);
        sendText(res, 500, 'internal error');
      });
    },
  };
}
