// The file relay over real HTTP: round trip, a corrupted chunk, server restart, isolation between
// apps, limits, IP lists, ranged download, pause/resume/cancel. RELAY_LONG=1 makes the round trip 1 GiB.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { sm2Spki } from '../../main/core/pki/keys';
import { RelayAgent } from '../../main/core/relay/agent';
import type { RelayProgress } from '../../main/core/relay/progress';
import { relayAuthHeaders, RELAY_PATH } from '../../main/core/relay/protocol';
import type { RequestSigner } from '../../main/core/platform/canonical';
import { openAgentStore } from '../../main/core/store/agent-store';
import type { AgentStore } from '../../main/core/store/agent-store';
import { startFixture } from '../platform/fixture';
import type { Fixture } from '../platform/fixture';
import { createReferencePlatform } from '../platform/reference-platform';
import { sm3OfFile, writeGeneratedFile } from '../platform/relay-files';

const MIB = 1024 * 1024;
const LONG = process.env.RELAY_LONG === '1';
const BIG = LONG ? 1024 * MIB : 64 * MIB;

let fx: Fixture;
let store: AgentStore;
let n = 0;

before(async () => {
  fx = await startFixture();
  store = openAgentStore(join(fx.dir, 'agent'));
});
after(async () => {
  store.close();
  assert.deepEqual(fx.internalErrors, []);
  await fx.close();
});

const agentFor = (signer: RequestSigner, baseUrl = fx.platform.url, chunkBytes = 4 * MIB) =>
  new RelayAgent({
    db: store.db,
    signer,
    baseUrl,
    chunkBytes,
    retry: { baseMs: 20, maxMs: 200, maxAttempts: 30 },
  });

async function file(size: number): Promise<{ path: string; sm3: string }> {
  const path = join(fx.dir, `src-${++n}.bin`);
  await writeGeneratedFile(path, size);
  return { path, sm3: await sm3OfFile(path) };
}

async function uploaded(size: number, agent = agentFor(fx.sm2.signer)) {
  const src = await file(size);
  const job = await agent.waitFor(agent.upload(src.path).id);
  assert.equal(job.state, 'done', job.error ?? '');
  return { ...src, fileId: job.fileId! };
}

/** A raw signed request to the relay (for the refusals the agent never provokes). */
function raw(
  method: string,
  path: string,
  headers: Record<string, string>,
  baseUrl = fx.platform.url,
): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, baseUrl), { method, headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(parts) }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

describe('relay round trip', () => {
  it(`uploads and downloads ${BIG / MIB} MiB with equal digests and progress`, async () => {
    const agent = agentFor(fx.sm2.signer, fx.platform.url, 8 * MIB);
    const seen: RelayProgress[] = [];
    agent.on('progress', (p) => seen.push(p));
    const before = fx.platform.relay.stats.bytesReceived;
    const up = await uploaded(BIG, agent);
    assert.equal(fx.platform.relay.stats.bytesReceived - before, BIG, 'no chunk sent twice');
    const out = join(fx.dir, 'round-trip.out');
    const job = await agent.waitFor(agent.download(up.fileId, out).id);
    assert.equal(job.state, 'done', job.error ?? '');
    assert.equal(await sm3OfFile(out), up.sm3);
    assert.equal(existsSync(`${out}.part`), false);
    const last = seen.filter((p) => p.kind === 'upload').at(-1)!;
    assert.equal(last.bytes, BIG);
    assert.equal(last.etaMs, 0);
    assert.ok(seen.some((p) => p.kind === 'download' && p.rate > 0 && p.total === BIG));
  });
});

