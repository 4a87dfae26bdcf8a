import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentError } from '../../main/common/errors';
import type { PendingApprovalView, PinPromptView } from '../../main/common/operator-api';
import { generateSm2KeyPair } from '../../main/core/crypto/sm2';
import type { ApprovalRequest } from '../../main/core/host';
import { sm2Spki } from '../../main/core/pki/keys';
import { openAgentStore } from '../../main/core/store/agent-store';
import type { AgentStore } from '../../main/core/store/agent-store';
import { TokenService } from '../../main/core/token/token-service';
import { DesktopHost } from '../../main/desktop/approval-host';
import type { ApprovalUi } from '../../main/desktop/approval-host';
import { makeSoftUKey } from '../helpers/dev-tokens';
import type { SoftUKeyFixture } from '../helpers/dev-tokens';

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

/** Windows that stay open until closed; records every open and close, by whom. */
function fakeUi(o: { failApproval?: boolean } = {}) {
  const opened: string[] = [];
  const closedByHost: string[] = [];
  const approvals: PendingApprovalView[] = [];
  const pins: PinPromptView[] = [];
  const userClose = new Map<string, () => void>();
  const win = (id: string, onClosed: () => void) => {
    let open = true;
    userClose.set(id, () => {
      if (!open) return;
      open = false;
      onClosed();
    });
    return {
      close: () => {
        if (!open) return;
        open = false;
        closedByHost.push(id);
        onClosed(); // Electron fires 'closed' for a programmatic close too
      },
    };
  };
  const ui: ApprovalUi = {
    openApproval: (view, onClosed) => {
      if (o.failApproval) throw new Error('no display');
      approvals.push(view);
      opened.push(`approval ${view.requestId}`);
      return win(view.requestId, onClosed);
    },
    openPin: (view, onClosed) => {
      pins.push(view);
      opened.push(`pin ${view.kind}`);
      return win(view.requestId, onClosed);
    },
  };
  return { ui, opened, closedByHost, approvals, pins, userClose };
}

describe('desktop approval host: approval routing', () => {
  it('notifies each request and shows one approval window at a time, in arrival order', async () => {
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
    host.on('approval.resolved', (v) => events.push(`${v.requestId} ${v.decision}`));
    const p1 = host.approve(req('r1'), new AbortController().signal);
    const p2 = host.approve(req('r2'), new AbortController().signal);
    assert.deepEqual(f.opened, ['approval r1']);
    assert.deepEqual(host.openApprovalWindows(), ['r1']);
    assert.equal(notes.length, 2);
    assert.match(notes[0]!.body, /https:\/\/oa\.example\.cn — 合同章/);
    // The window shows what the signer must see.
    const v = f.approvals[0]!;
    for (const k of ['origin', 'appId', 'sealName', 'ukeyId', 'certSubject', 'format', 'digestHex'])
      assert.ok(k in v, k);

    await host.decide({ requestId: 'r1', decision: 'approved' });
    assert.equal(await p1, 'approved');
    assert.deepEqual(f.closedByHost, ['r1']); // settled elsewhere: its window closes
    assert.deepEqual(f.opened, ['approval r1', 'approval r2']);
    // The signer closes the second window: declined, nothing else open.
    f.userClose.get('r2')!();
    assert.equal(await p2, 'declined');
    assert.deepEqual(events, ['r1 approved', 'r2 declined']);
    assert.deepEqual(host.pending(), []);
    assert.deepEqual(host.openApprovalWindows(), []);
  });

  it('a timeout closes the window and declines; an aborted request never shows', async () => {
    const f = fakeUi();
    const host = new DesktopHost({ ui: f.ui });
    const resolved: string[] = [];
    host.on('approval.resolved', (v) => resolved.push(v.decision));
    const ac = new AbortController();
    const p = host.approve(req('r4'), ac.signal);
    const queued = host.approve(req('r5'), new AbortController().signal);
    ac.abort();
    assert.equal(await p, 'declined');
    assert.deepEqual(resolved, ['timeout']);
    assert.deepEqual(f.closedByHost, ['r4']);
    assert.deepEqual(f.opened, ['approval r4', 'approval r5']);
    f.userClose.get('r5')!();
    assert.equal(await queued, 'declined');
    assert.equal(await host.approve(req('r6'), ac.signal), 'declined');
    assert.equal(f.opened.length, 2);
  });

  it('a request settled while queued never opens a window', async () => {
    const f = fakeUi();
    const host = new DesktopHost({ ui: f.ui });
    const p1 = host.approve(req('q1'), new AbortController().signal);
    const p2 = host.approve(req('q2'), new AbortController().signal);
    await host.decide({ requestId: 'q2', decision: 'declined' });
    assert.equal(await p2, 'declined');
    f.userClose.get('q1')!();
    assert.equal(await p1, 'declined');
    assert.deepEqual(f.opened, ['approval q1']);
  });

  it('a window that fails to open declines (fail closed)', async () => {
    const f = fakeUi({ failApproval: true });
    const host = new DesktopHost({ ui: f.ui });
    assert.equal(await host.approve(req('r7'), new AbortController().signal), 'declined');
  });

  it('batch approval: bounded, only with approve, and an audited standing policy', async () => {
    const f = fakeUi();
    const host = new DesktopHost({ ui: f.ui });
    const p = host.approve(req('b1'), new AbortController().signal);
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
    assert.deepEqual(host.openApprovalWindows(), ['b1']); // still waiting for the signer
    host.bind({ store, tokens: { keys: async () => [], logout: async () => undefined } });
    await host.decide({
      requestId: 'b1',
      decision: 'approved',
      batch: { count: 5, ttlMs: 3_600_000 },
    });
    assert.equal(await p, 'approved');
    const [policy] = store.policies.list();
    assert.equal(policy!.origin, 'https://oa.example.cn');
    assert.equal(policy!.sealCode, 'S001');
    assert.equal(policy!.maxCount, 5);
    assert.ok(store.audit.entries({ limit: 1000 }).some((e) => e.interface === 'approvals.batch'));
    // Revocable like any policy.
    store.policies.revoke(policy!.id, Date.now());
    assert.equal(store.policies.list().length, 0);
  });
});

