import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sm3HexOf } from '../../main/core/crypto/sm3';
import { canonicalJson } from '../../main/core/audit/canonical-json';
import { REDACTED, redactForAudit } from '../../main/core/audit/redact';

describe('canonical JSON (RFC 8785)', () => {
  it('sorts keys by UTF-16 code units, recursively, with no whitespace', () => {
    assert.equal(
      canonicalJson({
        b: [3, { z: 1, a: 'x' }],
        a: null,
        A: true,
        é: 1,
        '\u20ac': 2,
        '\ud83d\ude00': 3,
      }),
      '{"A":true,"a":null,"b":[3,{"a":"x","z":1}],"é":1,"€":2,"😀":3}',
    );
  });
  it('writes numbers and strings as ECMAScript does, drops undefined members, refuses NaN', () => {
    assert.equal(
      canonicalJson([1e21, 0.1, -0, 'a"\\\n\u0001']),
      '[1e+21,0.1,0,"a\\"\\\\\\n\\u0001"]',
    );
    assert.equal(canonicalJson({ a: undefined, b: 1 }), '{"b":1}');
    assert.throws(() => canonicalJson(NaN));
    assert.throws(() => canonicalJson({ f: () => 1 }));
  });
});

describe('raw entry redaction', () => {
  it('removes PINs, passwords, secrets and private keys wherever they are', () => {
    const out = redactForAudit({
      pin: '123456',
      userPin: '1',
      so_pin: '2',
      'new-pin': '3',
      Password: 'p',
      clientSecret: 's',
      nested: [{ passphrase: 'x', keep: 'y' }],
      pem: '-----BEGIN EC PRIVATE KEY-----\nMHcC\n-----END EC PRIVATE KEY-----',
      docHash: 'q83vEjRWeJA=',
      UKeyId: 'SUK1',
      sign: 'MEUCIQ==',
    });
    assert.deepEqual(out, {
      pin: REDACTED,
      userPin: REDACTED,
      so_pin: REDACTED,
      'new-pin': REDACTED,
      Password: REDACTED,
      clientSecret: REDACTED,
      nested: [{ passphrase: REDACTED, keep: 'y' }],
      pem: REDACTED,
      docHash: 'q83vEjRWeJA=',
      UKeyId: 'SUK1',
      sign: 'MEUCIQ==',
    });
  });

  it('cuts big values to a prefix and the SM3 of the whole; bounds arrays and depth', () => {
    const big = 'A'.repeat(10_000);
    const out = redactForAudit({ file: big, list: Array.from({ length: 150 }, (_, i) => i) }) as {
      file: string;
      list: unknown[];
    };
    assert.ok(out.file.startsWith('A'.repeat(256) + '…[truncated: 10000 characters, sm3 '));
    assert.ok(out.file.includes(sm3HexOf(big)));
    assert.equal(out.list.length, 101);
    assert.equal(out.list[100], '[50 more items]');
    let deep: unknown = 'bottom';
    for (let i = 0; i < 20; i++) deep = { d: deep };
    assert.ok(canonicalJson(redactForAudit(deep)).includes('[too deep]'));
    assert.equal(redactForAudit(Buffer.from('hi')), 'aGk=');
    assert.equal(redactForAudit(undefined), null);
  });
});
