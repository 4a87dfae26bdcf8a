import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/dev-tokens';
import {
  DEMO_ORIGINS,
  DEMO_UKEY,
  DemoCaller,
  addPolicy,
  cli,
  postSign,
  registerOrigins,
  rssOf,
  startServe,
} from '../hardening/child-agent';
import type { ServeChild, SignOutcome } from '../hardening/child-agent';

const LONG = process.env.HARDENING_LONG === '1';
const CALLERS = Number(process.env.HARDENING_CALLERS ?? (LONG ? 100 : 50));
const SECONDS = Number(process.env.HARDENING_SECONDS ?? (LONG ? 300 : 60));
const WARMUP_MS = 5_000;
/** Callers of each light origin; the heavy origin has all the others. */
const LIGHT_CALLERS = Number(process.env.HARDENING_LIGHT_CALLERS ?? 5);
/** A light caller asks for one signature per PACE_MS: 5 callers × 2/s = half its origin's limit. */
const PACE_MS = 500;
/** Allowed growth of the RSS troughs from the first to the last quarter of the run. */
const RSS_ALLOWANCE = 16 * 2 ** 20;
const HEAVY = DEMO_ORIGINS[0]!;
const LIGHT = [DEMO_ORIGINS[1]!, 'http://127.0.0.1:18791'];
const ORIGINS = [HEAVY, ...LIGHT];

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface OriginTally {
  callers: number;
  /** Signatures answered 0 within the measured window. */
  served: number;
  /** Light origins: paced requests due within the measured window. */
  asked: number;
  /** 1006 answers (retried: a 1006 consumes nothing). */
  limited: number;
  latencies: number[];
}

const percentile = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? NaN;

