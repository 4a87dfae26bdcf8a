import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { demoDir, startDemo } from '../../main/cli/demo-world';
import type { DemoWorld } from '../../main/cli/demo-world';
import { RelayJobStore } from '../../main/core/relay/job-store';
import type { RelayJob } from '../../main/core/relay/job-store';
import { openAgentStore } from '../../main/core/store/agent-store';
import type { AgentStore } from '../../main/core/store/agent-store';
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
/** SIGKILLs of `serve` (suite 1) and of the relay CLI (suite 2), as the issue asks by default. */
const KILLS = Number(process.env.HARDENING_KILLS ?? (LONG ? 50 : 20));
const CALLERS = 4;
/** Random life of the agent before each kill (ms): signing and the transfer are under way. */
const LIFE_MIN_MS = 300;
const LIFE_SPAN_MS = 1_700;
/** The file `serve` uploads while it is killed, and the cap that stretches it over the kills. */
const SERVE_RELAY_MIB = Number(process.env.HARDENING_RELAY_MIB ?? (LONG ? 48 : 16));
const RELAY_KIBPS = Number(process.env.HARDENING_RELAY_KIBPS ?? 512);
/** Under a cap the relay sends half a second's worth per request (main/core/relay/bandwidth.ts). */
const RELAY_PIECE = Math.max(16 * 1024, Math.floor((RELAY_KIBPS * 1024) / 2));

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

/** signIds of the successful `ukey.sign` entries in the audit log. */
function auditedSignIds(store: AgentStore): Set<string> {
  const audited = new Set<string>();
  let after = 0;
  for (;;) {
    const page = store.audit.entries({ afterSeq: after, limit: 10_000 });
    if (page.length === 0) break;
    for (const e of page) {
      const raw = e.raw as { signId?: unknown } | null;
      if (e.interface === 'ukey.sign' && e.resultCode === '0' && typeof raw?.signId === 'string')
        audited.add(raw.signId);
    }
    after = page.at(-1)!.seq;
  }
  return audited;
}

