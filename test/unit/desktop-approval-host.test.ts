import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentError } from '../../main/common/errors';
import type { PendingApprovalView } from '../../main/common/operator-api';
import { generateSm2KeyPair } from '../../main/core/crypto/sm2';
import type { ApprovalRequest, PinRequest } from '../../main/core/host';
import { sm2Spki } from '../../main/core/pki/keys';
import { openAgentStore } from '../../main/core/store/agent-store';
import type { AgentStore } from '../../main/core/store/agent-store';
import { DesktopHost } from '../../main/desktop/approval-host';
import type { ApprovalAnswer, ApprovalUi } from '../../main/desktop/approval-host';

const root = mkdtempSync(join(tmpdir(), 'desktop-approval-'));
let store: AgentStore;
before(() => {
  store = openAgentStore(root);
  store.apps.add({
    appId: 'app.a',
    publicKey: sm2Spki(generateSm2KeyPair().publicKey),
    origins: ['https://oa.example.cn'],
  });
});
after(() => {
  store.close();
  rmSync(root, { recursive: true, force: true });
});

const req = (id: string, ukeyId = 'k1'): ApprovalRequest => ({
  requestId: id,
  origin: 'https://oa.example.cn',
  appId: 'app.a',
  sealCode: 'S001',
  sealName: '合同章',
  ukeyId,
  tokenLabel: 'key',
  development: true,
  certSubject: 'CN=张三',
  format: 'P1',
  hashName: 'sm3',
  digestHex: 'ab'.repeat(32),
});

