// The outbox's bookkeeping with a scripted platform: retry on 3001 and platform faults, final on
// refusals, backoff bounds, leases, and persistence across reopening the database.
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { AgentError } from '../../main/common/errors';
import { ResultCode } from '../../main/common/codes';
import { Outbox, OutboxWorker, backoffDelay, isTransient } from '../../main/core/platform/outbox';
import type { OutboxPlatform } from '../../main/core/platform/outbox';
import type { SealFilingParams, SealStateParams } from '../../main/core/platform/types';
import { openAgentStore } from '../../main/core/store/agent-store';
import { tempDir } from '../helpers/dev-tokens';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const filing = { name: 'n', sealType: '01', possessor: 'p', possessorCertNo: 'c' } as const;

/** A platform that answers from a script, recording what it was sent. */
function scripted(answers: (unknown | AgentError)[]): OutboxPlatform & { sent: unknown[] } {
  const sent: unknown[] = [];
  const next = async (p: unknown): Promise<unknown> => {
    sent.push(p);
    const a = answers.shift();
    if (a instanceof AgentError) throw a;
    return a;
  };
  return {
    sent,
    fileSeal: (p: SealFilingParams) => next(p) as Promise<string>,
    setSealState: async (p: SealStateParams) => {
      await next(p);
    },
  };
}

function open() {
  const dir = tempDir('outbox-unit');
  dirs.push(dir);
  return { dir, store: openAgentStore(dir) };
}

describe('outbox', () => {
  it('retries 3001 and platform faults, then records the answer', async () => {
    const { store } = open();
    let now = 1_000;
    const outbox = new Outbox(store.db);
    const platform = scripted([
      new AgentError(ResultCode.PLATFORM_UNAVAILABLE, 'down'),
      new AgentError(ResultCode.INTERNAL, 'fault', { retryable: true }),
      'ES20250101AAAAAAAAAA',
    ]);
    const worker = new OutboxWorker(outbox, platform, {
      baseDelayMs: 100,
      maxDelayMs: 1000,
      clock: () => now,
    });
    const item = outbox.enqueue({ kind: 'seal.filing', params: filing as never }, now);
    let [after1] = await worker.runOnce();
    assert.equal(after1!.status, 'pending');
    assert.equal(after1!.errorCode, '3001');
    assert.ok(after1!.nextAttemptAt >= now + 50 && after1!.nextAttemptAt <= now + 100);
    assert.deepEqual(await worker.runOnce(), [], 'not due yet');
    now = after1!.nextAttemptAt;
    [after1] = await worker.runOnce();
    assert.equal(after1!.errorCode, '5000');
    now = after1!.nextAttemptAt;
    const [done] = await worker.runOnce();
    assert.equal(done!.status, 'delivered');
    assert.equal(done!.result, 'ES20250101AAAAAAAAAA');
    assert.equal(done!.attempts, 3);
    // Every attempt carried the same idempotency key.
    for (const p of platform.sent)
      assert.equal((p as { requestId: string }).requestId, item.requestId);
    store.close();
  });

  it('marks a refusal failed with its code and never sends it again', async () => {
    const { store } = open();
    const outbox = new Outbox(store.db);
    const platform = scripted([new AgentError(ResultCode.BAD_PARAM, 'field name is required')]);
    const worker = new OutboxWorker(outbox, platform);
    outbox.enqueue({ kind: 'seal.state', params: { sealCode: 'S', state: 4 } });
    const [item] = await worker.runOnce();
    assert.equal(item!.status, 'failed');
    assert.equal(item!.errorCode, '1001');
    assert.equal(item!.errorMessage, 'field name is required');
    assert.deepEqual(await worker.runOnce(), []);
    assert.equal(platform.sent.length, 1);
    store.close();
  });

  it('keeps pending items across reopening, and ignores a caller-chosen requestId', async () => {
    const { dir, store } = open();
    const item = new Outbox(store.db).enqueue({
      kind: 'seal.state',
      params: { sealCode: 'S', state: 1, requestId: 'mine' },
    });
    assert.notEqual(item.requestId, 'mine');
    assert.equal(item.params.requestId, undefined);
    store.close();
    const again = openAgentStore(dir);
    const platform = scripted([null]);
    const [done] = await new OutboxWorker(new Outbox(again.db), platform).runOnce();
    assert.equal(done!.status, 'delivered');
    assert.equal(done!.id, item.id);
    again.close();
  });

  it('leases a claimed item so that a second worker does not send it too', () => {
    const { store } = open();
    const outbox = new Outbox(store.db);
    outbox.enqueue({ kind: 'seal.state', params: { sealCode: 'S', state: 1 } }, 0);
    assert.equal(outbox.claimDue(10, 1000).length, 1);
    assert.equal(outbox.claimDue(500, 1000).length, 0);
    assert.equal(outbox.claimDue(1010, 1000).length, 1, 'a lease left by a dead worker runs out');
    store.close();
  });

  it('backs off exponentially with jitter, capped', () => {
    for (let i = 0; i < 50; i++) {
      const d1 = backoffDelay(1, 1000, 60_000);
      const d5 = backoffDelay(5, 1000, 60_000);
      const d20 = backoffDelay(20, 1000, 60_000);
      assert.ok(d1 >= 500 && d1 <= 1000);
      assert.ok(d5 >= 8000 && d5 <= 16_000);
      assert.ok(d20 >= 30_000 && d20 <= 60_000);
    }
    assert.equal(isTransient(new AgentError(ResultCode.PLATFORM_UNAVAILABLE, 'x')), true);
    assert.equal(isTransient(new AgentError(ResultCode.SEAL_INVALID, 'x')), false);
  });
});
