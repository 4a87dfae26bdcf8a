import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RelayJob } from '../../main/core/relay/job-store';
import { openAgentStore } from '../../main/core/store/agent-store';
import { tempDir } from '../helpers/dev-tokens';
import {
  BIN,
  DEMO_UKEY,
  DemoCaller,
  addPolicy,
  cli,
  postSign,
  startServe,
} from '../hardening/child-agent';
import type { ServeChild, SignOutcome } from '../hardening/child-agent';
import { startFixture } from '../platform/fixture';
import type { Fixture } from '../platform/fixture';
import { sm3OfFile, writeGeneratedFile } from '../platform/relay-files';

const LONG = process.env.HARDENING_LONG === '1';
const KILLS = Number(process.env.HARDENING_KILLS ?? (LONG ? 20 : 5));
const CALLERS = 4;

/** A small seeded generator, so a failing round can be replayed (HARDENING_SEED). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const crashFigures = { kills: 0, approved: 0, answered: 0, unanswered: 0 };

describe(`hardening: crash safety — SIGKILL the agent ${KILLS} times while it signs`, () => {
  const data = tempDir('crash');
  const pinFile = join(data, 'pin');
  writeFileSync(pinFile, '123456', { mode: 0o600 });
  const seed = Number(process.env.HARDENING_SEED ?? Date.now() % 100_000);
  const random = rng(seed);
  let agent: ServeChild | undefined;

  after(async () => {
    await agent?.kill('SIGKILL');
  });

  it(`every approved signature is in the audit log after each kill; the log verifies (seed ${seed})`, async () => {
    const approved = new Set<string>();
    for (let round = 0; round < KILLS; round++) {
      agent = await startServe(data, pinFile);
      if (round === 0) {
        const p = addPolicy(data, agent.seals[DEMO_UKEY]!);
        assert.equal(p.json.code, '0', p.out);
      }
      const caller = new DemoCaller(data);
      let stop = false;
      const outcomes: SignOutcome[] = [];
      const loop = async (i: number): Promise<void> => {
        let n = 0;
        while (!stop) {
          let s: { signId: string; sealCode: string };
          try {
            s = await caller.signId(DEMO_UKEY);
          } catch {
            return; // the platform lives in the agent's process: it died with it
          }
          const body = await caller.body(DEMO_UKEY, s, randomBytes(32));
          const o = await postSign(agent!.port, body);
          outcomes.push(o);
          if (o.code === '0') approved.add(o.signId);
          if (o.error) return;
          n++;
          if (n > 10_000 + i) return;
        }
      };
      const loops = Array.from({ length: CALLERS }, (_, i) => loop(i));
      // Let a few signatures through, then kill at a random point.
      await new Promise((r) => setTimeout(r, 300 + Math.floor(random() * 1700)));
      await agent.kill('SIGKILL');
      stop = true;
      await Promise.all(loops);
      crashFigures.kills++;
      crashFigures.answered += outcomes.filter((o) => !o.error).length;
      crashFigures.unanswered += outcomes.filter((o) => o.error).length;
      for (const o of outcomes) {
        if (!o.error)
          assert.ok(
            ['0', '1006'].includes(o.code),
            `round ${round}: answer ${o.code} (HTTP ${o.status})`,
          );
      }

      // The database opens, the audit chain verifies, and no approved signature is missing.
      const v = cli(['audit', 'verify', '--data-dir', data, '--json']);
      assert.equal(v.json.code, '0', `round ${round}: ${v.out}`);
      assert.equal((v.json.data as { ok: boolean }).ok, true, `round ${round}: ${v.out}`);
      const store = openAgentStore(data);
      try {
        const audited = new Set<string>();
        let after = 0;
        for (;;) {
          const page = store.audit.entries({ afterSeq: after, limit: 10_000 });
          if (page.length === 0) break;
          for (const e of page) {
            const raw = e.raw as { signId?: unknown } | null;
            if (
              e.interface === 'ukey.sign' &&
              e.resultCode === '0' &&
              typeof raw?.signId === 'string'
            )
              audited.add(raw.signId);
          }
          after = page.at(-1)!.seq;
        }
        const missing = [...approved].filter((s) => !audited.has(s));
        assert.deepEqual(
          missing,
          [],
          `round ${round}: approved signatures missing from the audit log`,
        );
      } finally {
        store.close();
      }
    }
    crashFigures.approved = approved.size;
    assert.ok(approved.size > 0, 'some signatures were approved before the kills');
    // After the last kill the agent still starts and serves.
    agent = await startServe(data, pinFile);
    const caller = new DemoCaller(data);
    const last = await postSign(
      agent.port,
      await caller.body(DEMO_UKEY, await caller.signId(DEMO_UKEY), randomBytes(32)),
    );
    assert.equal(last.code, '0');
    await agent.kill('SIGTERM');
    process.stdout.write(`# crash figures ${JSON.stringify(crashFigures)}\n`);
  });
});

// The relay under crashes: `ukey-agent relay upload|download` (the real CLI, its own process) is
// SIGKILLed at a random byte of the transfer, then `relay resume JOB` must finish the same job with
// the right SM3, re-sending at most one chunk. The platform runs in this process, so the CLI is
// spawned asynchronously.
const RELAY_MIB = LONG ? 64 : 16;
const RELAY_CHUNK = 1024 * 1024;

export const relayCrashFigures = { kills: 0, resentBytes: 0 };

interface CliRun {
  status: number | null;
  job: RelayJob & { jobId: number; bytes: number };
  progress: { jobId: number; bytes: number }[];
}

describe(`hardening: crash safety — SIGKILL the relay CLI ${KILLS} times mid-transfer`, () => {
  let fx: Fixture;
  let agentDir = '';
  let passFile = '';
  const seed = Number(process.env.HARDENING_SEED ?? Date.now() % 100_000) + 1;
  const random = rng(seed);

  /** A `relay …` CLI run; `killAt` SIGKILLs it once `bytes()` reaches that count. */
  function relayCli(args: string[], killAt?: { bytes: () => number; at: number }) {
    const child = spawn(
      process.execPath,
      [
        BIN,
        'relay',
        ...args,
        '--data-dir',
        agentDir,
        ...(args[0] === 'list' ? [] : ['--passphrase-file', passFile]),
        '--json',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout!.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.stderr!.on('data', (c: Buffer) => (err += c.toString('utf8')));
    const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
    let killed = false;
    if (killAt) {
      const poll = setInterval(() => {
        if (killAt.bytes() < killAt.at || child.exitCode !== null) return;
        killed = child.kill('SIGKILL');
        clearInterval(poll);
      }, 1);
      void exited.then(() => clearInterval(poll));
    }
    return exited.then((status) => {
      const lines = out
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      const last = lines.at(-1) as { code?: string; data?: unknown } | undefined;
      return {
        killed,
        err,
        run: {
          status,
          job: (last?.code === '0' ? last.data : undefined) as CliRun['job'],
          progress: lines.filter((l) => l.event === 'progress') as CliRun['progress'],
        },
      };
    });
  }

  /** The newest job, as `relay list` (another process) sees it after a kill. */
  async function lastJobId(): Promise<number> {
    const list = await relayCli(['list']);
    const jobs = list.run.job as unknown as { jobId: number; state: string }[];
    const last = jobs.at(-1)!;
    assert.equal(last.state, 'running', 'a killed job stays running until resumed');
    return last.jobId;
  }

  before(async () => {
    fx = await startFixture();
    agentDir = join(fx.dir, 'agent');
    passFile = join(fx.dir, 'pass');
    writeFileSync(passFile, 'relay crash passphrase\n', { mode: 0o600 });
    const keyFile = join(fx.dir, 'key.txt');
    writeFileSync(keyFile, `${fx.sm2.key.privateKey.toString('hex')}\n`, { mode: 0o600 });
    const imp = await new Promise<number | null>((resolve) =>
      spawn(
        process.execPath,
        [
          BIN,
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
        ],
        { stdio: 'ignore' },
      ).on('close', resolve),
    );
    assert.equal(imp, 0);
  });

  after(async () => {
    assert.deepEqual(fx.internalErrors, []);
    await fx.close();
  });

  it(`each killed upload and download resumes to the right SM3 (seed ${seed})`, async () => {
    const stats = fx.platform.relay.stats;
    const size = RELAY_MIB * 1024 * 1024;
    const chunk = ['--chunk-mib', String(RELAY_CHUNK / 1024 / 1024)];
    for (let round = 0; round < KILLS; round++) {
      const src = join(fx.dir, `src-${round}.bin`);
      await writeGeneratedFile(src, size);
      const digest = await sm3OfFile(src);

      // Upload, killed somewhere between 10 % and 90 % of the bytes.
      const rx = stats.bytesReceived;
      const at = rx + Math.floor(size * (0.1 + 0.8 * random()));
      const up = await relayCli(['upload', src, ...chunk], {
        bytes: () => stats.bytesReceived,
        at,
      });
      assert.ok(up.killed, `round ${round}: the upload ended before the kill: ${up.err}`);
      const upId = await lastJobId();
      const upDone = await relayCli(['resume', String(upId), ...chunk]);
      assert.equal(upDone.run.status, 0, upDone.err);
      assert.equal(upDone.run.job.state, 'done');
      assert.equal(upDone.run.job.sm3, digest, `round ${round}: upload SM3`);
      const upResent = stats.bytesReceived - rx - size;
      assert.ok(upResent <= RELAY_CHUNK, `round ${round}: upload re-sent ${upResent} bytes`);
      const fileId = upDone.run.job.fileId!;
      // The platform verified the whole file against the metadata SM3 and marked it done.
      const done = join(fx.dir, 'platform', 'files', fx.sm2.appId, `${fileId}.done`);
      assert.equal(readFileSync(done, 'utf8').trim(), digest);

      // Download of that file, killed the same way, then resumed from the .part file.
      const out = join(fx.dir, `out-${round}.bin`);
      const tx = stats.bytesSent;
      const at2 = tx + Math.floor(size * (0.1 + 0.8 * random()));
      const down = await relayCli(['download', fileId, '--out', out, ...chunk], {
        bytes: () => stats.bytesSent,
        at: at2,
      });
      assert.ok(down.killed, `round ${round}: the download ended before the kill: ${down.err}`);
      assert.equal(existsSync(out), false, 'no final file before the SM3 is checked');
      const downId = await lastJobId();
      const downDone = await relayCli(['resume', String(downId), ...chunk]);
      assert.equal(downDone.run.status, 0, downDone.err);
      assert.equal(downDone.run.job.state, 'done');
      assert.equal(await sm3OfFile(out), digest, `round ${round}: downloaded SM3`);
      assert.equal(existsSync(`${out}.part`), false);
      const downResent = stats.bytesSent - tx - size;
      assert.ok(downResent <= RELAY_CHUNK, `round ${round}: download re-sent ${downResent} bytes`);

      relayCrashFigures.kills += 2;
      relayCrashFigures.resentBytes += upResent + downResent;
    }
    process.stdout.write(`# relay crash figures ${JSON.stringify(relayCrashFigures)}\n`);
  });
});
