// Pairing (docs/JSAPI.md "Pairing"): a web app the agent does not know asks, from the browser, to
// be trusted for its origin; the operator sees the Origin header as sent and decides.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { rmSync } from 'node:fs';
import { createAgent } from '../../main/core/agent';
import type { Agent } from '../../main/core/agent';
import { PairingService } from '../../main/core/bridge/pairing';
import { generateSm2KeyPair } from '../../main/core/crypto/sm2';
import { sm2Spki } from '../../main/core/pki/keys';
import { SqliteNonceStore } from '../../main/core/platform/nonce-store';
import { sm2RequestSigner } from '../../main/core/platform/request-signer';
import { AgentError } from '../../main/common/errors';
import { ResultCode } from '../../main/common/codes';
import type { PairingView } from '../../main/common/operator-api';
import { http, postJson, signed } from '../helpers/agent-harness';
import type { HttpAnswer } from '../helpers/agent-harness';
import { tempDir } from '../helpers/dev-tokens';

const PAIR = '/api/v1/pair';
const ORIGIN = 'https://seal.example.cn:8443';

/** A web app's identity: its key and the pairing body its server signs with it. */
function webApp(appId: string) {
  const key = generateSm2KeyPair();
  const signer = sm2RequestSigner(appId, key);
  const spki = sm2Spki(key.publicKey);
  const body = (extra: Record<string, unknown> = {}) =>
    signed(signer, {
      appName: '合同系统',
      publicKey: spki.toString('base64'),
      time: String(Date.now()),
      nonce: randomInt(100_000_000),
      ...extra,
    });
  return { appId, key, signer, spki, body };
}