/** `ukey-agent audit verify` (another process): the database opens and the chain verifies. */
function assertAuditVerifies(data: string, when: string): void {
  const v = cli(['audit', 'verify', '--data-dir', data, '--json']);
  assert.equal(v.json.code, '0', `${when}: ${v.out}`);
  assert.equal((v.json.data as { ok: boolean }).ok, true, `${when}: ${v.out}`);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export const crashFigures = {
  kills: 0,
  approved: 0,
  answered: 0,
  unanswered: 0,
  relayKills: 0,
  relayKillsOnBytes: 0,
  relayResumes: 0,
  relayBehindPlatform: 0,
  /** Of the file, what the platform held when the last kill landed. */
  relayBytesAtLastKill: 0,
  relayResentBytes: 0,
};

// `ukey-agent serve --console` (the operator stack, which runs relay jobs) with the demo world
// provisioned beforehand in this process: the reference platform lives here, like a real remote
// platform outlives the agent, so callers keep getting signIds and the upload keeps its place.
// Each round the agent signs for four callers and uploads a capped file (a job queued in its
// database; serve resumes pending jobs when it starts), and is SIGKILLed at a random moment.
describe(`hardening: crash safety — SIGKILL the agent ${KILLS} times while it signs and relays`, () => {
  const data = tempDir('crash');
  const pinFile = join(data, 'pin');
  const passFile = join(data, 'pass');
  const src = join(data, 'relay-src.bin');
  const size = SERVE_RELAY_MIB * 1024 * 1024;
  const seed = Number(process.env.HARDENING_SEED ?? Date.now() % 100_000);
  const random = rng(seed);
  const serveArgs = ['--console', '--console-port', '0', '--passphrase-file', passFile];
  let world: DemoWorld | undefined;
  let agent: ServeChild | undefined;
  let digest = '';
  let jobId = 0;

  /** Where the platform keeps the upload (<dataDir>/files/<appId>/<fileId>…). */
  const platformFile = (fileId: string, ext: string): string =>
    join(demoDir(data), 'platform', 'files', 'ukey-agent-demo', `${fileId}.${ext}`);
  /** The platform's verified end of the upload (`.offset`, written before it answers a PATCH). */
  const platformOffset = (fileId: string | null): number => {
    if (!fileId || !existsSync(platformFile(fileId, 'offset'))) return 0;
    return Number(readFileSync(platformFile(fileId, 'offset'), 'utf8')) || 0;
  };

  before(async () => {
    writeFileSync(pinFile, '123456', { mode: 0o600 });
    world = await startDemo(data, { dataDir: data });
    writeFileSync(passFile, `${world.passphrase}\n`, { mode: 0o600 });
    const p = addPolicy(data, world.files.seals[DEMO_UKEY]!);
    assert.equal(p.json.code, '0', p.out);
    await writeGeneratedFile(src, size);
    digest = await sm3OfFile(src);
    const cap = cli(['settings', 'set', 'relayMaxKiBps', String(RELAY_KIBPS), '--data-dir', data]);
    assert.equal(cap.status, 0, cap.out);
    const store = openAgentStore(data);
    try {
      jobId = new RelayJobStore(store.db).add({
        kind: 'upload',
        baseUrl: world.platform.url,
        localPath: src,
        filename: 'crash-relay.bin',
      }).id;
    } finally {
      store.close();
    }
  });

  after(async () => {
    await agent?.kill('SIGKILL');
    await world?.close();
    rmSync(data, { recursive: true, force: true });
  });

  it(`every approved signature is audited after each kill, the log verifies, the upload resumes (seed ${seed})`, async () => {
    const stats = world!.platform.relay.stats;
    const approved = new Set<string>();
    let fileId: string | null = null;
    for (let round = 0; round < KILLS; round++) {
      const committedBefore = platformOffset(fileId);
      agent = await startServe(data, pinFile, { demo: false, args: serveArgs });
      const caller = new DemoCaller(data);
      let stop = false;
      const outcomes: SignOutcome[] = [];
      const loop = async (): Promise<void> => {
        while (!stop) {
          const s = await caller.signId(DEMO_UKEY);
          const body = await caller.body(DEMO_UKEY, s, randomBytes(32));
          const o = await postSign(agent!.port, body);
          outcomes.push(o);
          if (o.code === '0') approved.add(o.signId);
          if (o.error) return; // the agent is gone
        }
      };
      const loops = Array.from({ length: CALLERS }, () => loop());
      await sleep(LIFE_MIN_MS + Math.floor(random() * LIFE_SPAN_MS));
      // Every other round waits for the platform to be taking in a piece, so the kill lands
      // between the platform's commit and the agent's checkpoint (the resume must ask the
      // platform where it stands, not trust the job row).
      if (round % 2 === 1) {
        const seen = stats.bytesReceived;
        const limit = Date.now() + 2_000;
        while (stats.bytesReceived === seen && Date.now() < limit) await sleep(1);
        if (stats.bytesReceived !== seen) crashFigures.relayKillsOnBytes++;
      }
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
      assertAuditVerifies(data, `round ${round}`);
      const store = openAgentStore(data);
      let job: RelayJob;
      try {
        const audited = auditedSignIds(store);
        const missing = [...approved].filter((s) => !audited.has(s));
        assert.deepEqual(
          missing,
          [],
          `round ${round}: approved signatures missing from the audit log`,
        );
        job = new RelayJobStore(store.db).get(jobId)!;
      } finally {
        store.close();
      }

      // The upload: never failed, one platform upload throughout (resumed, not begun again), and
      // the agent never records more than the platform verified.
      assert.notEqual(job.state, 'failed', `round ${round}: ${job.error ?? ''}`);
      if (fileId !== null) assert.equal(job.fileId, fileId, `round ${round}: a new upload began`);
      fileId = job.fileId;
      const committed = platformOffset(fileId);
      assert.ok(
        job.offset <= committed,
        `round ${round}: job ${job.offset} > platform ${committed}`,
      );
      if (job.state !== 'done') {
        crashFigures.relayKills++;
        if (job.offset < committed) crashFigures.relayBehindPlatform++;
        if (committedBefore > 0) crashFigures.relayResumes++;
      }
    }
    crashFigures.approved = approved.size;
    crashFigures.relayBytesAtLastKill = platformOffset(fileId);
    assert.ok(approved.size > 0, 'some signatures were approved before the kills');
    assert.ok(
      crashFigures.relayKills >= Math.min(5, KILLS) && crashFigures.relayResumes >= 1,
      `the kills hit the transfer too: ${JSON.stringify(crashFigures)}`,
    );

    // After the last kill the agent still starts and serves, and finishes the upload uncapped.
    const uncap = cli(['settings', 'set', 'relayMaxKiBps', '0', '--data-dir', data]);
    assert.equal(uncap.status, 0, uncap.out);
    agent = await startServe(data, pinFile, { demo: false, args: serveArgs });
    const caller = new DemoCaller(data);
    const last = await postSign(
      agent.port,
      await caller.body(DEMO_UKEY, await caller.signId(DEMO_UKEY), randomBytes(32)),
    );
    assert.equal(last.code, '0');
    const t0 = Date.now();
    while (!existsSync(platformFile(fileId!, 'done')) && Date.now() - t0 < 60_000) await sleep(100);
    await agent.kill('SIGTERM');
    const store = openAgentStore(data);
    try {
      const job = new RelayJobStore(store.db).get(jobId)!;
      assert.equal(job.state, 'done', job.error ?? '');
      assert.equal(job.fileId, fileId);
      assert.equal(job.sm3, digest);
    } finally {
      store.close();
    }
    assert.equal(readFileSync(platformFile(fileId!, 'done'), 'utf8').split('\n')[0], digest);
    assertAuditVerifies(data, 'at the end');
    // Resumed, not restarted: beyond the file itself the platform received at most one piece
    // per kill (a piece a kill tore is cut back and sent again); a restart from 0 would have
    // sent the file again.
    crashFigures.relayResentBytes = stats.bytesReceived - size;
    assert.ok(
      crashFigures.relayResentBytes <= crashFigures.relayKills * RELAY_PIECE,
      `re-sent ${crashFigures.relayResentBytes} bytes: ${JSON.stringify(crashFigures)}`,
    );
    process.stdout.write(`# crash figures ${JSON.stringify(crashFigures)}\n`);
  });
});

// The relay under crashes: `ukey-agent relay upload|download` (the real CLI, its own process) is
// SIGKILLed at a random byte of the transfer, then `relay resume JOB` must finish the same job with
// the right SM3, re-sending at most one chunk. The platform runs in this process, so the CLI is
// spawned asynchronously.
const RELAY_MIB = LONG ? 64 : 16;
/** Each round kills one upload and one download. */
const RELAY_ROUNDS = Math.ceil(KILLS / 2);
const RELAY_CHUNK = 1024 * 1024;

export const relayCrashFigures = { kills: 0, resentBytes: 0 };

interface CliRun {
  status: number | null;
  job: RelayJob & { jobId: number; bytes: number };
  progress: { jobId: number; bytes: number }[];
}

describe(`hardening: crash safety — SIGKILL the relay CLI ${RELAY_ROUNDS * 2} times mid-transfer`, () => {
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
    for (let round = 0; round < RELAY_ROUNDS; round++) {
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
      // `<id>.done`: the SM3, then the uploader's file name.
      assert.equal(readFileSync(done, 'utf8').split('\n')[0], digest);

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

      // Only this round's files on disk at a time (the fixture's directory goes at the end).
      rmSync(src, { force: true });
      rmSync(out, { force: true });
      relayCrashFigures.kills += 2;
      relayCrashFigures.resentBytes += upResent + downResent;
    }
    process.stdout.write(`# relay crash figures ${JSON.stringify(relayCrashFigures)}\n`);
  });
});
