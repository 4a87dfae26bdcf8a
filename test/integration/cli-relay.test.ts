// `ukey-agent relay …` end to end against the reference platform: upload, download, list, pause,
// resume and cancel, each a separate CLI process printing JSON lines. The platform runs in this
// process, so the CLI is always spawned asynchronously (spawnSync would block the platform).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { RelayProgress } from '../../main/core/relay/progress';
import { startFixture } from '../platform/fixture';
import type { Fixture } from '../platform/fixture';
import { sm3OfFile, writeGeneratedFile } from '../platform/relay-files';

const BIN = join(__dirname, '..', '..', '..', 'bin', 'ukey-agent.js');
const MIB = 1024 * 1024;

interface Envelope {
  code: string;
  message: string;
  data: unknown;
}
interface JobView {
  jobId: number;
  kind: 'upload' | 'download';
  state: string;
  fileId: string | null;
  path: string;
  bytes: number;
  size: number | null;
  sm3: string | null;
  error: string | null;
}
type Progress = RelayProgress & { event: 'progress' };

/** One CLI run: its stdout JSON lines as they come, and how it ended. */
interface CliRun {
  lines: (Progress | Envelope)[];
  /** Resolves on the first line matching `pred`. */
  waitLine(pred: (l: Progress | Envelope) => boolean): Promise<Progress | Envelope>;
  done: Promise<{ status: number | null; stderr: string; last: Envelope }>;
}

let fx: Fixture;
let slow: Server;
let slowUrl = '';
let agentDir = '';
let passFile = '';

function cli(args: string[]): CliRun {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: (Progress | Envelope)[] = [];
  const waiters: {
    pred: (l: Progress | Envelope) => boolean;
    resolve(l: Progress | Envelope): void;
  }[] = [];
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  createInterface({ input: child.stdout! }).on('line', (text) => {
    let l: Progress | Envelope;
    try {
      l = JSON.parse(text) as Progress | Envelope;
    } catch {
      assert.fail(`not a JSON line on stdout: ${text}`);
    }
    lines.push(l);
    for (const w of waiters.splice(0)) {
      if (w.pred(l)) w.resolve(l);
      else waiters.push(w);
    }
  });
  const done = new Promise<{ status: number | null; stderr: string; last: Envelope }>((resolve) =>
    child.on('close', (status) =>
      resolve({ status, stderr, last: (lines.at(-1) ?? {}) as Envelope }),
    ),
  );
  return {
    lines,
    waitLine: (pred) =>
      new Promise((resolve, reject) => {
        const seen = lines.find(pred);
        if (seen) return resolve(seen);
        waiters.push({ pred, resolve });
        void done.then(() => reject(new Error(`the CLI ended without that line: ${stderr}`)));
      }),
    done,
  };
}

/** `relay …` under the imported identity (`list` reads the job table only: no identity). */
const relay = (args: string[], platform = fx.platform.url): CliRun =>
  cli([
    'relay',
    ...args,
    '--data-dir',
    agentDir,
    ...(args[0] === 'list' ? [] : ['--passphrase-file', passFile, '--platform', platform]),
    '--json',
  ]);

const progressOf = (run: CliRun): Progress[] =>
  run.lines.filter((l): l is Progress => 'event' in l && l.event === 'progress');

async function finished(run: CliRun): Promise<JobView> {
  const r = await run.done;
  assert.equal(r.last.code, '0', r.stderr + JSON.stringify(r.last));
  return r.last.data as JobView;
}

/** The platform's upload files for the app (tus data files, not their sidecars). */
const platformFiles = (): string[] =>
  readdirSync(join(fx.dir, 'platform', 'files', fx.sm2.appId)).filter((n) => !n.includes('.'));

before(async () => {
  fx = await startFixture();
  agentDir = join(fx.dir, 'agent');
  passFile = join(fx.dir, 'pass');
  writeFileSync(passFile, 'relay cli passphrase\n', { mode: 0o600 });
  const keyFile = join(fx.dir, 'app-key.txt');
  writeFileSync(keyFile, `${fx.sm2.key.privateKey.toString('hex')}\n`, { mode: 0o600 });
  const imp = await cli([
    'platform',
    'identity',
    'import',
    '--app-id',
    fx.sm2.appId,
    '--key',
    keyFile,
    '--platform',
    fx.platform.url,
    '--data-dir',
    agentDir,
    '--passphrase-file',
    passFile,
    '--json',
  ]).done;
  assert.equal(imp.last.code, '0', imp.stderr);
  // A slow path to the same platform: each relay request waits 150 ms, so a transfer lasts long
  // enough for another CLI process to pause it. Bytes pass through unchanged.
  slow = createServer((req, res) => {
    setTimeout(() => {
      const up = request(
        `${fx.platform.url}${req.url}`,
        { method: req.method, headers: req.headers },
        (ur) => {
          res.writeHead(ur.statusCode ?? 502, ur.headers);
          ur.pipe(res);
        },
      );
      up.on('error', () => res.destroy());
      req.pipe(up);
    }, 150);
  });
  await new Promise<void>((r) => slow.listen(0, '127.0.0.1', r));
  slowUrl = `http://127.0.0.1:${(slow.address() as AddressInfo).port}`;
});

after(async () => {
  slow.closeAllConnections();
  await new Promise((r) => slow.close(r));
  assert.deepEqual(fx.internalErrors, []);
  await fx.close();
});