describe('pairing: a web app asks to be trusted for its origin', () => {
  const dataDir = tempDir('pairing');
  let agent: Agent;
  const seen: PairingView[] = [];
  const resolved: string[] = [];

  before(async () => {
    agent = await createAgent({
      dataDir,
      port: 0,
      modules: [],
      platform: {
        verifySignId: () => Promise.reject(new AgentError(ResultCode.PLATFORM_UNAVAILABLE, 'x')),
      },
      host: { askPin: async () => null, approve: async () => 'declined' },
    });
    agent.pairing.on('requested', (v) => seen.push(v));
    agent.pairing.on('resolved', (r) => resolved.push(`${r.pairingId}:${r.outcome}`));
  });
  after(async () => {
    await agent.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const pair = async (body: unknown, origin: string | null = ORIGIN): Promise<HttpAnswer> =>
    postJson(agent.bridge.port, PAIR, body, origin);
  /** The request the operator sees for `origin` (waits for it to arrive). */
  const waiting = async (origin: string): Promise<PairingView> => {
    for (let i = 0; i < 100; i++) {
      const v = agent.pairing.list().find((p) => p.origin === origin);
      if (v) return v;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`no pairing request from ${origin}`);
  };

  it('an unknown origin may preflight the pairing call only', async () => {
    const pre = await http(agent.bridge.port, 'OPTIONS', PAIR, {
      headers: { origin: ORIGIN, 'access-control-request-method': 'POST' },
    });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers['access-control-allow-origin'], ORIGIN);
    const info = await http(agent.bridge.port, 'OPTIONS', '/api/v1/ukey/info', {
      headers: { origin: ORIGIN, 'access-control-request-method': 'POST' },
    });
    assert.equal(info.status, 403);
    const nul = await http(agent.bridge.port, 'OPTIONS', PAIR, { headers: { origin: 'null' } });
    assert.equal(nul.status, 403);
  });

  it('shows the origin as the browser sent it, the app and its key fingerprint; approval trusts exactly that origin', async () => {
    const app = webApp('contract.web');
    const answer = pair(await app.body());
    const view = await waiting(ORIGIN);
    assert.equal(view.origin, ORIGIN);
    assert.equal(view.appId, 'contract.web');
    assert.equal(view.appName, '合同系统');
    assert.equal(view.effect, 'new');
    assert.equal(view.keyAlgorithm, 'sm2');
    assert.match(view.fingerprint, /^([0-9a-f]{4} ){15}[0-9a-f]{4}$/);
    assert.ok(
      seen.some((s) => s.pairingId === view.pairingId),
      'pushed as pairing.requested',
    );
    assert.equal(agent.store.apps.get('contract.web'), undefined, 'nothing trusted before');

    const app2 = agent.pairing.decide(view.pairingId, 'approved');
    assert.deepEqual(app2?.origins, [ORIGIN]);
    const res = await answer;
    assert.equal(res.json.code, '0', res.text);
    assert.deepEqual(res.json.data, { appId: 'contract.web', origin: ORIGIN, paired: true });
    assert.equal(res.headers['access-control-allow-origin'], ORIGIN);
    assert.ok(resolved.includes(`${view.pairingId}:approved`));
    assert.ok(agent.store.apps.get('contract.web')!.publicKey.equals(app.spki));

    // The app's signed calls from that origin now pass the origin check (no UKey here: 2001 or
    // an empty list, never 1005); another origin still gets 1005.
    const info = await postJson(
      agent.bridge.port,
      '/api/v1/ukey/info',
      await signed(app.signer, { type: '1' }),
      ORIGIN,
    );
    assert.equal(info.json.code, '2001', info.text);
    const other = await postJson(
      agent.bridge.port,
      '/api/v1/ukey/info',
      await signed(app.signer, { type: '1' }),
      'https://evil.example',
    );
    assert.equal(other.json.code, '1005');

    // Asking again from the same origin with the same key: already paired, nobody is asked.
    const again = await pair(await app.body());
    assert.equal(again.json.code, '0');
    assert.equal(agent.pairing.list().length, 0);

    // From a second origin with the same key: the operator adds that origin to the app.
    const second = 'http://127.0.0.1:18795';
    const more = pair(await app.body(), second);
    const v2 = await waiting(second);
    assert.equal(v2.effect, 'add-origin');
    agent.pairing.decide(v2.pairingId, 'approved');
    assert.equal((await more).json.code, '0');
    assert.deepEqual([...agent.store.apps.get('contract.web')!.origins].sort(), [second, ORIGIN]);
  });

  it('a declined pairing answers 2003 and trusts nothing', async () => {
    const app = webApp('declined.web');
    const origin = 'https://declined.example';
    const answer = pair(await app.body(), origin);
    const view = await waiting(origin);
    assert.equal(agent.pairing.decide(view.pairingId, 'declined'), null);
    const res = await answer;
    assert.equal(res.json.code, '2003');
    assert.equal(res.status, 403);
    assert.equal(agent.store.apps.get('declined.web'), undefined);
    assert.throws(() => agent.pairing.decide(view.pairingId, 'approved'), /no pairing request/);
  });

  it('refuses what must not reach the operator, each with its code', async () => {
    const app = webApp('bad.web');
    const body = await app.body();
    // No Origin (not a browser) or an opaque one.
    assert.equal((await pair(body, null)).json.code, '1005');
    assert.equal((await pair(await app.body(), 'null')).json.code, '1005');
    // A signature that is not by the key offered (someone else's key): 1002.
    const thief = webApp('bad.web');
    const forged = { ...(await thief.body()), publicKey: app.spki.toString('base64') };
    assert.equal((await pair(forged, 'https://thief.example')).json.code, '1002');
    // The same request twice: 1004.
    const once = await app.body();
    const first = pair(once, 'https://once.example');
    await waiting('https://once.example');
    assert.equal((await pair(once, 'https://twice.example')).json.code, '1004');
    // A second request from the same origin while one waits: 1006.
    assert.equal((await pair(await app.body(), 'https://once.example')).json.code, '1006');
    agent.pairing.decide(agent.pairing.list()[0]!.pairingId, 'declined');
    assert.equal((await first).json.code, '2003');
    // A PIN, an unknown field, a bad key, no signature: 1001.
    assert.equal((await pair(await app.body({ pin: '123456' }))).json.code, '1001');
    assert.equal((await pair({ ...body, publicKey: 'AAAA' })).json.code, '1001');
    const { sign: _drop, ...unsigned } = body;
    assert.equal((await pair(unsigned)).json.code, '1001');
    // An app already trusted with another key cannot be taken over by pairing: 1005.
    const taken = webApp('contract.web');
    const res = await pair(await taken.body(), 'https://attacker.example');
    assert.equal(res.json.code, '1005');
    assert.match(res.json.message, /another key/);
    // A form post (CSRF without preflight): 415.
    const form = await http(agent.bridge.port, 'POST', PAIR, {
      body: 'appId=x',
      headers: { origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(form.status, 415);
    assert.equal(agent.pairing.list().length, 0, 'nothing left waiting');
  });

  it('every pairing request and its outcome is in the audit log', () => {
    const entries = agent.store.audit
      .entries({ limit: 10_000 })
      .filter((e) => e.interface === 'pair');
    assert.ok(entries.some((e) => e.resultCode === '0' && e.origin === ORIGIN));
    assert.ok(entries.some((e) => e.resultCode === '2003'));
    assert.ok(entries.some((e) => e.resultCode === '1002'));
    assert.ok(
      entries.every((e) => !JSON.stringify(e).includes('123456')),
      'no PIN stored',
    );
  });
});

describe('pairing: limits', () => {
  it('answers 2004 when the operator does not decide in time, and holds at most 5 at once', async () => {
    const dir = tempDir('pairing-limits');
    const { openAgentStore } = await import('../../main/core/store/agent-store');
    const store = openAgentStore(dir);
    try {
      const svc = new PairingService({
        apps: store.apps,
        nonces: new SqliteNonceStore(store.db),
        timeoutMs: 300,
      });
      const app = webApp('slow.web');
      await assert.rejects(svc.request(await app.body(), 'https://slow.example'), (e) => {
        assert.equal((e as AgentError).code, '2004');
        return true;
      });
      const long = new PairingService({
        apps: store.apps,
        nonces: new SqliteNonceStore(store.db),
        timeoutMs: 60_000,
      });
      const held = [];
      for (let i = 0; i < 5; i++)
        held.push(long.request(await app.body(), `https://o${i}.example`).catch(() => undefined));
      await assert.rejects(long.request(await app.body(), 'https://o9.example'), (e) => {
        assert.equal((e as AgentError).code, '1006');
        return true;
      });
      long.close();
      await Promise.all(held);
    } finally {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
