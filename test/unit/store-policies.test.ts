import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { AgentError } from '../../main/common/errors';
import { generateSm2KeyPair } from '../../main/core/crypto/sm2';
import { sm2Spki } from '../../main/core/pki/keys';
import { openAgentStore } from '../../main/core/store/agent-store';
import type { AgentStore } from '../../main/core/store/agent-store';
import { parseDuration } from '../../main/core/store/policies';

const root = mkdtempSync(join(tmpdir(), 'store-policies-'));
let store: AgentStore;
const T0 = 1_750_000_000_000;
const MIN = 60_000;

before(() => {
  store = openAgentStore(root);
  for (const appId of ['app.a', 'app.b'])
    store.apps.add({
      appId,
      publicKey: sm2Spki(generateSm2KeyPair().publicKey),
      origins: ['https://a.example', 'https://b.example'],
    });
});
after(() => {
  store.close();
  rmSync(root, { recursive: true, force: true });
});

const badParamNaming = (field: string) => (e: unknown) =>
  e instanceof AgentError && e.code === '1001' && e.message.includes(field);

describe('parseDuration', () => {
  it('parses s, m, h, d', () => {
    assert.equal(parseDuration('90s'), 90_000);
    assert.equal(parseDuration('10m'), 600_000);
    assert.equal(parseDuration('2h'), 7_200_000);
    assert.equal(parseDuration('7d'), 604_800_000);
  });
  it('refuses anything else, naming the field', () => {
    for (const bad of ['', '10', 'm', '1.5h', '-1m', '10 minutes', '1w', '10M'])
      assert.throws(() => parseDuration(bad, '--ttl'), badParamNaming('--ttl'), bad);
  });
});

