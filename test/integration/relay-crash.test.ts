// The agent killed with SIGKILL at random points of an upload and of a download, restarted each
// time, must finish with a correct file re-sending at most one chunk per kill.
// Default: 64 MiB and 5 kills each way; RELAY_LONG=1: 1 GiB and 20 kills (the long run).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { RelayJob } from '../../main/core/relay/job-store';
import { startFixture } from '../platform/fixture';
import type { Fixture } from '../platform/fixture';
import { sm3OfFile, writeGeneratedFile } from '../platform/relay-files';

const MIB = 1024 * 1024;
const LONG = process.env.RELAY_LONG === '1';
const SIZE = LONG ? 1024 * MIB : 64 * MIB;
const KILLS = LONG ? 20 : 5;
const CHUNK = LONG ? 8 * MIB : 2 * MIB;
const CHILD = join(__dirname, '..', 'platform', 'relay-agent-child.js');

let fx: Fixture;
before(async () => {
  fx = await startFixture();
});
after(async () => {
  assert.deepEqual(fx.internalErrors, []);
  await fx.close();
});

function child(dataDir: string, args: string[]): { proc: ChildProcess; result: Promise<RelayJob> } {
  const proc = spawn(process.execPath, [CHILD, dataDir, fx.platform.url, String(CHUNK), ...args], {
    env: {
      ...process.env,
      RELAY_APP_ID: fx.sm2.appId,
      RELAY_SM2_KEY: fx.sm2.key.privateKey.toString('hex'),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  proc.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  const result = new Promise<RelayJob>((resolve, reject) =>
    proc.on('exit', (code, signal) =>
      code === 0
        ? resolve(JSON.parse(out.trim().split('\n')[0]!) as RelayJob)
        : reject(new Error(`child ${code ?? signal}`)),
    ),
  );
  result.catch(() => undefined);
  return { proc, result };
}

/** Polls `bytes()` until it passes `target` (or the child exits), then SIGKILLs the child. */
async function killWhen(run: ReturnType<typeof child>, bytes: () => number, target: number) {
  let exited = false;
  run.proc.once('exit', () => (exited = true));
  while (!exited && bytes() < target) await new Promise((r) => setTimeout(r, 2));
  if (exited) return false;
  run.proc.kill('SIGKILL');
  await new Promise((r) => run.proc.once('exit', r));
  return true;
}

/** Runs `first`, then kills and resumes KILLS times at random byte counts; answers the job. */
async function withKills(dataDir: string, first: string[], bytes: () => number) {
  const start = bytes();
  let run = child(dataDir, first);
  let kills = 0;
  for (let i = 0; i < KILLS; i++) {
    // A random point within the i-th slice of the file, so kills spread over the whole transfer.
    const target = start + Math.floor(((i + Math.random()) * SIZE) / (KILLS + 1));
    if (!(await killWhen(run, bytes, target))) break;
    kills++;
    run = child(dataDir, ['resume']);
  }
  return { job: await run.result, kills };
}

describe(`relay agent killed ${KILLS} times`, () => {
  it(`uploads then downloads ${SIZE / MIB} MiB to a correct file, re-sending at most one chunk per kill`, async () => {
    const dataDir = join(fx.dir, 'agent');
    const src = join(fx.dir, 'src.bin');
    await writeGeneratedFile(src, SIZE);
    const digest = await sm3OfFile(src);
    const stats = fx.platform.relay.stats;

    const rx = stats.bytesReceived;
    const up = await withKills(dataDir, ['upload', src], () => stats.bytesReceived);
    assert.equal(up.job.state, 'done', up.job.error ?? '');
    assert.equal(up.kills, KILLS);
    const resent = stats.bytesReceived - rx - SIZE;
    assert.ok(resent <= up.kills * CHUNK, `upload re-sent ${resent} bytes for ${up.kills} kills`);

    const out = join(fx.dir, 'out.bin');
    const tx = stats.bytesSent;
    const down = await withKills(dataDir, ['download', up.job.fileId!, out], () => stats.bytesSent);
    assert.equal(down.job.state, 'done', down.job.error ?? '');
    assert.equal(down.kills, KILLS);
    assert.equal(await sm3OfFile(out), digest);
    assert.equal(existsSync(`${out}.part`), false);
    // What a killed agent loses is what sat in socket buffers, never more than a chunk.
    const again = stats.bytesSent - tx - SIZE;
    assert.ok(
      again <= down.kills * CHUNK,
      `download re-sent ${again} bytes for ${down.kills} kills`,
    );
    const figures = {
      size: SIZE,
      chunk: CHUNK,
      kills: KILLS,
      uploadResent: resent,
      downloadResent: again,
    };
    process.stdout.write(`# relay crash figures ${JSON.stringify(figures)}\n`);
  });
});