describe('desktop approval host: PIN entry with a real software UKey', () => {
  let fx: SoftUKeyFixture;
  let tokens: TokenService;
  let host: DesktopHost;
  let f: ReturnType<typeof fakeUi>;
  before(async () => {
    fx = await makeSoftUKey('SUKDESK01', '桌面测试Key');
    f = fakeUi();
    host = new DesktopHost({ ui: f.ui, pinTimeoutMs: 5_000 });
    tokens = new TokenService({ modules: [fx.lib], host, pollIntervalMs: 0, loginIdleMs: 0 });
    host.bind({ store, tokens });
  });
  after(() => tokens.close());

  it('a wrong PIN in the approval window is answered with 2002, never retried; the right one approves', async () => {
    const p = host.approve(req('pin1', fx.serial), new AbortController().signal);
    const err = await host.decide({ requestId: 'pin1', decision: 'approved', pin: '000000' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof AgentError);
    assert.equal(err.code, '2002');
    assert.match(err.message, /wrong PIN: (\d+ tries left|1 try left)/);
    // Still pending, its window still open, and no second PIN was asked (no PIN window).
    assert.deepEqual(host.openApprovalWindows(), ['pin1']);
    assert.equal(f.pins.length, 0);

    await host.decide({ requestId: 'pin1', decision: 'approved', pin: fx.pin });
    assert.equal(await p, 'approved');
    assert.deepEqual(host.openApprovalWindows(), []);
  });

  it('a PIN outside an approval opens the PIN window with the tries left; closing it cancels', async () => {
    const asked = tokens.changePin(fx.serial);
    await new Promise<void>((r) => {
      const t = setInterval(() => f.pins.length > 0 && (clearInterval(t), r()), 5);
    });
    const view = f.pins[0]!;
    assert.equal(view.ukeyId, fx.serial);
    assert.equal(view.kind, 'user');
    // The prompt says how many tries remain (the software UKey reports its counter).
    assert.ok(typeof view.triesLeft === 'number' && view.triesLeft > 0);
    assert.deepEqual(
      host.pendingPins().map((p) => p.requestId),
      [view.requestId],
    );
    f.userClose.get(view.requestId)!();
    await assert.rejects(asked, (e: unknown) => e instanceof AgentError && e.code === '2003');
    assert.deepEqual(host.pendingPins(), []);
  });
});
