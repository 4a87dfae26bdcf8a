/**
 * npm run bench:relay — the file relay against a raw HTTP PUT/GET of the same bytes on loopback, in
 * one run: upload and download MB/s of each, and the relay agent's peak RSS. The platform (and the
 * raw server) run in this process; each client runs in a child process so its RSS is its own.
 * RELAY_BENCH_MIB (default 1024) sets the file size, RELAY_BENCH_CHUNK_MIB (default 8) the chunk.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg } from 'node:os';
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
  /** Relay only: the upload's SM3 pre-pass (until the creation POST is answered). */
  prepassMs?: number;
  /** Relay only: peak RSS when the upload ended. */
  uploadPeakRssMb?: number;
  /** CPU time (user + system, all threads) of this client per phase. */
  uploadCpuMs: number;
  downloadCpuMs: number;
}

const rssMb = (): number => process.memoryUsage().rss / MIB;
const peakMb = (): number => process.resourceUsage().maxRSS / 1024;

const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/**
 * Wall and CPU time of one phase. Dirty pages are flushed first (`sync`, untimed), so neither
 * side pays for the other's disk writeback.
 */
async function timed(fn: () => Promise<void>): Promise<{ ms: number; cpu: number }> {
  execFileSync('sync');
  const t = performance.now();
  const c = cpuMs();
  await fn();
  return { ms: performance.now() - t, cpu: cpuMs() - c };
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
  const up = await timed(put);
  const down = await timed(get);
  return {
    uploadMs: up.ms,
    downloadMs: down.ms,
    uploadCpuMs: up.cpu,
    downloadCpuMs: down.cpu,
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
  let prepassMs = 0;
  const up = await timed(async () => {
    const t0 = performance.now();
    // The first progress event comes once the upload exists on the platform, i.e. after the SM3.
    agent.once('progress', () => (prepassMs = performance.now() - t0));
    const job = await agent.waitFor(agent.upload(src).id);
    if (job.state !== 'done') throw new Error(`upload ${job.state}: ${job.error}`);
    fileId = job.fileId!;
  });
  const uploadPeakRssMb = peakMb();
  const down = await timed(async () => {
    const job = await agent.waitFor(agent.download(fileId, out).id);
    if (job.state !== 'done') throw new Error(`download ${job.state}: ${job.error}`);
  });
  store.close();
  return {
    uploadMs: up.ms,
    downloadMs: down.ms,
    uploadCpuMs: up.cpu,
    downloadCpuMs: down.cpu,
    baseRssMb,
    peakRssMb: peakMb(),
    prepassMs,
    uploadPeakRssMb,
  };
}

function runChild(args: string[], env: Record<string, string>): Promise<ChildReport> {
  return new Promise((resolve, reject) => {
    const prof = process.env.RELAY_BENCH_PROF; // a directory: CPU profiles of the clients
    const flags = prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : [];
    const proc = spawn(process.execPath, [...flags, __filename, 'child', ...args], {
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
  const loadBefore = loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
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
    const env = {
      RELAY_APP_ID: fx.sm2.appId,
      RELAY_SM2_KEY: fx.sm2.key.privateKey.toString('hex'),
    };
    const args = ['relay', fx.platform.url, src, join(fx.dir, 'relay.out'), join(fx.dir, 'agent')];
    // Server-side CPU (this process, all threads: the platform's SM3 worker included).
    const serverCpu = async (run: () => Promise<ChildReport>) => {
      const c = cpuMs();
      const report = await run();
      return { report, cpu: cpuMs() - c };
    };
    const runRaw = () => runChild(['raw', rawUrl, src, join(fx.dir, 'raw.out')], {});
    const runRelay = () => runChild(args, env);
    // RELAY_BENCH_RELAY_FIRST=1 swaps the order, to see what running second costs either side.
    const relayFirst = process.env.RELAY_BENCH_RELAY_FIRST === '1';
    const first = await serverCpu(relayFirst ? runRelay : runRaw);
    const second = await serverCpu(relayFirst ? runRaw : runRelay);
    const [rawRun, relayRun] = relayFirst ? [second, first] : [first, second];
    const r = rawRun.report;
    const x = relayRun.report;
    const rawServerCpu = rawRun.cpu;
    const platformCpu = relayRun.cpu;
    const gib = SIZE / 1024 ** 3;
    const cpu = (ms: number): string => `${(ms / 1000 / gib).toFixed(1)}`;
    const mbs = (ms: number): number => SIZE / MIB / (ms / 1000);
    const pct = (a: number, b: number): string => `${((a / b) * 100).toFixed(0)} %`;
    const row = (name: string, rel: number, rawMs: number): string =>
      `${name.padEnd(9)} relay ${mbs(rel).toFixed(0).padStart(5)} MB/s   raw ${mbs(rawMs).toFixed(0).padStart(5)} MB/s   relay/raw ${pct(rawMs, rel)}`;
    process.stdout.write(
      [
        `file relay, ${SIZE / MIB} MiB, chunk ${CHUNK / MIB} MiB, loopback, node ${process.version}, ${relayFirst ? 'relay' : 'raw'} first`,
        row('upload', x.uploadMs, r.uploadMs),
        `          of which SM3 pre-pass ${(x.prepassMs! / 1000).toFixed(2)} s, chunks ${mbs(x.uploadMs - x.prepassMs!).toFixed(0)} MB/s`,
        row('download', x.downloadMs, r.downloadMs),
        `CPU s per GiB: relay agent ${cpu(x.uploadCpuMs)} up + ${cpu(x.downloadCpuMs)} down, platform ${cpu(platformCpu)} (both); raw client ${cpu(r.uploadCpuMs)} + ${cpu(r.downloadCpuMs)}, raw server ${cpu(rawServerCpu)}`,
        `load average before: ${loadBefore}, after: ${loadavg()
          .map((l) => l.toFixed(2))
          .join(' ')} (2 cores shared with whatever else runs)`,
        `agent RSS: ${x.baseRssMb.toFixed(0)} MB after start, peak ${x.peakRssMb.toFixed(0)} MB (growth ${(x.peakRssMb - x.baseRssMb).toFixed(0)} MB; ${x.uploadPeakRssMb!.toFixed(0)} MB by the end of the upload); raw client peak ${r.peakRssMb.toFixed(0)} MB`,
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