describe('PolicyStore', () => {
  it('validates its input, naming the field', () => {
    const ok = { appId: 'app.a', sealCode: 'ES1', maxCount: 5, ttlMs: 10 * MIN };
    assert.throws(() => store.policies.add({ ...ok, maxCount: 0 }), badParamNaming('maxCount'));
    assert.throws(
      () => store.policies.add({ ...ok, maxCount: 10_001 }),
      badParamNaming('maxCount'),
    );
    assert.throws(() => store.policies.add({ ...ok, maxCount: 1.5 }), badParamNaming('maxCount'));
    assert.throws(() => store.policies.add({ ...ok, ttlMs: 59_999 }), badParamNaming('ttlMs'));
    assert.throws(
      () => store.policies.add({ ...ok, ttlMs: 30 * 86_400_000 + 1 }),
      badParamNaming('ttlMs'),
    );
    assert.throws(() => store.policies.add({ ...ok, sealCode: 'a b' }), badParamNaming('sealCode'));
    assert.throws(() => store.policies.add({ ...ok, appId: 'nobody' }), badParamNaming('appId'));
    assert.throws(
      () => store.policies.add({ ...ok, origin: 'https://*.example' }),
      badParamNaming('origin'),
    );
    assert.throws(
      () => store.policies.add({ ...ok, origin: 'https://c.example' }),
      badParamNaming('origin'),
    );
    assert.equal(store.policies.list({ includeInactive: true }).length, 0);
  });

  it('consume is bounded by the count', () => {
    const p = store.policies.add({
      appId: 'app.a',
      sealCode: 'COUNT',
      maxCount: 3,
      ttlMs: 10 * MIN,
      now: T0,
    });
    assert.equal(p.used, 0);
    assert.equal(p.expiresAt, T0 + 10 * MIN);
    const uses = [1, 2, 3].map(() =>
      store.policies.consume({ appId: 'app.a', sealCode: 'COUNT', now: T0 + 1 }),
    );
    assert.deepEqual(
      uses.map((u) => u?.used),
      [1, 2, 3],
    );
    assert.equal(uses[0]?.id, p.id);
    assert.equal(
      store.policies.consume({ appId: 'app.a', sealCode: 'COUNT', now: T0 + 1 }),
      undefined,
    );
    assert.equal(store.policies.get(p.id)?.used, 3);
    assert.ok(!store.policies.list({ now: T0 + 1 }).some((x) => x.id === p.id));
    assert.ok(store.policies.list({ includeInactive: true }).some((x) => x.id === p.id));
  });

  it('consume is bounded by time, seal, app, revocation of policy and app', () => {
    const p = store.policies.add({
      appId: 'app.a',
      sealCode: 'TIME',
      maxCount: 100,
      ttlMs: MIN,
      now: T0,
    });
    assert.ok(store.policies.consume({ appId: 'app.a', sealCode: 'TIME', now: T0 + MIN - 1 }));
    assert.equal(
      store.policies.consume({ appId: 'app.a', sealCode: 'TIME', now: T0 + MIN }),
      undefined,
    );
    assert.equal(store.policies.consume({ appId: 'app.a', sealCode: 'OTHER', now: T0 }), undefined);
    assert.equal(store.policies.consume({ appId: 'app.b', sealCode: 'TIME', now: T0 }), undefined);

    const q = store.policies.add({
      appId: 'app.b',
      sealCode: 'REV',
      maxCount: 100,
      ttlMs: MIN,
      now: T0,
    });
    assert.ok(store.policies.consume({ appId: 'app.b', sealCode: 'REV', now: T0 }));
    store.policies.revoke(q.id);
    assert.equal(store.policies.consume({ appId: 'app.b', sealCode: 'REV', now: T0 }), undefined);
    assert.ok(store.policies.get(q.id)?.revokedAt);
    assert.throws(() => store.policies.revoke(999_999), badParamNaming('id'));

    const r = store.policies.add({
      appId: 'app.b',
      sealCode: 'APPREV',
      maxCount: 100,
      ttlMs: 10 * MIN,
    });
    store.apps.revoke('app.b');
    assert.equal(store.policies.consume({ appId: 'app.b', sealCode: 'APPREV' }), undefined);
    assert.equal(store.policies.get(r.id)?.used, 0);
    assert.equal(p.appId, 'app.a');
  });

  it('consume is bounded by origin', () => {
    const pinned = store.policies.add({
      appId: 'app.a',
      sealCode: 'ORIG',
      maxCount: 10,
      ttlMs: 10 * MIN,
      origin: 'https://a.example/',
    });
    assert.equal(pinned.origin, 'https://a.example');
    assert.equal(
      store.policies.consume({ appId: 'app.a', sealCode: 'ORIG', origin: 'https://b.example' }),
      undefined,
    );
    assert.equal(store.policies.consume({ appId: 'app.a', sealCode: 'ORIG' }), undefined);
    assert.equal(
      store.policies.consume({ appId: 'app.a', sealCode: 'ORIG', origin: 'null' }),
      undefined,
    );
    assert.equal(
      store.policies.consume({ appId: 'app.a', sealCode: 'ORIG', origin: 'https://a.example:443' })
        ?.id,
      pinned.id,
    );
    // An origin-free policy serves any origin and requests without one; a pinned one is preferred.
    const any = store.policies.add({
      appId: 'app.a',
      sealCode: 'ORIG',
      maxCount: 10,
      ttlMs: 10 * MIN,
    });
    assert.equal(
      store.policies.consume({ appId: 'app.a', sealCode: 'ORIG', origin: 'https://b.example' })?.id,
      any.id,
    );
    assert.equal(store.policies.consume({ appId: 'app.a', sealCode: 'ORIG' })?.id, any.id);
    assert.equal(
      store.policies.consume({ appId: 'app.a', sealCode: 'ORIG', origin: 'https://a.example' })?.id,
      pinned.id,
    );
  });

  it('concurrent consume from several connections never exceeds maxCount', async () => {
    const maxCount = 40;
    const p = store.policies.add({ appId: 'app.a', sealCode: 'RACE', maxCount, ttlMs: 10 * MIN });
    const modulePath = join(__dirname, '..', '..', 'main', 'core', 'store', 'agent-store.js');
    const start = new SharedArrayBuffer(4);
    const code = `
      const { workerData, parentPort } = require('node:worker_threads');
      const { openAgentStore } = require(workerData.modulePath);
      const store = openAgentStore(workerData.root);
      Atomics.wait(new Int32Array(workerData.start), 0, 0);
      let won = 0;
      for (let i = 0; i < 30; i++)
        if (store.policies.consume({ appId: 'app.a', sealCode: 'RACE' })) won++;
      store.close();
      parentPort.postMessage(won);`;
    const workers = Array.from(
      { length: 4 },
      () => new Worker(code, { eval: true, workerData: { modulePath, root, start } }),
    );
    const results = workers.map(
      (w) =>
        new Promise<number>((resolve, reject) => {
          w.once('message', resolve);
          w.once('error', reject);
        }),
    );
    await new Promise((r) => setTimeout(r, 200));
    Atomics.store(new Int32Array(start), 0, 1);
    Atomics.notify(new Int32Array(start), 0);
    const won = await Promise.all(results);
    assert.equal(
      won.reduce((a, b) => a + b, 0),
      maxCount,
      `per worker: ${won.join(', ')}`,
    );
    assert.equal(store.policies.get(p.id)?.used, maxCount);
  });
});
