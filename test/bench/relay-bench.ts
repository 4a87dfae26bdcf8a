/**
 * npm run bench:relay — the file relay against a raw HTTP PUT/GET of the same bytes on loopback, in
 * one run: upload and download MB/s of each, and the relay agent's peak RSS. The platform (and the
 * raw server) run in this process; each client runs in a child process so its RSS is its own.
 * RELAY_BENCH_MIB (default 1024) sets the file size, RELAY_BENCH_CHUNK_MIB (default 8) the chunk.
 */
import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream, rmSync } from 'node:fs';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { sm2KeyPairFromPrivate } from '../../main/core/crypto/sm2';
import { sm2RequestSigner } from '../../main/core/platform/request-signer';
import { RelayAgent } from '../../main/core/relay/agent';
import { openAgentStore } from '../../main/core/store/agent-store';
import { startFixture } from '../platform/fixture';
import { writeGeneratedFile } from '../platform/relay-files';

const MIB = 1024 * 1024;
const SIZE = Number(process.env.RELAY_BENCH_MIB ?? 1024) * MIB;
const CHUNK = Number(process.env.RELAY_BENCH_CHUNK_MIB ?? 8) * MIB;

interface ChildReport {
  uploadMs: number;
  downloadMs: number;
  baseRssMb: number;
  peakRssMb: number;
}

const rssMb = (): number => process.memoryUsage().rss / MIB;
const peakMb = (): number => process.resourceUsage().maxRSS / 1024;

async function timed(fn: () => Promise<void>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

/** Child: a raw PUT then GET of the file, streamed. */
async function rawChild(url: string, src: string, out: string): Promise<ChildReport> {
  const baseRssMb = rssMb();
  const put = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const req = request(`${url}/raw`, { method: 'PUT', headers: { 'Content-Length': SIZE } });
      req.on('response', (res) => res.resume().on('end', resolve));
      req.on('error', reject);
      createReadStream(src, { highWaterMark: 1 << 20 }).pipe(req);
    });
  const get = (): Promise<void> =>
    new Promise((resolve, reject) => {
      request(`${url}/raw`, (res) => {
        pipeline(res, createWriteStream(out)).then(resolve, reject);
      })
        .on('error', reject)
        .end();
    });
  return {
    uploadMs: await timed(put),
    downloadMs: await timed(get),
    baseRssMb,
    peakRssMb: peakMb(),
  };
}

/** Child: the relay agent uploads then downloads the file. */
async function relayChild(
  url: string,
  src: string,
  out: string,
  dir: string,
): Promise<ChildReport> {
  const store = openAgentStore(dir);
  const agent = new RelayAgent({
    db: store.db,
    signer: sm2RequestSigner(
      process.env.RELAY_APP_ID!,
      sm2KeyPairFromPrivate(Buffer.from(process.env.RELAY_SM2_KEY!, 'hex')),
    ),
    baseUrl: url,
    chunkBytes: CHUNK,
  });
  const baseRssMb = rssMb();
  let fileId = '';
  const uploadMs = await timed(async () => {
    const job = await agent.waitFor(agent.upload(src).id);
    if (job.state !== 'done') throw new Error(`upload ${job.state}: ${job.error}`);
    fileId = job.fileId!;
  });
  const downloadMs = await timed(async () => {
    const job = await agent.waitFor(agent.download(fileId, out).id);
    if (job.state !== 'done') throw new Error(`download ${job.state}: ${job.error}`);
  });
  store.close();
  return { uploadMs, downloadMs, baseRssMb, peakRssMb: peakMb() };
}

function runChild(args: string[], env: Record<string, string>): Promise<ChildReport> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [__filename, 'child', ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    proc.stdout.on('data', (c: Buffer) => (out += c.toString()));
    proc.on('exit', (code) =>
      code === 0 ? resolve(JSON.parse(out) as ChildReport) : reject(new Error(`child ${code}`)),
    );
  });
}

async function parent(): Promise<void> {
  const fx = await startFixture();
  const src = join(fx.dir, 'bench.bin');
  await writeGeneratedFile(src, SIZE);
  const rawFile = join(fx.dir, 'raw-store.bin');
  const raw = createServer((req, res) => {
    if (req.method === 'PUT')
      void pipeline(req, createWriteStream(rawFile)).then(() => res.writeHead(204).end());
    else {
      res.writeHead(200, { 'Content-Length': SIZE });
      createReadStream(rawFile, { highWaterMark: 1 << 20 }).pipe(res);
    }
  });
  await new Promise<void>((r) => raw.listen(0, '127.0.0.1', r));
  const rawUrl = `http://127.0.0.1:${(raw.address() as AddressInfo).port}`;
  try {
    const r = await runChild(['raw', rawUrl, src, join(fx.dir, 'raw.out')], {});
    rmSync(join(fx.dir, 'raw.out'));
    const env = {
      RELAY_APP_ID: fx.sm2.appId,
      RELAY_SM2_KEY: fx.sm2.key.privateKey.toString('hex'),
    };
    const args = ['relay', fx.platform.url, src, join(fx.dir, 'relay.out'), join(fx.dir, 'agent')];
    const x = await runChild(args, env);
    const mbs = (ms: number): number => SIZE / MIB / (ms / 1000);
    const pct = (a: number, b: number): string => `${((a / b) * 100).toFixed(0)} %`;
    const row = (name: string, rel: number, rawMs: number): string =>
      `${name.padEnd(9)} relay ${mbs(rel).toFixed(0).padStart(5)} MB/s   raw ${mbs(rawMs).toFixed(0).padStart(5)} MB/s   relay/raw ${pct(rawMs, rel)}`;
    process.stdout.write(
      [
        `file relay, ${SIZE / MIB} MiB, chunk ${CHUNK / MIB} MiB, loopback, node ${process.version}`,
        row('upload', x.uploadMs, r.uploadMs),
        row('download', x.downloadMs, r.downloadMs),
        `agent RSS: ${x.baseRssMb.toFixed(0)} MB after start, peak ${x.peakRssMb.toFixed(0)} MB (growth ${(x.peakRssMb - x.baseRssMb).toFixed(0)} MB); raw client peak ${r.peakRssMb.toFixed(0)} MB`,
        '',
      ].join('\n'),
    );
  } finally {
    raw.close();
    await fx.close();
  }
}

async function main(): Promise<void> {
  const [mode, kind, url, src, out, dir] = process.argv.slice(2);
  if (mode !== 'child') return parent();
  const report =
    kind === 'raw' ? await rawChild(url!, src!, out!) : await relayChild(url!, src!, out!, dir!);
  process.stdout.write(JSON.stringify(report));
}

main().catch((e: unknown) => {
  process.stderr.write(`relay bench: ${String(e)}\n`);
  process.exit(1);
});
