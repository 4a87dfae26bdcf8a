// What every request to the reference platform must get through (CONTRACT §1, §2), over raw HTTP:
// fields and types, appId, sign, time window, nonce, body size, JSON, content type, routing.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { generateSm2KeyPair } from '../../main/core/crypto/sm2';
import { sm2Spki } from '../../main/core/pki/keys';
import { signRequest } from '../../main/core/platform/canonical';
import { sm2RequestSigner } from '../../main/core/platform/request-signer';
import { verifyResponseBody } from '../../main/core/platform/response-sign';
import { PLATFORM_PATHS } from '../../main/core/platform/types';
import { registerApp } from '../platform/apps';
import { createReferencePlatform } from '../platform/reference-platform';
import { startFixture } from '../platform/fixture';
import type { Fixture, RawAnswer } from '../platform/fixture';

let fx: Fixture;
before(async () => {
  fx = await startFixture();
});
after(async () => {
  assert.deepEqual(fx.internalErrors, []);
  await fx.close();
});

const query = { orgCode: 'ORG-X', sealType: '0' };

/** Every answer is a signed envelope without internals. */
function assertEnvelope(a: RawAnswer, status: number, code: string, message?: RegExp): void {
  assert.equal(a.status, status, a.body.toString());
  assert.equal(a.json.code, code, a.json.message);
  if (message) assert.match(a.json.message, message);
  assert.equal(a.headers['content-type'], 'application/json; charset=utf-8');
  const sig = a.headers['x-platform-sign'];
  assert.equal(typeof sig, 'string');
  assert.ok(verifyResponseBody(a.body, sig as string, fx.platform.platformPublicKey));
  assert.doesNotMatch(
    a.json.message,
    /\/(?:tmp|work|home|usr)\/|[A-Z]:\\|\bat \S+ \(|Error:|sqlite/i,
  );
}

describe('request authentication', () => {
  it('accepts a correctly signed request', async () => {
    const a = await fx.signedPost(PLATFORM_PATHS.query, query);
    assertEnvelope(a, 200, '0');
    assert.deepEqual(a.json.data, []);
  });

  it('1001: missing or wrongly typed envelope fields, naming the field', async () => {
    assertEnvelope(
      await fx.signedPost(PLATFORM_PATHS.query, { ...query, version: undefined }),
      400,
      '1001',
      /field version is required/,
    );
    assertEnvelope(
      await fx.signedPost(PLATFORM_PATHS.query, { ...query, nonce: '12' }),
      400,
      '1001',
      /field nonce must be an integer/,
    );
    assertEnvelope(
      await fx.signedPost(PLATFORM_PATHS.query, { ...query, nonce: 100_000_000 }),
      400,
      '1001',
      /field nonce must be between 0 and 99999999/,
    );
    assertEnvelope(
      await fx.signedPost(PLATFORM_PATHS.query, { ...query, time: Date.now() }),
      400,
      '1001',
      /field time must be a string/,
    );
    assertEnvelope(
      await fx.signedPost(PLATFORM_PATHS.query, { ...query, orgCode: 12 }),
      400,
      '1001',
      /field orgCode must be a string/,
    );
    const unsigned = JSON.stringify({
      version: '1.0',
      appId: 'sm2-app',
      time: String(Date.now()),
      nonce: 1,
      ...query,
    });
    assertEnvelope(
      await fx.post(PLATFORM_PATHS.query, unsigned),
      400,
      '1001',
      /field sign is required/,
    );
  });

  it('1001: a nested value anywhere in the body', async () => {
    const body = {
      version: '1.0',
      appId: 'sm2-app',
      time: String(Date.now()),
      nonce: 3,
      ...query,
      extra: { a: 1 },
      sign: 'AAAA',
    };
    assertEnvelope(
      await fx.post(PLATFORM_PATHS.query, JSON.stringify(body)),
      400,
      '1001',
      /field extra must be a scalar/,
    );
  });

  it('1005: an unknown appId', async () => {
    const stranger = sm2RequestSigner('nobody', generateSm2KeyPair());
    assertEnvelope(
      await fx.signedPost(PLATFORM_PATHS.query, query, stranger),
      403,
      '1005',
      /appId is not registered/,
    );
  });

  it('1002: a forged sign, a sign by another key, a sign over other fields', async () => {
    const impostor = sm2RequestSigner('sm2-app', generateSm2KeyPair());
    assertEnvelope(await fx.signedPost(PLATFORM_PATHS.query, query, impostor), 401, '1002');
    const fields = {
      version: '1.0',
      appId: 'sm2-app',
      time: String(Date.now()),
      nonce: 11,
      ...query,
    };
    const signed = await signRequest(fields, fx.sm2.signer);
    assertEnvelope(
      await fx.post(PLATFORM_PATHS.query, JSON.stringify({ ...signed, orgCode: 'ORG-Y' })),
      401,
      '1002',
    );
    assertEnvelope(
      await fx.post(PLATFORM_PATHS.query, JSON.stringify({ ...signed, sign: 'AAAA' })),
      401,
      '1002',
    );
    // An RSA app's signature checked against its own key: another RSA app's would not pass.
    assertEnvelope(await fx.signedPost(PLATFORM_PATHS.query, query, fx.rsa.signer), 200, '0');
    const rsaAsSm2 = { ...fx.rsa.signer, appId: 'sm2-app' };
    assertEnvelope(await fx.signedPost(PLATFORM_PATHS.query, query, rsaAsSm2), 401, '1002');
  });

  it('1003: a time outside the 300 s window, either way', async () => {
    for (const offset of [-301_000, 301_000])
      assertEnvelope(
        await fx.signedPost(PLATFORM_PATHS.query, { ...query, time: String(Date.now() + offset) }),
        401,
        '1003',
      );
  });

  it('1004: a replayed request, and the same nonce in a new request', async () => {
    const fields = {
      version: '1.0',
      appId: 'sm2-app',
      time: String(Date.now()),
      nonce: 4242,
      ...query,
    };
    const body = JSON.stringify(await signRequest(fields, fx.sm2.signer));
    assertEnvelope(await fx.post(PLATFORM_PATHS.query, body), 200, '0');
    assertEnvelope(await fx.post(PLATFORM_PATHS.query, body), 409, '1004');
    assertEnvelope(
      await fx.signedPost(PLATFORM_PATHS.query, {
        ...query,
        nonce: 4242,
        time: String(Date.now() + 1),
      }),
      409,
      '1004',
    );
    // A forged request does not burn a nonce the real app has yet to use.
    const impostor = sm2RequestSigner('sm2-app', generateSm2KeyPair());
    assertEnvelope(
      await fx.signedPost(PLATFORM_PATHS.query, { ...query, nonce: 777 }, impostor),
      401,
      '1002',
    );
    assertEnvelope(await fx.signedPost(PLATFORM_PATHS.query, { ...query, nonce: 777 }), 200, '0');
  });
});

describe('HTTP hardening', () => {
  it('413 (code 1001) for a body over 1 MiB', async () => {
    const big = JSON.stringify({ pad: 'x'.repeat(1024 * 1024) });
    assertEnvelope(await fx.post(PLATFORM_PATHS.query, big), 413, '1001', /larger than 1048576/);
    // The server is still fine afterwards.
    assertEnvelope(await fx.signedPost(PLATFORM_PATHS.query, query), 200, '0');
  });

  it('1001 for non-JSON, invalid UTF-8, a JSON array, and a wrong content type', async () => {
    assertEnvelope(await fx.post(PLATFORM_PATHS.query, '{"a":'), 400, '1001', /not valid JSON/);
    assertEnvelope(
      await fx.post(PLATFORM_PATHS.query, Buffer.from([0x7b, 0xff, 0x7d])),
      400,
      '1001',
      /not UTF-8/,
    );
    assertEnvelope(await fx.post(PLATFORM_PATHS.query, '[1,2]'), 400, '1001', /JSON object/);
    assertEnvelope(await fx.post(PLATFORM_PATHS.query, 'null'), 400, '1001', /JSON object/);
    for (const type of [
      'text/plain',
      'application/x-www-form-urlencoded',
      null,
      'application/json; charset=gbk',
    ])
      assertEnvelope(await fx.post(PLATFORM_PATHS.query, '{}', type), 400, '1001', /Content-Type/);
    assertEnvelope(
      await fx.post(PLATFORM_PATHS.query, '{}', 'Application/JSON; charset=UTF-8'),
      400,
      '1001',
      /field version is required/,
    );
  });

  it('404 and 405 as envelopes', async () => {
    assertEnvelope(await fx.post('/api/v1/nothing', '{}'), 404, '1001', /no such endpoint/);
    const res = await fetch(`${fx.platform.url}${PLATFORM_PATHS.query}`);
    const body = Buffer.from(await res.arrayBuffer());
    assert.equal(res.status, 405);
    assert.equal(res.headers.get('allow'), 'POST');
    assert.ok(
      verifyResponseBody(
        body,
        res.headers.get('x-platform-sign') ?? undefined,
        fx.platform.platformPublicKey,
      ),
    );
  });
});

describe('persistence', () => {
  it('keeps its key (mode 0600), certificate, apps and seals across restarts', async () => {
    const dataDir = join(fx.dir, 'second');
    const first = await createReferencePlatform({ dataDir });
    const point = first.platformPublicKey;
    await first.close();
    if (process.platform !== 'win32')
      assert.equal(statSync(join(dataDir, 'platform-sm2-key.json')).mode & 0o777, 0o600);
    // Registered while the platform is down, as `platform apps add` does.
    const key = generateSm2KeyPair();
    registerApp(dataDir, { appId: 'later-app', publicKey: sm2Spki(key.publicKey), orgCode: 'O1' });
    const second = await createReferencePlatform({ dataDir });
    try {
      assert.deepEqual(second.platformPublicKey, point);
      const signer = sm2RequestSigner('later-app', key);
      const fields = {
        version: '1.0',
        appId: 'later-app',
        time: String(Date.now()),
        nonce: 1,
        ...query,
      };
      const res = await fetch(`${second.url}${PLATFORM_PATHS.query}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(await signRequest(fields, signer)),
      });
      assert.equal(res.status, 200);
    } finally {
      await second.close();
    }
  });
});