describe(`hardening: load — ${CALLERS} callers for ${SECONDS} s on one software UKey`, () => {
  const data = tempDir('load');
  const pinFile = join(data, 'pin');
  writeFileSync(pinFile, '123456', { mode: 0o600 });
  let agent: ServeChild | undefined;

  after(async () => {
    await agent?.kill('SIGTERM');
    rmSync(data, { recursive: true, force: true });
  });

  it('only 1006 as an error, light origins served beside a heavy one, flat memory', async () => {
    agent = await startServe(data, pinFile);
    // A standing approval is bounded (10 000 signatures): enough of them for the whole run (three
    // origins at up to 20/s, warm-up included), or the signer would be asked and decline.
    const needed = Math.ceil((ORIGINS.length * 20 * (SECONDS + 5)) / 10_000);
    for (let i = 0; i < needed; i++) {
      const pol = addPolicy(data, agent.seals[DEMO_UKEY]!, 10_000);
      assert.equal(pol.json.code, '0', pol.out);
    }
    const reg = registerOrigins(data, ORIGINS);
    assert.equal(reg.json.code, '0', reg.out);
    const settings = cli(['settings', 'list', '--data-dir', data, '--json']);
    const perMinute = (settings.json.data as { rateLimitPerMinute: number }).rateLimitPerMinute;
    const rate = perMinute / 60;
    const burst = Math.max(1, Math.round(2 * rate));
    const caller = new DemoCaller(data);
    const port = agent.port;

    const heavyCallers = CALLERS - LIGHT_CALLERS * LIGHT.length;
    assert.ok(heavyCallers > LIGHT_CALLERS, 'the heavy origin has most callers');
    // Light demand stays under the origin's own limit: it should never see 1006.
    assert.ok((LIGHT_CALLERS * 1000) / PACE_MS < rate);
    const tally: Record<string, OriginTally> = Object.fromEntries(
      ORIGINS.map((o) => [
        o,
        {
          callers: o === HEAVY ? heavyCallers : LIGHT_CALLERS,
          served: 0,
          asked: 0,
          limited: 0,
          latencies: [],
        },
      ]),
    );
    const errors: string[] = [];
    const t0 = Date.now();
    const measureFrom = t0 + WARMUP_MS;
    const deadline = t0 + SECONDS * 1000;
    const inWindow = (t: number): boolean => t >= measureFrom && t < deadline;

    /** One signature with a fresh signId; 1006 is retried after 30–100 ms (it consumes nothing). */
    const signOnce = async (origin: string): Promise<SignOutcome | undefined> => {
      const t = tally[origin]!;
      const body = await caller.body(DEMO_UKEY, await caller.signId(DEMO_UKEY), randomBytes(32));
      for (;;) {
        const o = await postSign(port, body, origin);
        if (o.code !== '1006') {
          if (o.code !== '0')
            errors.push(`${origin}: ${o.error ?? `${o.code} (HTTP ${o.status})`}`);
          return o;
        }
        t.limited++;
        await sleep(30 + Math.random() * 70);
        if (Date.now() >= deadline) return undefined;
      }
    };
    const record = (origin: string, o: SignOutcome | undefined, counted: boolean): void => {
      if (o?.code !== '0' || !counted) return;
      tally[origin]!.served++;
      tally[origin]!.latencies.push(o.ms);
    };
    // The heavy origin's callers sign back to back, far over the origin's limit.
    const heavy = async (): Promise<void> => {
      while (Date.now() < deadline) {
        const o = await signOnce(HEAVY);
        record(HEAVY, o, inWindow(Date.now()));
      }
    };
    // A light caller asks on a fixed beat; a beat the agent was too slow for is asked, not served.
    const light = async (origin: string, i: number): Promise<void> => {
      const t = tally[origin]!;
      let slot = t0 + Math.floor((i * PACE_MS) / LIGHT_CALLERS);
      while (slot < deadline) {
        const wait = slot - Date.now();
        if (wait > 0) await sleep(wait);
        const counted = inWindow(slot);
        if (counted) t.asked++;
        record(origin, await signOnce(origin), counted);
        slot += PACE_MS;
        for (; slot + PACE_MS <= Date.now(); slot += PACE_MS) if (inWindow(slot)) t.asked++;
      }
    };

    const workers = [
      ...Array.from({ length: heavyCallers }, () => heavy()),
      ...LIGHT.flatMap((o) => Array.from({ length: LIGHT_CALLERS }, (_, i) => light(o, i))),
    ];
    await sleep(WARMUP_MS);
    const rssWarm = rssOf(agent.pid);
    let rssPeak = rssWarm;
    // RSS every 500 ms: the garbage collector makes a sawtooth, so "flat" compares the troughs of
    // the first and last quarters of the run (a leak lifts the troughs; collection lowers them).
    const samples: number[] = [rssWarm];
    const sampler = setInterval(() => {
      const r = rssOf(agent!.pid);
      samples.push(r);
      rssPeak = Math.max(rssPeak, r);
    }, 500);
    await Promise.all(workers);
    clearInterval(sampler);
    const rssEnd = rssOf(agent.pid);
    const window = (deadline - measureFrom) / 1000;
    samples.push(rssEnd);
    const quarter = Math.max(1, Math.floor(samples.length / 4));
    const troughFirst = Math.min(...samples.slice(0, quarter));
    const troughLast = Math.min(...samples.slice(-quarter));

    const all = ORIGINS.flatMap((o) => tally[o]!.latencies).sort((a, b) => a - b);
    const p99Of = (o: string): number =>
      Math.round(
        percentile(
          tally[o]!.latencies.sort((a, b) => a - b),
          0.99,
        ),
      );
    const total = ORIGINS.reduce((n, o) => n + tally[o]!.served, 0);
    const figures = {
      callers: CALLERS,
      seconds: SECONDS,
      measuredSeconds: window,
      ratePerOrigin: rate,
      signatures: total,
      perSecond: Number((total / window).toFixed(1)),
      p50ms: Math.round(percentile(all, 0.5)),
      p99ms: Math.round(percentile(all, 0.99)),
      perOrigin: Object.fromEntries(
        ORIGINS.map((o) => {
          const t = tally[o]!;
          return [
            o,
            {
              callers: t.callers,
              served: t.served,
              ...(o === HEAVY ? {} : { asked: t.asked }),
              limited: t.limited,
              p99ms: p99Of(o),
            },
          ];
        }),
      ),
      rssWarmMB: Math.round(rssWarm / 2 ** 20),
      rssPeakMB: Math.round(rssPeak / 2 ** 20),
      rssEndMB: Math.round(rssEnd / 2 ** 20),
      rssFirstQuarterLowMB: Math.round(troughFirst / 2 ** 20),
      rssLastQuarterLowMB: Math.round(troughLast / 2 ** 20),
    };
    process.stdout.write(`# load figures ${JSON.stringify(figures)}\n`);

    assert.deepEqual(errors.slice(0, 10), [], `${errors.length} errors other than 1006`);
    // The heavy origin gets its own limit's worth (not less: the agent keeps up; not more: the
    // limit holds), give or take the burst and half a second of clock skew.
    const h = tally[HEAVY]!;
    assert.ok(h.served >= 0.8 * rate * window, `heavy origin starved: ${JSON.stringify(figures)}`);
    assert.ok(
      h.served <= rate * (window + 0.5) + burst,
      `heavy origin over its limit: ${JSON.stringify(figures)}`,
    );
    // Each light origin is served what it asked (within its own limit) beside the flood: no
    // 1006, at least 90 % of its beats, and a tail latency no worse than twice the heavy's.
    for (const o of LIGHT) {
      const t = tally[o]!;
      assert.equal(t.limited, 0, `light origin ${o} was rate limited: ${JSON.stringify(figures)}`);
      assert.ok(t.asked > 0);
      assert.ok(t.served >= 0.9 * t.asked, `light origin ${o} starved: ${JSON.stringify(figures)}`);
      assert.ok(
        p99Of(o) <= 2 * p99Of(HEAVY) + 50,
        `light origin ${o} waits longer: ${JSON.stringify(figures)}`,
      );
    }
    assert.ok(
      troughLast - troughFirst < RSS_ALLOWANCE,
      `RSS troughs grew ${figures.rssFirstQuarterLowMB} → ${figures.rssLastQuarterLowMB} MB (warm ${figures.rssWarmMB}, end ${figures.rssEndMB}, peak ${figures.rssPeakMB})`,
    );
    // The agent still answers.
    const last = await postSign(
      port,
      await caller.body(DEMO_UKEY, await caller.signId(DEMO_UKEY), randomBytes(32)),
    );
    assert.equal(last.code, '0');
  });
});