describe('relay integrity', () => {
  it('refuses a corrupted chunk with 460, stores nothing of it, and the agent re-sends it', async () => {
    // A proxy that flips one byte in the body of the second PATCH it forwards.
    let patches = 0;
    const target = new URL(fx.platform.url);
    const proxy = createServer((req, res) => {
      const corrupt = req.method === 'PATCH' && ++patches === 2;
      let flipped = false;
      const up = request(
        {
          host: target.hostname,
          port: target.port,
          method: req.method,
          path: req.url,
          headers: req.headers,
        },
        (r) => {
          res.writeHead(r.statusCode!, r.headers);
          r.pipe(res);
        },
      );
      req.on('data', (c: Buffer) => {
        if (corrupt && !flipped) {
          c = Buffer.from(c);
          c[c.length >> 1]! ^= 0xff;
          flipped = true;
        }
        up.write(c);
      });
      req.on('end', () => up.end());
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    try {
      const refused = fx.platform.relay.stats.chunksRefused;
      const up = await uploaded(10 * MIB, agentFor(fx.sm2.signer, url, 4 * MIB));
      assert.equal(fx.platform.relay.stats.chunksRefused, refused + 1);
      assert.ok(patches >= 4, 'the refused chunk was sent again');
      const out = join(fx.dir, 'corrupt.out');
      const agent = agentFor(fx.sm2.signer);
      assert.equal((await agent.waitFor(agent.download(up.fileId, out).id)).state, 'done');
      assert.equal(await sm3OfFile(out), up.sm3);
    } finally {
      proxy.closeAllConnections();
      await new Promise((r) => proxy.close(r));
    }
  });

  it('discards an upload whose whole-file SM3 differs from its metadata', async () => {
    const src = await file(3 * MIB);
    const agent = agentFor(fx.sm2.signer);
    const job = agent.jobs.add({ kind: 'upload', baseUrl: fx.platform.url, localPath: src.path });
    agent.jobs.update(job.id, { sm3: 'ab'.repeat(32), size: 3 * MIB, filename: 'x' });
    agent.run(job.id);
    const end = await agent.waitFor(job.id);
    assert.equal(end.state, 'failed');
    assert.match(end.error ?? '', /HTTP 422/);
    const h = await relayAuthHeaders(fx.sm2.signer, 'HEAD', `${RELAY_PATH}${end.fileId}`);
    const head = await raw('HEAD', `${RELAY_PATH}${end.fileId}`, {
      ...h,
      'Tus-Resumable': '1.0.0',
    });
    assert.equal(head.status, 404);
  });
});

describe('relay access control', () => {
  it("never lets an app read, resume or delete another app's file", async () => {
    const up = await uploaded(MIB);
    const path = `${RELAY_PATH}${up.fileId}`;
    for (const method of ['GET', 'HEAD', 'DELETE']) {
      const h = await relayAuthHeaders(fx.rsa.signer, method, path);
      const res = await raw(method, path, { ...h, 'Tus-Resumable': '1.0.0' });
      assert.equal(res.status, 404, method);
    }
    const mine = await raw('GET', path, await relayAuthHeaders(fx.sm2.signer, 'GET', path));
    assert.equal(mine.status, 200);
  });

  it('refuses unsigned, badly signed and replayed requests', async () => {
    const up = await uploaded(MIB);
    const path = `${RELAY_PATH}${up.fileId}`;
    assert.equal((await raw('GET', path, {})).status, 400);
    const h = await relayAuthHeaders(fx.sm2.signer, 'GET', path);
    assert.equal((await raw('GET', path, { ...h, 'X-Sign': h['X-Sign']!.slice(4) })).status, 401);
    const other = await relayAuthHeaders(fx.sm2.signer, 'GET', `${RELAY_PATH}other`);
    assert.equal((await raw('GET', path, other)).status, 401, 'signature covers the path');
    assert.equal((await raw('GET', path, h)).status, 200);
    assert.equal((await raw('GET', path, h)).status, 409, 'nonce replay');
    const stale = await relayAuthHeaders(fx.sm2.signer, 'GET', path, Date.now() - 10 * 60_000);
    assert.equal((await raw('GET', path, stale)).status, 401);
  });

  it('serves byte ranges with X-File-SM3', async () => {
    const up = await uploaded(2 * MIB + 5);
    const path = `${RELAY_PATH}${up.fileId}`;
    const h = await relayAuthHeaders(fx.sm2.signer, 'GET', path);
    const res = await raw('GET', path, { ...h, Range: 'bytes=1048576-1048585' });
    assert.equal(res.status, 206);
    assert.equal(res.headers['content-range'], `bytes 1048576-1048585/${2 * MIB + 5}`);
    assert.equal(res.headers['x-file-sm3'], up.sm3);
    assert.equal(res.body.length, 10);
    assert.equal(res.body.readUInt32LE(0), 1, 'the second MiB starts with its index');
    const h2 = await relayAuthHeaders(fx.sm2.signer, 'GET', path);
    assert.equal((await raw('GET', path, { ...h2, Range: 'bytes=99999999-' })).status, 416);
  });

  it('applies the size limit, the per-app quota and the IP deny/allow lists', async () => {
    const dir = join(fx.dir, 'limited');
    const limited = await createReferencePlatform({
      dataDir: dir,
      relay: { maxFileBytes: 3 * MIB, quotaBytes: 5 * MIB },
    });
    const denied = await createReferencePlatform({
      dataDir: join(fx.dir, 'denied'),
      relay: { ipDeny: ['127.0.0.0/8'] },
    });
    const allowed = await createReferencePlatform({
      dataDir: join(fx.dir, 'allowed'),
      relay: { ipAllow: ['10.0.0.0/8', '::1'] },
    });
    try {
      for (const p of [limited, denied, allowed])
        p.registerApp({
          appId: fx.sm2.appId,
          publicKey: sm2Spki(fx.sm2.key.publicKey),
          orgCode: 'T',
        });
      const agent = agentFor(fx.sm2.signer, limited.url, 1 * MIB);
      const tooBig = await file(4 * MIB);
      const big = await agent.waitFor(agent.upload(tooBig.path).id);
      assert.equal(big.state, 'failed');
      assert.match(big.error ?? '', /HTTP 413/);
      const ok = await file(3 * MIB);
      assert.equal((await agent.waitFor(agent.upload(ok.path).id)).state, 'done');
      const over = await agent.waitFor(agent.upload(ok.path).id);
      assert.equal(over.state, 'failed', 'quota: 3 + 3 MiB > 5 MiB');
      assert.match(over.error ?? '', /quota/);
      for (const p of [denied, allowed]) {
        const h = await relayAuthHeaders(fx.sm2.signer, 'GET', `${RELAY_PATH}x`);
        assert.equal((await raw('GET', `${RELAY_PATH}x`, h, p.url)).status, 403);
      }
    } finally {
      await Promise.all([limited.close(), denied.close(), allowed.close()]);
    }
  });
});

describe('relay control and faults', () => {
  it('pauses, resumes and cancels jobs', async () => {
    const src = await file(24 * MIB);
    const agent = agentFor(fx.sm2.signer, fx.platform.url, MIB);
    const job = agent.upload(src.path);
    await new Promise<void>((r) =>
      agent.on('progress', (p) => p.jobId === job.id && p.bytes >= 4 * MIB && r()),
    );
    agent.pause(job.id);
    const paused = await agent.waitFor(job.id);
    assert.equal(paused.state, 'paused');
    assert.ok(paused.offset < 24 * MIB);
    agent.resume(job.id);
    const done = await agent.waitFor(job.id);
    assert.equal(done.state, 'done', done.error ?? '');

    const out = join(fx.dir, 'canceled.out');
    const dl = agent.download(done.fileId!, out);
    await new Promise<void>((r) => agent.on('progress', (p) => p.jobId === dl.id && r()));
    const canceled = await agent.cancel(dl.id);
    assert.equal(canceled.state, 'canceled');
    await agent.waitFor(dl.id);
    assert.equal(existsSync(out), false);
    assert.equal(existsSync(`${out}.part`), false);
  });

  it('survives a platform restart in the middle of an upload', async () => {
    const dir = join(fx.dir, 'restarting');
    let platform = await createReferencePlatform({ dataDir: dir });
    const port = platform.port;
    platform.registerApp({
      appId: fx.sm2.appId,
      publicKey: sm2Spki(fx.sm2.key.publicKey),
      orgCode: 'T',
    });
    const src = await file(32 * MIB);
    const agent = agentFor(fx.sm2.signer, platform.url, 2 * MIB);
    const job = agent.upload(src.path);
    await new Promise<void>((r) =>
      agent.on('progress', (p) => p.jobId === job.id && p.bytes >= 8 * MIB && r()),
    );
    await platform.close(); // drops the PATCH in flight
    await new Promise((r) => setTimeout(r, 300));
    platform = await createReferencePlatform({ dataDir: dir, port });
    try {
      const done = await agent.waitFor(job.id);
      assert.equal(done.state, 'done', done.error ?? '');
      const out = join(fx.dir, 'restart.out');
      assert.equal((await agent.waitFor(agent.download(done.fileId!, out).id)).state, 'done');
      assert.equal(await sm3OfFile(out), src.sm3);
    } finally {
      await platform.close();
    }
  });

  it('reports a full disk on the download side and keeps the partial file for resume', async (t) => {
    // A real full disk: an 8 MiB tmpfs (root only); without it the test is skipped, not faked.
    const mnt = join(fx.dir, 'tmpfs');
    mkdirSync(mnt);
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', mnt], { stdio: 'ignore' });
    } catch {
      t.skip('cannot mount a tmpfs here (needs root)');
      return;
    }
    try {
      const up = await uploaded(12 * MIB);
      const agent = agentFor(fx.sm2.signer, fx.platform.url, MIB);
      const out = join(mnt, 'big.out');
      const failed = await agent.waitFor(agent.download(up.fileId, out).id);
      assert.equal(failed.state, 'failed');
      assert.match(failed.error ?? '', /disk full/);
      const kept = statSync(`${out}.part`).size;
      assert.ok(kept > 4 * MIB && kept <= 8 * MIB, `partial kept (${kept})`);
      assert.equal(existsSync(out), false);
      execFileSync('mount', ['-o', 'remount,size=32m', mnt]);
      const sentBefore = fx.platform.relay.stats.bytesSent;
      agent.resume(failed.id);
      const done = await agent.waitFor(failed.id);
      assert.equal(done.state, 'done', done.error ?? '');
      assert.equal(await sm3OfFile(out), up.sm3);
      assert.equal(fx.platform.relay.stats.bytesSent - sentBefore, 12 * MIB - kept, 'resumed');
    } finally {
      execFileSync('umount', [mnt]);
    }
  });
});

describe('relay bandwidth cap (setting relayMaxKiBps)', () => {
  it('holds uploads and downloads to the cap, in small pieces, and lifting it applies to the running job', async () => {
    const cap = { bytesPerSecond: 2 * MIB };
    const agent = new RelayAgent({
      db: store.db,
      signer: fx.sm2.signer,
      baseUrl: fx.platform.url,
      chunkBytes: 8 * MIB,
      maxBytesPerSecond: () => cap.bytesPerSecond,
    });
    const seen: RelayProgress[] = [];
    agent.on('progress', (p) => seen.push(p));

    // 6 MiB at 2 MiB/s: about 3 s (the first half second is a burst), never much less.
    const src = await file(6 * MIB);
    let t0 = Date.now();
    const up = await agent.waitFor(agent.upload(src.path).id);
    const upMs = Date.now() - t0;
    assert.equal(up.state, 'done', up.error ?? '');
    assert.ok(upMs >= 2_200, `upload held to the cap (${upMs} ms for 6 MiB at 2 MiB/s)`);
    // Pieces of half a second's worth (1 MiB), not 8 MiB chunks: progress moves often.
    const upSteps = seen.filter((p) => p.jobId === up.id && p.bytes > 0).length;
    assert.ok(upSteps >= 6, `progress in 1 MiB steps (${upSteps})`);

    const out = join(fx.dir, 'capped.out');
    t0 = Date.now();
    const down = await agent.waitFor(agent.download(up.fileId!, out).id);
    const downMs = Date.now() - t0;
    assert.equal(down.state, 'done', down.error ?? '');
    assert.equal(await sm3OfFile(out), src.sm3);
    assert.ok(downMs >= 2_200, `download held to the cap (${downMs} ms)`);
    assert.ok(seen.filter((p) => p.jobId === down.id && p.bytes > 0).length >= 6);

    // A slow cap, lifted mid-transfer: the job finishes at full speed without a restart.
    cap.bytesPerSecond = 256 * 1024;
    const big = await file(16 * MIB);
    const job = agent.upload(big.path);
    await new Promise<void>((r) =>
      agent.on('progress', (p) => p.jobId === job.id && p.bytes > 0 && r()),
    );
    t0 = Date.now();
    cap.bytesPerSecond = 0;
    const fast = await agent.waitFor(job.id);
    assert.equal(fast.state, 'done', fast.error ?? '');
    // 16 MiB at 256 KiB/s would take a minute.
    assert.ok(Date.now() - t0 < 20_000, `the lifted cap applied live (${Date.now() - t0} ms)`);
  });
});
