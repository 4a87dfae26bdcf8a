import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { generateSm2KeyPair } from '../../main/core/crypto/sm2';
import { sm2Spki } from '../../main/core/pki/keys';
import { softwareSm2Provider } from '../../main/core/pki/signer';
import { sm2RequestSigner } from '../../main/core/platform/request-signer';
import { createAgent } from '../../main/core/agent';
import type { Agent } from '../../main/core/agent';
import { openAgentStore } from '../../main/core/store/agent-store';
import {
  ScriptedApprovals,
  freshSignId,
  postJson,
  signed,
  startWorld,
} from '../helpers/agent-harness';
import type { World } from '../helpers/agent-harness';
import { tempDir } from '../helpers/dev-tokens';
import { ScriptedHost } from '../helpers/scripted-host';

const ORIGIN = 'http://localhost:18790';

describe('the composed agent: SQLite store, audit chain, policies and approvals', () => {
  let w: World;
  let agent: Agent;
  const approvals = new ScriptedApprovals();
  const caller = generateSm2KeyPair();
  const signer = sm2RequestSigner('demo-web', caller);
  const auditKey = generateSm2KeyPair();
  const sm2Id = 'SUKDEMO0001';

  before(async () => {
    w = await startWorld();
    w.tokens.close(); // the agent opens its own token service on the same modules
    const pins = new ScriptedHost({ user: w.pki.pin });
    agent = await createAgent({
      dataDir: tempDir('agent-data'),
      port: 0,
      platform: w.agentPlatform,
      host: { askPin: (r) => pins.askPin(r), approve: (r, s) => approvals.approve(r, s) },
      auditSigner: softwareSm2Provider(auditKey),
      auditSealIntervalMs: 60_000,
      approvalTimeoutMs: 2_000,
      pollIntervalMs: 100,
    });
    agent.store.apps.add({
      appId: 'demo-web',
      publicKey: sm2Spki(caller.publicKey),
      origins: [ORIGIN],
      name: '演示系统',
    });
  });
  after(async () => {
    await agent.close();
    await w.platform.close();
  });

  const sign = async (fields: Record<string, unknown>, origin = ORIGIN) =>
    postJson(agent.bridge.port, '/api/v1/ukey/sign', await signed(signer, fields), origin);

  it('signs after approval and records approval and audit entries', async () => {
    const s = await freshSignId(w, sm2Id);
    const docHash = createHash('sm3').update('doc').digest().toString('base64');
    approvals.next.push('approved');
    const r = await sign({ ...s, docHash, UKeyId: sm2Id });
    assert.equal(r.json.code, '0', r.text);
    assert.equal(approvals.seen.at(-1)!.appName, '演示系统');
    const [rec] = agent.store.approvals.list({ limit: 1 });
    assert.equal(rec!.decision, 'approved');
    assert.equal(rec!.decidedBy, 'signer');
    const entries = agent.store.audit.entries({ afterSeq: 0, limit: 100 });
    const last = entries.at(-1)!;
    assert.equal(last.interface, 'ukey.sign');
    assert.equal(last.resultCode, '0');
    assert.equal(last.appId, 'demo-web');
    assert.equal(last.origin, ORIGIN);
  });

  it('a standing policy from the store approves a bounded number of signatures', async () => {
    const { sealCode } = await freshSignId(w, sm2Id);
    agent.store.policies.add({ appId: 'demo-web', sealCode, maxCount: 2, ttlMs: 60_000 });
    const asked = approvals.seen.length;
    approvals.fallback = 'declined';
    const docHash = Buffer.alloc(32, 1).toString('base64');
    for (let i = 0; i < 2; i++)
      assert.equal(
        (await sign({ ...(await freshSignId(w, sm2Id)), docHash, UKeyId: sm2Id })).json.code,
        '0',
      );
    assert.equal(approvals.seen.length, asked, 'the policy answered, not the signer');
    assert.equal(
      (await sign({ ...(await freshSignId(w, sm2Id)), docHash, UKeyId: sm2Id })).json.code,
      '2003',
      'the third is asked (and declined)',
    );
    const byPolicy = agent.store.approvals
      .list({ limit: 10 })
      .filter((a) => a.decidedBy === 'policy');
    assert.equal(byPolicy.length, 2);
  });

  it('a revoked app is unknown at once; the audit chain verifies and is sealed on close', async () => {
    agent.store.apps.revoke('demo-web');
    const r = await postJson(
      agent.bridge.port,
      '/api/v1/ukey/info',
      await signed(signer, { type: '1', UKeyId: sm2Id }),
      ORIGIN,
    );
    assert.equal(r.json.code, '1005');
    await agent.store.audit.seal(softwareSm2Provider(auditKey));
    const v = agent.store.audit.verify({ publicKey: sm2Spki(auditKey.publicKey) });
    assert.ok(v.ok, JSON.stringify(v));
    assert.ok(v.entries >= 5);
  });
});

describe("the composed agent follows the operator's stored settings", () => {
  it('the rate limit comes from the settings when the caller gives none', async () => {
    const w = await startWorld();
    w.tokens.close();
    const dataDir = tempDir('agent-settings');
    const pre = openAgentStore(dataDir);
    pre.settings.set('rateLimitPerMinute', 60); // 1 per second, bursts of 2
    pre.close();
    const pins = new ScriptedHost({ user: w.pki.pin });
    const agent = await createAgent({
      dataDir,
      port: 0,
      platform: w.agentPlatform,
      host: { askPin: (r) => pins.askPin(r), approve: () => new Promise(() => undefined) },
      pollIntervalMs: 0,
    });
    try {
      const codes: string[] = [];
      for (let i = 0; i < 3; i++) {
        const r = await postJson(agent.bridge.port, '/api/v1/ukey/info', {}, ORIGIN);
        codes.push(r.json.code as string);
      }
      // Two pass the limiter (and fail on the empty body), the third is rate limited.
      assert.deepEqual(codes, ['1001', '1001', '1006']);
    } finally {
      await agent.close();
      await w.platform.close();
    }
  });
});
