import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { AgentError } from '../../main/common/errors';
import { generateSm2KeyPair, rawToDer, derToRaw } from '../../main/core/crypto/sm2';
import { sm2Spki, spkiToPem } from '../../main/core/pki/keys';
import {
  canonicalString,
  checkReplay,
  signRequest,
  verifyRequestSign,
} from '../../main/core/platform/canonical';
import { SqliteNonceStore } from '../../main/core/platform/nonce-store';
import { rsaRequestSigner, sm2RequestSigner } from '../../main/core/platform/request-signer';
import {
  platformPublicPoint,
  signResponseBody,
  verifyResponseBody,
} from '../../main/core/platform/response-sign';
import { opensslSm2Verify } from '../helpers/openssl';

const dir = mkdtempSync(join(tmpdir(), 'canonical-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const codeOf = (e: unknown): string => (e instanceof AgentError ? e.code : String(e));
const throwsCode = (fn: () => unknown, code: string): void =>
  assert.throws(fn, (e) => codeOf(e) === code);

describe('canonical string', () => {
  it('sorts keys, joins key=value with &, and leaves out sign', () => {
    assert.equal(
      canonicalString({ version: '1.0', appId: 'app-1', nonce: 42, sign: 'xyz', ok: true }),
      'appId=app-1&nonce=42&ok=true&version=1.0',
    );
  });

  it('sorts by UTF-8 bytes, not by locale or UTF-16', () => {
    // 'B' 0x42 < '_' 0x5F < 'a' 0x61; localeCompare would put '_' first and 'a' before 'B'.
    assert.equal(canonicalString({ a: 3, _: 2, B: 1 }), 'B=1&_=2&a=3');
    // U+FF21 is EF BC A1 in UTF-8, U+1F600 is F0 9F 98 80: UTF-16 code units order them the
    // other way round (D83D < FF21).
    assert.equal(canonicalString({ '\u{1F600}': 'x', '\uFF21': 'y' }), '\uFF21=y&\u{1F600}=x');
    assert.equal(canonicalString({ 印章: '2', z: '1', é: '3' }), 'z=1&é=3&印章=2');
  });

  it('keeps Chinese values byte for byte', () => {
    const s = canonicalString({ name: '北京某某科技有限公司合同专用章', possessor: '张三' });
    assert.equal(s, 'name=北京某某科技有限公司合同专用章&possessor=张三');
  });

  it('drops null, undefined and empty strings but keeps 0, false and blanks', () => {
    assert.equal(
      canonicalString({ a: null, b: undefined, c: '', d: 0, e: false, f: ' ' }),
      'd=0&e=false&f= ',
    );
    assert.equal(canonicalString({}), '');
  });

  it('writes numbers in plain decimal and refuses forms that are not', () => {
    assert.equal(
      canonicalString({ a: 1.5, b: -0, c: 99999999, d: -7 }),
      'a=1.5&b=0&c=99999999&d=-7',
    );
    throwsCode(() => canonicalString({ a: 1e21 }), '1001');
    throwsCode(() => canonicalString({ a: 1e-7 }), '1001');
    throwsCode(() => canonicalString({ a: Number.NaN }), '1001');
    throwsCode(() => canonicalString({ a: Number.POSITIVE_INFINITY }), '1001');
  });

  it('refuses nested objects and arrays, even empty ones', () => {
    throwsCode(() => canonicalString({ a: { b: 1 } }), '1001');
    throwsCode(() => canonicalString({ a: [1, 2] }), '1001');
    throwsCode(() => canonicalString({ a: [] }), '1001');
    // …but a nested value under `sign` is not part of the string.
    assert.equal(canonicalString({ a: 1, sign: { x: 1 } }), 'a=1');
  });

  it('refuses keys that would make two requests share a canonical string', () => {
    throwsCode(() => canonicalString({ 'a=b': 'c' }), '1001');
    throwsCode(() => canonicalString({ 'a&b': 'c' }), '1001');
  });
});

describe('request signatures', () => {
  const fields = { version: '1.0', appId: 'sm2-app', name: '合同专用章', nonce: 7, time: '1' };

  it('signs with SM2 (default ID, DER) and verifies with the SPKI in DER or PEM', async () => {
    const key = generateSm2KeyPair();
    const signed = await signRequest(fields, sm2RequestSigner('sm2-app', key));
    const spki = sm2Spki(key.publicKey);
    assert.equal(verifyRequestSign(signed, signed.sign, spki), true);
    assert.equal(verifyRequestSign(signed, signed.sign, spkiToPem(spki)), true);
    // Any other implementation of SM2 with the default ID accepts it too.
    const message = Buffer.from(canonicalString(fields), 'utf8');
    const openssl = opensslSm2Verify(spki, message, Buffer.from(signed.sign, 'base64'));
    assert.ok(openssl.ok, openssl.out);
  });

  it('refuses a changed field, another key, raw r‖s and malformed Base64', async () => {
    const key = generateSm2KeyPair();
    const spki = sm2Spki(key.publicKey);
    const { sign } = await signRequest(fields, sm2RequestSigner('sm2-app', key));
    assert.equal(verifyRequestSign({ ...fields, name: '财务专用章' }, sign, spki), false);
    assert.equal(verifyRequestSign({ ...fields, extra: 'x' }, sign, spki), false);
    assert.equal(verifyRequestSign(fields, sign, sm2Spki(generateSm2KeyPair().publicKey)), false);
    const raw = derToRaw(Buffer.from(sign, 'base64')).toString('base64');
    assert.equal(verifyRequestSign(fields, raw, spki), false);
    assert.equal(verifyRequestSign(fields, `${sign}\n`, spki), false);
    assert.equal(verifyRequestSign(fields, 'not base64!', spki), false);
    assert.equal(verifyRequestSign(fields, '', spki), false);
    // Round trip through DER re-encoding is still the same signature.
    const again = rawToDer(derToRaw(Buffer.from(sign, 'base64'))).toString('base64');
    assert.equal(verifyRequestSign(fields, again, spki), true);
  });

  it('signs and verifies with RSA (PKCS #1 v1.5, SHA-256)', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const signed = await signRequest(fields, rsaRequestSigner('rsa-app', privateKey));
    const spki = publicKey.export({ type: 'spki', format: 'der' });
    assert.equal(verifyRequestSign(signed, signed.sign, spki), true);
    assert.equal(verifyRequestSign({ ...signed, nonce: 8 }, signed.sign, spki), false);
  });
});

describe('replay checks', () => {
  const now = 1_700_000_000_000;
  const store = (): SqliteNonceStore => new SqliteNonceStore(new Database(':memory:'));

  it('accepts a fresh request once and refuses its nonce again (1004)', () => {
    const s = store();
    checkReplay({ appId: 'a', time: String(now - 1000), nonce: 5 }, s, now);
    throwsCode(() => checkReplay({ appId: 'a', time: String(now), nonce: 5 }, s, now + 10), '1004');
    // Another app may use the same number.
    checkReplay({ appId: 'b', time: String(now), nonce: 5 }, s, now);
  });

  it('refuses a time outside ±300 s (1003) without using up the nonce', () => {
    const s = store();
    throwsCode(
      () => checkReplay({ appId: 'a', time: String(now - 300_001), nonce: 1 }, s, now),
      '1003',
    );
    throwsCode(
      () => checkReplay({ appId: 'a', time: String(now + 300_001), nonce: 1 }, s, now),
      '1003',
    );
    checkReplay({ appId: 'a', time: String(now - 300_000), nonce: 1 }, s, now);
  });

  it('refuses malformed time and nonce values (1001)', () => {
    const s = store();
    for (const time of [now, '', '12a', '-1', `${now}.5`, undefined])
      throwsCode(() => checkReplay({ appId: 'a', time, nonce: 1 }, s, now), '1001');
    for (const nonce of [-1, 100_000_000, 1.5, '5', null, Number.NaN])
      throwsCode(() => checkReplay({ appId: 'a', time: String(now), nonce }, s, now), '1001');
    checkReplay({ appId: 'a', time: String(now), nonce: 0 }, s, now);
    checkReplay({ appId: 'a', time: String(now), nonce: 99_999_999 }, s, now);
  });

  it('forgets a nonce after the window and prunes old entries', () => {
    const s = store();
    checkReplay({ appId: 'a', time: String(now), nonce: 9 }, s, now);
    for (let i = 0; i < 10; i++)
      checkReplay({ appId: 'a', time: String(now), nonce: 100 + i }, s, now);
    assert.equal(s.size(), 11);
    const later = now + 301_000;
    checkReplay({ appId: 'a', time: String(later), nonce: 9 }, s, later);
    assert.equal(s.size(), 1);
  });

  it('remembers nonces across restarts (SQLite file)', () => {
    const file = join(dir, 'nonces.db');
    const db1 = new Database(file);
    checkReplay({ appId: 'a', time: String(now), nonce: 77 }, new SqliteNonceStore(db1), now);
    db1.close();
    const db2 = new Database(file);
    throwsCode(
      () =>
        checkReplay({ appId: 'a', time: String(now), nonce: 77 }, new SqliteNonceStore(db2), now),
      '1004',
    );
    db2.close();
  });
});

describe('response signatures', () => {
  it('signs the exact body bytes and refuses any change', () => {
    const key = generateSm2KeyPair();
    const body = Buffer.from('{"code":"0","message":"success","data":"印章"}');
    const sig = signResponseBody(body, key);
    assert.equal(verifyResponseBody(body, sig, key.publicKey), true);
    const changed = Buffer.from(body);
    changed[changed.length - 2] = changed[changed.length - 2]! ^ 1;
    assert.equal(verifyResponseBody(changed, sig, key.publicKey), false);
    assert.equal(verifyResponseBody(body, undefined, key.publicKey), false);
    assert.equal(verifyResponseBody(body, 'AAAA', key.publicKey), false);
    assert.equal(verifyResponseBody(body, sig, generateSm2KeyPair().publicKey), false);
  });

  it('takes the platform key as a point, an SPKI or PEM', () => {
    const key = generateSm2KeyPair();
    const spki = sm2Spki(key.publicKey);
    assert.deepEqual(platformPublicPoint(key.publicKey), key.publicKey);
    assert.deepEqual(platformPublicPoint(key.publicKey.subarray(1)), key.publicKey);
    assert.deepEqual(platformPublicPoint(spki), key.publicKey);
    assert.deepEqual(platformPublicPoint(spkiToPem(spki)), key.publicKey);
    throwsCode(() => platformPublicPoint('not a key'), '1001');
  });
});
