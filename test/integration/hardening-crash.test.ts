import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openAgentStore } from '../../main/core/store/agent-store';
import { tempDir } from '../helpers/dev-tokens';
import {
  DEMO_UKEY,
  DemoCaller,
  addPolicy,
  cli,
  postSign,
  startServe,
} from '../hardening/child-agent';
import type { ServeChild, SignOutcome } from '../hardening/child-agent';

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