/** A UI whose windows stay open until the test answers them; records what was shown and closed. */
function fakeUi() {
  const shown: PendingApprovalView[] = [];
  const closedIds: string[] = [];
  const answer = new Map<string, (a: ApprovalAnswer) => void>();
  const pins: PinRequest[] = [];
  const ui: ApprovalUi = {
    showApprovalWindow: (view, closed) =>
      new Promise((resolve) => {
        shown.push(view);
        answer.set(view.requestId, resolve);
        closed.addEventListener('abort', () => {
          closedIds.push(view.requestId);
          resolve({ decision: 'declined' });
        });
      }),
    showPinWindow: async (r) => {
      pins.push(r);
      return 'from-pin-window';
    },
  };
  return { ui, shown, closedIds, answer, pins };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('desktop approval host', () => {
  it('queues, notifies, shows one window at a time and takes the window answer', async () => {
    const f = fakeUi();
    const notes: { title: string; body: string }[] = [];
    class Note {
      constructor(readonly o: { title: string; body: string }) {
        notes.push(o);
      }
      show(): void {}
      close(): void {}
      on(): void {}
    }
    const host = new DesktopHost({ ui: f.ui, Notification: Note });
    const events: string[] = [];
    host.on('approval.requested', (v) => events.push(`req ${v.requestId}`));
    host.on('approval.resolved', (v) => events.push(`res ${v.requestId} ${v.decision}`));
    const p1 = host.approve(req('r1'), new AbortController().signal);
    const p2 = host.approve(req('r2'), new AbortController().signal);
    await tick();
    assert.deepEqual(
      host.pending().map((p) => p.requestId),
      ['r1', 'r2'],
    );
    assert.deepEqual(
      f.shown.map((v) => v.requestId),
      ['r1'],
    ); // one window at a time
    assert.equal(notes.length, 2);
    assert.match(notes[0]!.body, /https:\/\/oa\.example\.cn/);
    f.answer.get('r1')!({ decision: 'approved' });
    assert.equal(await p1, 'approved');
    await tick();
    assert.deepEqual(
      f.shown.map((v) => v.requestId),
      ['r1', 'r2'],
    );
    f.answer.get('r2')!({ decision: 'declined' });
    assert.equal(await p2, 'declined');
    assert.deepEqual(events, ['req r1', 'req r2', 'res r1 approved', 'res r2 declined']);
    assert.deepEqual(host.pending(), []);
  });

  it('a decision from the operator UI settles the request and closes its window', async () => {
    const f = fakeUi();
    const host = new DesktopHost({ ui: f.ui });
    const p = host.approve(req('r3'), new AbortController().signal);
    await tick();
    await host.decide({ requestId: 'r3', decision: 'approved' });
    assert.equal(await p, 'approved');
    assert.deepEqual(f.closedIds, ['r3']);
    await assert.rejects(host.decide({ requestId: 'r3', decision: 'approved' }), /no such pending/);
  });

  it('on timeout (abort) closes the window and declines', async () => {
    const f = fakeUi();
    const host = new DesktopHost({ ui: f.ui });
    const resolved: string[] = [];
    host.on('approval.resolved', (v) => resolved.push(v.decision));
    const ac = new AbortController();
    const p = host.approve(req('r4'), ac.signal);
    await tick();
    ac.abort();
    assert.equal(await p, 'declined');
    assert.deepEqual(f.closedIds, ['r4']);
    assert.deepEqual(resolved, ['timeout']);
    // Already aborted: never shown.
    assert.equal(await host.approve(req('r5'), ac.signal), 'declined');
    await tick();
    assert.equal(f.shown.length, 1);
  });

  it('a failing window declines (fail closed)', async () => {
    const host = new DesktopHost({
      ui: {
        showApprovalWindow: () => Promise.reject(new Error('no display')),
        showPinWindow: async () => null,
      },
    });
    assert.equal(await host.approve(req('r6'), new AbortController().signal), 'declined');
  });

  it('uses the PIN typed in the approval window once, for that key only', async () => {
    const f = fakeUi();
    let now = 1_000;
    const host = new DesktopHost({ ui: f.ui, now: () => now });
    const p = host.approve(req('r7', 'k1'), new AbortController().signal);
    await tick();
    f.answer.get('r7')!({ decision: 'approved', pin: '123456' });
    await p;
    const ask = (ukeyId: string, extra: Partial<PinRequest> = {}): Promise<string | null> =>
      host.askPin({ ukeyId, tokenLabel: 'key', kind: 'user', reason: 'sign', ...extra });
    assert.equal(await ask('k1'), '123456');
    assert.equal(await ask('k1'), 'from-pin-window'); // once only
    // Another key, a failed attempt, or a stale PIN goes to the PIN window.
    for (const [ukeyId, extra, later] of [
      ['k2', {}, 0],
      ['k1', { previousAttemptFailed: true }, 0],
      ['k1', {}, 61_000],
    ] as const) {
      const q = host.approve(req(`r8-${ukeyId}-${later}`, 'k1'), new AbortController().signal);
      await tick();
      await host.decide({ requestId: `r8-${ukeyId}-${later}`, decision: 'approved', pin: '999' });
      await q;
      now += later;
      assert.equal(await ask(ukeyId, extra), 'from-pin-window');
    }
    // A declined request keeps no PIN.
    const d = host.approve(req('r9'), new AbortController().signal);
    await tick();
    await host.decide({ requestId: 'r9', decision: 'declined', pin: '555' });
    await d;
    assert.equal(await ask('k1'), 'from-pin-window');
  });

  it('batch approval creates a bounded, audited standing policy for that origin and seal', async () => {
    const f = fakeUi();
    const host = new DesktopHost({ ui: f.ui });
    const p = host.approve(req('b1'), new AbortController().signal);
    await tick();
    // Bounds are checked before anything is settled.
    for (const batch of [
      { count: 51, ttlMs: 3_600_000 },
      { count: 5, ttlMs: 8 * 3_600_000 + 1 },
      { count: 5, ttlMs: 1_000 },
    ])
      await assert.rejects(
        host.decide({ requestId: 'b1', decision: 'approved', batch }),
        (e: unknown) => e instanceof AgentError && e.code === '1001',
      );
    await assert.rejects(
      host.decide({ requestId: 'b1', decision: 'declined', batch: { count: 1, ttlMs: 60_000 } }),
      /only when approving/,
    );
    assert.equal(host.pending().length, 1);
    // Without the store (agent not up yet): the request is approved, the batch is refused.
    await assert.rejects(
      host.decide({ requestId: 'b1', decision: 'approved', batch: { count: 5, ttlMs: 3_600_000 } }),
      /this request was approved; the batch approval was not created/,
    );
    assert.equal(await p, 'approved');

    host.bindStore(store);
    const q = host.approve(req('b2'), new AbortController().signal);
    await tick();
    await host.decide({
      requestId: 'b2',
      decision: 'approved',
      batch: { count: 5, ttlMs: 3_600_000 },
    });
    assert.equal(await q, 'approved');
    const [policy] = store.policies.list();
    assert.equal(policy!.appId, 'app.a');
    assert.equal(policy!.sealCode, 'S001');
    assert.equal(policy!.origin, 'https://oa.example.cn');
    assert.equal(policy!.maxCount, 5);
    assert.ok(store.audit.entries({ limit: 1000 }).some((e) => e.interface === 'approvals.batch'));

    // From the window: an out-of-bounds batch declines the whole answer.
    const w = host.approve(req('b3'), new AbortController().signal);
    await tick();
    f.answer.get('b3')!({ decision: 'approved', batch: { count: 500, ttlMs: 3_600_000 } });
    assert.equal(await w, 'declined');
    assert.equal(store.policies.list().length, 1);
  });
});
