import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/dev-tokens';
import {
  DEMO_ORIGINS,
  DEMO_UKEY,
  DemoCaller,
  addPolicy,
  postSign,
  registerOrigins,
  rssOf,
  startServe,
} from '../hardening/child-agent';
import type { ServeChild } from '../hardening/child-agent';

const LONG = process.env.HARDENING_LONG === '1';
const CALLERS = Number(process.env.HARDENING_CALLERS ?? (LONG ? 50 : 20));
const SECONDS = Number(process.env.HARDENING_SECONDS ?? (LONG ? 60 : 10));
const WARMUP_MS = LONG ? 10_000 : 2_000;
const ORIGINS = [...DEMO_ORIGINS, 'http://127.0.0.1:18791'];

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe(`hardening: load — ${CALLERS} callers for ${SECONDS} s on one software UKey`, () => {
  const data = tempDir('load');
  const pinFile = join(data, 'pin');
  writeFileSync(pinFile, '123456', { mode: 0o600 });
  let agent: ServeChild | undefined;

  after(async () => {
    await agent?.kill('SIGTERM');
  });

  it('only 1006 as an error, fair service per origin, flat memory', async () => {
    agent = await startServe(data, pinFile);
    const pol = addPolicy(data, agent.seals[DEMO_UKEY]!, 10_000);
    assert.equal(pol.json.code, '0', pol.out);
    const reg = registerOrigins(data, ORIGINS);
    assert.equal(reg.json.code, '0', reg.out);
    const caller = new DemoCaller(data);
    const port = agent.port;

    const ok: Record<string, number> = Object.fromEntries(ORIGINS.map((o) => [o, 0]));
    const errors: string[] = [];
    const latencies: number[] = [];
    let limited = 0;
    let measuring = false;
    const deadline = Date.now() + SECONDS * 1000;

    const worker = async (i: number): Promise<void> => {
      const origin = ORIGINS[i % ORIGINS.length]!;
      while (Date.now() < deadline) {
        const body = await caller.body(DEMO_UKEY, await caller.signId(DEMO_UKEY), randomBytes(32));
        // A 1006 consumes nothing (the rate check comes before the signId check): retry the body.
        for (;;) {
          const o = await postSign(port, body, origin);
          if (o.code === '1006') {
            limited++;
            await sleep(30 + Math.random() * 70);
            if (Date.now() >= deadline) return;
            continue;
          }
          if (o.code === '0') {
            ok[origin]!++;
            if (measuring) latencies.push(o.ms);
          } else errors.push(o.error ?? `${o.code} (HTTP ${o.status})`);
          break;
        }
      }
    };
    const t0 = Date.now();
    const workers = Array.from({ length: CALLERS }, (_, i) => worker(i));
    await sleep(WARMUP_MS);
    const rssWarm = rssOf(agent.pid);
    const okWarm = Object.values(ok).reduce((a, b) => a + b, 0);
    measuring = true;
    let rssPeak = rssWarm;
    const sampler = setInterval(() => {
      rssPeak = Math.max(rssPeak, rssOf(agent!.pid));
    }, 500);
    await Promise.all(workers);
    clearInterval(sampler);
    const rssEnd = rssOf(agent.pid);
    const elapsed = (Date.now() - t0 - WARMUP_MS) / 1000;
    const total = Object.values(ok).reduce((a, b) => a + b, 0);
    latencies.sort((a, b) => a - b);
    const pct = (p: number): number =>
      latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? NaN;
    const figures = {
      callers: CALLERS,
      seconds: SECONDS,
      signatures: total,
      perSecond: Number(((total - okWarm) / elapsed).toFixed(1)),
      p50ms: Math.round(pct(0.5)),
      p99ms: Math.round(pct(0.99)),
      limited,
      perOrigin: ok,
      rssWarmMB: Math.round(rssWarm / 2 ** 20),
      rssPeakMB: Math.round(rssPeak / 2 ** 20),
      rssEndMB: Math.round(rssEnd / 2 ** 20),
    };
    process.stdout.write(`# load figures ${JSON.stringify(figures)}\n`);

    assert.deepEqual(errors.slice(0, 10), [], `${errors.length} errors other than 1006`);
    assert.ok(total > 0);
    const counts = Object.values(ok);
    assert.ok(Math.min(...counts) * 2.5 >= Math.max(...counts), `unfair: ${JSON.stringify(ok)}`);
    assert.ok(
      rssEnd - rssWarm < 64 * 2 ** 20,
      `RSS grew ${figures.rssWarmMB} → ${figures.rssEndMB} MB`,
    );
    // The agent still answers.
    const after = await postSign(
      port,
      await caller.body(DEMO_UKEY, await caller.signId(DEMO_UKEY), randomBytes(32)),
    );
    assert.equal(after.code, '0');
  });
});
