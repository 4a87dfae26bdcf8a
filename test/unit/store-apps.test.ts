import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentError } from '../../main/common/errors';
import { generateSm2KeyPair } from '../../main/core/crypto/sm2';
import { sm2Spki } from '../../main/core/pki/keys';
import { openAgentStore } from '../../main/core/store/agent-store';
import type { AgentStore } from '../../main/core/store/agent-store';
import { normaliseOrigin } from '../../main/core/store/origins';

const root = mkdtempSync(join(tmpdir(), 'store-apps-'));
let store: AgentStore;
before(() => {
  store = openAgentStore(root);
});
after(() => {
  store.close();
  rmSync(root, { recursive: true, force: true });
});

const sm2Key = (): Buffer => sm2Spki(generateSm2KeyPair().publicKey);
const rsaKey = (bits: number): Buffer =>
  generateKeyPairSync('rsa', { modulusLength: bits }).publicKey.export({
    type: 'spki',
    format: 'der',
  });

/** Asserts a 1001 whose message names `field`. */
const badParamNaming = (field: string | RegExp) => (e: unknown) => {
  assert.ok(e instanceof AgentError, String(e));
  assert.equal(e.code, '1001');
  assert.match(e.message, typeof field === 'string' ? new RegExp(`\\b${field}\\b`) : field);
  return true;
};

describe('origin normalisation', () => {
  it('answers the serialized origin', () => {
    assert.equal(normaliseOrigin('https://a.example/'), 'https://a.example');
    assert.equal(normaliseOrigin('https://a.example:443'), 'https://a.example');
    assert.equal(normaliseOrigin('HTTPS://A.Example:8443'), 'https://a.example:8443');
    assert.equal(normaliseOrigin('http://localhost:3000/'), 'http://localhost:3000');
    assert.equal(normaliseOrigin('http://127.0.0.1:8080'), 'http://127.0.0.1:8080');
    assert.equal(normaliseOrigin('http://[::1]:80'), 'http://[::1]');
    assert.equal(normaliseOrigin('https://中文.example'), 'https://xn--fiq228c.example');
  });

  it('refuses what is not an exact, safe origin', () => {
    for (const bad of [
      'http://evil.example',
      'null',
      'https://*.example',
      '*',
      'https://a.example/path',
      'https://a.example/?q',
      'https://a.example#x',
      'https://user:pw@a.example',
      'https://user@a.example',
      'ftp://a.example',
      'file:///etc/passwd',
      'a.example',
      '',
    ])
      assert.throws(() => normaliseOrigin(bad), badParamNaming('origin'), bad);
  });
});

