import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentError } from '../../main/common/errors';
import { generateSm2KeyPair } from '../../main/core/crypto/sm2';
import { sm2Spki } from '../../main/core/pki/keys';
import { openAgentStore } from '../../main/core/store/agent-store';
import type { AgentStore } from '../../main/core/store/agent-store';
import type { ApprovalInput } from '../../main/core/store/approvals';

const root = mkdtempSync(join(tmpdir(), 'store-approvals-'));
let store: AgentStore;
before(() => {
  store = openAgentStore(root);
});
after(() => {
  store.close();
  rmSync(root, { recursive: true, force: true });
});

const base: ApprovalInput = {
  requestId: 'req-1',
  appId: 'app.a',
  origin: 'https://a.example',
  sealCode: 'ES1',
  ukeyId: 'SUK0001',
  digestHex: 'AB'.repeat(32),
  format: 'p7',
  decision: 'approved',
  decidedBy: 'signer',
};

const badParamNaming = (field: string) => (e: unknown) =>
  e instanceof AgentError && e.code === '1001' && e.message.includes(field);

describe('ApprovalStore', () => {
  it('records decisions and lists them newest first, by app', () => {
    const a = store.approvals.record({ ...base, now: 1000 });
    assert.equal(a.digestHex, 'ab'.repeat(32));
    assert.equal(a.decidedAt, 1000);
    store.approvals.record({
      ...base,
      requestId: 'req-2',
      appId: 'app.b',
      origin: undefined,
      decision: 'declined',
    });
    store.approvals.record({ ...base, requestId: 'req-3', decision: 'timeout' });
    assert.deepEqual(
      store.approvals.list({ limit: 10 }).map((r) => r.requestId),
      ['req-3', 'req-2', 'req-1'],
    );
    const b = store.approvals.list({ appId: 'app.b' });
    assert.equal(b.length, 1);
    assert.equal(b[0]!.decision, 'declined');
    assert.equal(b[0]!.origin, undefined);
    assert.equal(store.approvals.list({ limit: 1 }).length, 1);
  });

  it('records a policy decision with the policy id, and checks it exists', () => {
    store.apps.add({
      appId: 'app.a',
      publicKey: sm2Spki(generateSm2KeyPair().publicKey),
      origins: ['https://a.example'],
    });
    const p = store.policies.add({ appId: 'app.a', sealCode: 'ES1', maxCount: 1, ttlMs: 60_000 });
    const r = store.approvals.record({ ...base, decidedBy: 'policy', policyId: p.id });
    assert.equal(r.policyId, p.id);
    assert.throws(
      () => store.approvals.record({ ...base, decidedBy: 'policy', policyId: 424242 }),
      badParamNaming('policyId'),
    );
    assert.throws(
      () => store.approvals.record({ ...base, decidedBy: 'policy' }),
      badParamNaming('policyId'),
    );
    assert.throws(
      () => store.approvals.record({ ...base, policyId: p.id }),
      badParamNaming('policyId'),
    );
    assert.throws(
      () =>
        store.approvals.record({
          ...base,
          decidedBy: 'policy',
          policyId: p.id,
          decision: 'declined',
        }),
      badParamNaming('decision'),
    );
  });

  it('validates every field, naming it', () => {
    const cases: [Partial<Record<keyof ApprovalInput, unknown>>, string][] = [
      [{ requestId: '' }, 'requestId'],
      [{ appId: 'a b' }, 'appId'],
      [{ sealCode: '' }, 'sealCode'],
      [{ ukeyId: '' }, 'ukeyId'],
      [{ digestHex: 'xyz' }, 'digestHex'],
      [{ digestHex: 'abc' }, 'digestHex'],
      [{ format: 'p9' }, 'format'],
      [{ decision: 'maybe' }, 'decision'],
      [{ decidedBy: 'someone' }, 'decidedBy'],
    ];
    for (const [change, field] of cases)
      assert.throws(
        () => store.approvals.record({ ...base, ...change } as ApprovalInput),
        badParamNaming(field),
        field,
      );
    assert.throws(() => store.approvals.list({ limit: 0 }), badParamNaming('limit'));
  });
});