describe('ukey-agent relay', () => {
  const src = (): string => join(fx.dir, 'small.bin');
  let digest = '';
  let fileId = '';
  let bigFileId = '';

  it('upload FILE prints progress lines, then the done job with the platform file id', async () => {
    await writeGeneratedFile(src(), 6 * MIB + 12_345);
    digest = await sm3OfFile(src());
    const run = relay(['upload', src(), '--chunk-mib', '1', '--name', 'report.bin']);
    const job = await finished(run);
    assert.equal(job.kind, 'upload');
    assert.equal(job.state, 'done');
    assert.equal(job.sm3, digest);
    assert.equal(job.size, 6 * MIB + 12_345);
    assert.match(job.fileId ?? '', /^[0-9A-Za-z_-]+$/);
    fileId = job.fileId!;
    const p = progressOf(run);
    assert.ok(p.length >= 7, `${p.length} progress lines for 7 chunks`);
    for (let i = 1; i < p.length; i++) assert.ok(p[i]!.bytes >= p[i - 1]!.bytes);
    assert.deepEqual(
      [p.at(-1)!.bytes, p.at(-1)!.total, p.at(-1)!.jobId],
      [job.size, job.size, job.jobId],
    );
    assert.ok(platformFiles().includes(fileId));
  });

  it('download ID --out PATH writes the SM3-verified file and no .part', async () => {
    const out = join(fx.dir, 'got.bin');
    const run = relay(['download', fileId, '--out', out, '--chunk-mib', '2']);
    const job = await finished(run);
    assert.equal(job.kind, 'download');
    assert.equal(job.state, 'done');
    assert.equal(await sm3OfFile(out), digest);
    assert.equal(existsSync(`${out}.part`), false);
    const p = progressOf(run);
    assert.ok(p.length >= 1);
    assert.equal(p.at(-1)!.bytes, job.size);
  });

  it('download of an unknown id fails with exit 1 and the job failed', async () => {
    const run = relay(['download', 'no-such-file', '--out', join(fx.dir, 'none.bin')]);
    const r = await run.done;
    assert.equal(r.status, 1);
    assert.equal((r.last.data as JobView).state, 'failed');
    assert.match((r.last.data as JobView).error ?? '', /404/);
  });

  it('list shows every job with its state', async () => {
    const r = await relay(['list']).done;
    assert.equal(r.last.code, '0', r.stderr);
    const jobs = r.last.data as JobView[];
    assert.deepEqual(
      jobs.map((j) => [j.kind, j.state]),
      [
        ['upload', 'done'],
        ['download', 'done'],
        ['download', 'failed'],
      ],
    );
    assert.equal(jobs[0]!.fileId, fileId);
  });

  it('pause from another process stops an upload; resume finishes it from where it was', async () => {
    const big = join(fx.dir, 'big.bin');
    await writeGeneratedFile(big, 24 * MIB);
    const bigSm3 = await sm3OfFile(big);
    const run = relay(['upload', big, '--chunk-mib', '1'], slowUrl);
    const first = (await run.waitLine((l) => 'event' in l && l.bytes >= 2 * MIB)) as Progress;
    const paused = await relay(['pause', String(first.jobId)]).done;
    assert.equal(paused.last.code, '0', paused.stderr);
    assert.equal((paused.last.data as JobView).state, 'paused');
    // The uploading process sees it after its current chunk, reports the job paused, exits 1.
    const stopped = await run.done;
    assert.equal(stopped.status, 1);
    const at = stopped.last.data as JobView;
    assert.equal(at.state, 'paused');
    assert.ok(at.bytes > 0 && at.bytes < 24 * MIB, `paused at ${at.bytes}`);

    const resumed = relay(['resume', String(first.jobId), '--chunk-mib', '1']);
    const job = await finished(resumed);
    assert.equal(job.state, 'done');
    assert.equal(job.sm3, bigSm3);
    // It went on from the platform's offset: the first progress line is not back at zero.
    assert.ok(progressOf(resumed)[0]!.bytes >= at.bytes);
    bigFileId = job.fileId!;
    const check = join(fx.dir, 'big.out');
    await finished(relay(['download', job.fileId!, '--out', check, '--chunk-mib', '4']));
    assert.equal(await sm3OfFile(check), bigSm3);
  });

  it('cancel drops a paused upload on the platform and a download’s partial file', async () => {
    const big = join(fx.dir, 'big.bin');
    const up = relay(['upload', big, '--chunk-mib', '1'], slowUrl);
    const p = (await up.waitLine((l) => 'event' in l && l.bytes >= MIB)) as Progress;
    await relay(['pause', String(p.jobId)]).done;
    const upJob = (await up.done).last.data as JobView;
    assert.equal(upJob.state, 'paused');
    assert.ok(platformFiles().includes(upJob.fileId!), 'the partial upload is on the platform');
    const c = await relay(['cancel', String(p.jobId)]).done;
    assert.equal(c.last.code, '0', c.stderr);
    assert.equal((c.last.data as JobView).state, 'canceled');
    assert.equal(platformFiles().includes(upJob.fileId!), false, 'tus termination removed it');

    const out = join(fx.dir, 'partial.bin');
    const down = relay(['download', bigFileId, '--out', out, '--chunk-mib', '1'], slowUrl);
    const d = (await down.waitLine((l) => 'event' in l && l.bytes >= MIB)) as Progress;
    await relay(['pause', String(d.jobId)]).done;
    assert.equal(((await down.done).last.data as JobView).state, 'paused');
    assert.ok(existsSync(`${out}.part`));
    const cd = await relay(['cancel', String(d.jobId)]).done;
    assert.equal((cd.last.data as JobView).state, 'canceled');
    assert.equal(existsSync(`${out}.part`), false);
    assert.equal(existsSync(out), false);

    // A canceled job cannot be resumed.
    const again = await relay(['resume', String(d.jobId)]).done;
    assert.notEqual(again.status, 0);
  });

  it('a bad job number is a parameter error (exit 2)', async () => {
    const r = await relay(['pause', 'abc']).done;
    assert.equal(r.status, 2);
    assert.equal(r.last.code, '1001');
  });
});