describe('AppStore', () => {
  it('adds an SM2 app, normalises and de-duplicates its origins, and answers it', () => {
    const key = sm2Key();
    const app = store.apps.add({
      appId: 'bank.web-1',
      publicKey: key,
      origins: ['https://a.example/', 'https://a.example:443', 'http://localhost:5173'],
      name: '网银',
    });
    assert.deepEqual(app.origins, ['http://localhost:5173', 'https://a.example']);
    assert.equal(app.keyAlgorithm, 'sm2');
    assert.equal(app.name, '网银');
    assert.ok(store.apps.get('bank.web-1')?.publicKey.equals(key));
    assert.equal(store.apps.isOriginAllowed('bank.web-1', 'https://a.example'), true);
    assert.equal(store.apps.isOriginAllowed('bank.web-1', 'https://a.example:443/'), true);
    assert.equal(store.apps.isOriginAllowed('bank.web-1', 'https://b.example'), false);
    assert.equal(store.apps.isOriginAllowed('bank.web-1', 'https://x.a.example'), false);
    assert.equal(store.apps.isOriginAllowed('bank.web-1', 'http://a.example'), false);
    assert.equal(store.apps.isOriginAllowed('bank.web-1', 'null'), false);
    assert.equal(store.apps.isOriginAllowed('other', 'https://a.example'), false);
  });

  it('accepts RSA keys of 2048 bits and refuses smaller ones and non-keys', () => {
    assert.equal(
      store.apps.add({ appId: 'rsa.app', publicKey: rsaKey(2048), origins: ['https://r.example'] })
        .keyAlgorithm,
      'rsa',
    );
    assert.throws(
      () =>
        store.apps.add({
          appId: 'rsa.small',
          publicKey: rsaKey(1024),
          origins: ['https://r.example'],
        }),
      badParamNaming('publicKey'),
    );
    assert.throws(
      () =>
        store.apps.add({
          appId: 'junk',
          publicKey: Buffer.from('not a key'),
          origins: ['https://r.example'],
        }),
      badParamNaming('publicKey'),
    );
    const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey.export({
      type: 'spki',
      format: 'der',
    });
    assert.throws(
      () => store.apps.add({ appId: 'ecdsa', publicKey: ec, origins: ['https://r.example'] }),
      badParamNaming('publicKey'),
    );
  });

  it('validates appId, origins and name, naming the field', () => {
    const key = sm2Key();
    for (const appId of ['', 'a b', 'x'.repeat(65), 'é', 'a/b'])
      assert.throws(
        () => store.apps.add({ appId, publicKey: key, origins: ['https://a.example'] }),
        badParamNaming('appId'),
      );
    assert.throws(
      () => store.apps.add({ appId: 'ok', publicKey: key, origins: [] }),
      badParamNaming('origins'),
    );
    assert.throws(
      () =>
        store.apps.add({
          appId: 'ok',
          publicKey: key,
          origins: ['https://a.example', 'http://evil.example'],
        }),
      badParamNaming(/origins\[1\]/),
    );
    assert.throws(
      () =>
        store.apps.add({
          appId: 'ok',
          publicKey: key,
          origins: ['https://a.example'],
          name: 'a\nb',
        }),
      badParamNaming('name'),
    );
    assert.equal(store.apps.get('ok'), undefined);
  });

  it('refuses a second add of an appId unless replace, which swaps key and origins', () => {
    const first = store.apps.add({
      appId: 'dup',
      publicKey: sm2Key(),
      origins: ['https://a.example'],
    });
    assert.throws(
      () => store.apps.add({ appId: 'dup', publicKey: sm2Key(), origins: ['https://b.example'] }),
      badParamNaming('appId'),
    );
    const key2 = sm2Key();
    const second = store.apps.add({
      appId: 'dup',
      publicKey: key2,
      origins: ['https://b.example'],
      replace: true,
      now: first.createdAt + 5,
    });
    assert.ok(second.publicKey.equals(key2));
    assert.deepEqual(second.origins, ['https://b.example']);
    assert.equal(second.createdAt, first.createdAt);
    assert.equal(store.apps.isOriginAllowed('dup', 'https://a.example'), false);
  });

  it('revoke keeps the row, hides the app from get and origin checks; replace revives it', () => {
    store.apps.add({ appId: 'gone', publicKey: sm2Key(), origins: ['https://g.example'] });
    const r = store.apps.revoke('gone');
    assert.ok(r.revokedAt !== undefined);
    assert.equal(store.apps.get('gone'), undefined);
    assert.equal(store.apps.isOriginAllowed('gone', 'https://g.example'), false);
    assert.ok(store.apps.list().find((a) => a.appId === 'gone')?.revokedAt);
    assert.throws(() => store.apps.revoke('never.added'), badParamNaming('appId'));
    assert.throws(
      () => store.apps.add({ appId: 'gone', publicKey: sm2Key(), origins: ['https://g.example'] }),
      /revoked/,
    );
    store.apps.add({
      appId: 'gone',
      publicKey: sm2Key(),
      origins: ['https://g.example'],
      replace: true,
    });
    assert.equal(store.apps.isOriginAllowed('gone', 'https://g.example'), true);
  });
});
