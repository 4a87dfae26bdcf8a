import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AgentError } from '../../main/common/errors';
import type { ApprovalRequest } from '../../main/core/host';
import { WebConsoleHost } from '../../main/core/operator/web-console-host';

const request = (requestId: string): ApprovalRequest => ({
  requestId,
  origin: 'https://app.example.cn',
  appId: 'app',
  sealCode: 'ES1',
  sealName: '合同专用章',
  ukeyId: 'UK1',
  tokenLabel: 'UKey 1',
  development: true,
  certSubject: 'CN=张三',
  format: 'P1',
  hashName: 'sm3',
  digestHex: '00'.repeat(32),
});

/** The token side of a PIN check: logs in with whatever PIN the host hands out. */
function tokensExpecting(pin: string, host: WebConsoleHost, triesLeft = 5) {
  const calls: string[] = [];
  return {
    calls,
    logout: async (ukeyId: string) => void calls.push(`logout ${ukeyId}`),
    keys: async (ukeyId: string) => {
      const given = await host.askPin({ ukeyId, tokenLabel: 'UKey 1', kind: 'user', reason: 'x' });
      calls.push(`login ${given}`);
      if (given !== pin) throw new AgentError('2002', `wrong PIN: ${--triesLeft} tries left`);
      return [];
    },
  };
}

describe('WebConsoleHost', () => {
  it('queues a request, announces it, and the first decision wins', async () => {
    const host = new WebConsoleHost();
    const seen: string[] = [];
    host.on('approval.requested', (v) => seen.push(`req ${v.requestId}`));
    host.on('approval.resolved', (v) => seen.push(`res ${v.requestId} ${v.decision}`));
    const decision = host.approve(request('r1'), new AbortController().signal);
    assert.deepEqual(
      host.pending().map((p) => p.requestId),
      ['r1'],
    );
    await host.decide({ requestId: 'r1', decision: 'declined' });
    assert.equal(await decision, 'declined');
    await assert.rejects(host.decide({ requestId: 'r1', decision: 'approved' }), /no such pending/);
    assert.deepEqual(seen, ['req r1', 'res r1 declined']);
  });

  it('declines on the core timeout and says so', async () => {
    const host = new WebConsoleHost();
    const resolved: string[] = [];
    host.on('approval.resolved', (v) => resolved.push(v.decision));
    const ac = new AbortController();
    const decision = host.approve(request('r2'), ac.signal);
    ac.abort();
    assert.equal(await decision, 'declined');
    assert.deepEqual(resolved, ['timeout']);
    assert.deepEqual(host.pending(), []);
  });

  it('checks a PIN given with the approval by a fresh login; wrong keeps the request pending', async () => {
    const host = new WebConsoleHost();
    const tokens = tokensExpecting('123456', host);
    host.bind({ store: {} as never, tokens });
    const decision = host.approve(request('r3'), new AbortController().signal);
    await assert.rejects(
      host.decide({ requestId: 'r3', decision: 'approved', pin: '000000' }),
      (e: unknown) =>
        e instanceof AgentError && e.code === '2002' && /4 tries left/.test(e.message),
    );
    assert.equal(host.pending().length, 1);
    await host.decide({ requestId: 'r3', decision: 'approved', pin: '123456' });
    assert.equal(await decision, 'approved');
    assert.deepEqual(tokens.calls, ['logout UK1', 'login 000000', 'logout UK1', 'login 123456']);
  });

  it('asks other PINs with pin.requested; answered, cancelled or timed out', async () => {
    const host = new WebConsoleHost({ pinTimeoutMs: 50 });
    const outcomes: string[] = [];
    host.on('pin.resolved', (p) => outcomes.push(p.outcome));
    const prompts: string[] = [];
    host.on('pin.requested', (p) => prompts.push(p.requestId));
    const req = { ukeyId: 'UK1', tokenLabel: 'UKey 1', kind: 'so' as const, reason: 'unblock' };

    const a = host.askPin(req);
    assert.throws(() => host.answerPin({ requestId: prompts[0]! }), /pin is needed/);
    host.answerPin({ requestId: prompts[0]!, pin: '87654321' });
    assert.equal(await a, '87654321');

    const b = host.askPin(req);
    assert.equal(host.pendingPins().length, 1);
    host.answerPin({ requestId: prompts[1]!, cancel: true });
    assert.equal(await b, null);

    // The host's timer does not hold a process open by itself (unref): this one does, for the test.
    const alive = setTimeout(() => undefined, 5_000);
    assert.equal(await host.askPin(req), null); // nobody answers within 50 ms
    clearTimeout(alive);
    assert.deepEqual(outcomes, ['answered', 'cancelled', 'timeout']);
    assert.throws(() => host.answerPin({ requestId: prompts[0]!, pin: '1' }), /no such PIN prompt/);
  });
});
