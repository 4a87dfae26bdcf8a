import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startHardenedAgent } from '../hardening/agent-world';
import type { HardenedAgent } from '../hardening/agent-world';
import { fuzzTarget } from '../hardening/fuzz';
import type { FuzzTarget } from '../hardening/fuzz';

/** Cases per target in the default run (npm run fuzz runs 100k in all). */
const CASES = Number(process.env.HARDENING_FUZZ_CASES ?? 300);
const SEED = Number(process.env.HARDENING_FUZZ_SEED ?? 20_240_919);

describe('hardening: property-based fuzzing of every JSAPI method and WebSocket frames', () => {
  let h: HardenedAgent;
  before(async () => {
    h = await startHardenedAgent();
  });
  after(async () => {
    await h.close();
  });

  const targets: FuzzTarget[] = ['status', 'ukey/info', 'ukey/sign', 'ws'];
  for (const [i, target] of targets.entries()) {
    it(`${target}: ${CASES} seeded cases answer contract envelopes, never 5000, and the agent lives`, async () => {
      const r = await fuzzTarget(h, target, CASES, SEED + i);
      assert.deepEqual(r.failures, [], JSON.stringify(r.codes));
      assert.ok(Object.keys(r.codes).length > 0);
    });
  }

  it('no internal fault was logged, and the audit chain still verifies', () => {
    assert.deepEqual(h.internal, []);
    assert.ok(h.agent.store.audit.verify().ok);
  });
});
