import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AgentError } from '../../main/common/errors';
import {
  OPERATOR_EVENTS,
  OPERATOR_METHODS,
  methodOfChannel,
  operatorChannel,
  validateRequest,
} from '../../main/common/ipc-channels';
import type { OperatorMethod } from '../../main/common/operator-api';
import { PRELOAD_EVENTS, PRELOAD_METHODS } from '../../main/preload/preload';

const bad = (field: string) => (e: unknown) =>
  e instanceof AgentError && e.code === '1001' && e.message.includes(field);

describe('operator IPC channels', () => {
  it('derives one allowlisted channel per method, and nothing else maps back', () => {
    assert.ok(OPERATOR_METHODS.length >= 42);
    assert.ok(OPERATOR_METHODS.includes('settings.modules'));
    assert.ok(OPERATOR_METHODS.includes('settings.platform'));
    for (const m of OPERATOR_METHODS) assert.equal(methodOfChannel(operatorChannel(m)), m);
    assert.equal(methodOfChannel('operator:keys.nuke'), undefined);
    assert.equal(methodOfChannel('operator:__proto__'), undefined);
    assert.equal(methodOfChannel('operator:constructor'), undefined);
    assert.equal(methodOfChannel('keys.list'), undefined);
    assert.equal(methodOfChannel(42), undefined);
  });

  it("the preload's own allowlist is the same as the contract's", () => {
    assert.deepEqual([...PRELOAD_METHODS].sort(), [...OPERATOR_METHODS].sort());
    assert.deepEqual([...PRELOAD_EVENTS].sort(), [...OPERATOR_EVENTS].sort());
  });

  it('accepts well-formed requests and drops absent optionals', () => {
    assert.deepEqual(validateRequest('keys.list', {}), {});
    assert.deepEqual(
      validateRequest('keys.generate', { ukeyId: 'k1', algorithm: 'sm2', label: 'seal' }),
      { ukeyId: 'k1', algorithm: 'sm2', label: 'seal' },
    );
    assert.deepEqual(validateRequest('approvals.list', { limit: undefined }), {});
    assert.deepEqual(validateRequest('settings.modules', {}), {});
    assert.deepEqual(validateRequest('settings.platform', {}), {});
    assert.deepEqual(
      validateRequest('approvals.decide', {
        requestId: 'r1',
        decision: 'approved',
        batch: { count: 5, ttlMs: 3_600_000 },
      }),
      { requestId: 'r1', decision: 'approved', batch: { count: 5, ttlMs: 3_600_000 } },
    );
  });

  it('refuses malformed payloads, naming the field', () => {
    assert.throws(() => validateRequest('keys.list', null), bad('request must be an object'));
    assert.throws(() => validateRequest('keys.list', []), bad('request must be an object'));
    assert.throws(() => validateRequest('keys.list', { x: 1 }), bad('request.x is unknown'));
    assert.throws(
      () => validateRequest('settings.modules', { path: '/tmp/x.so' }),
      bad('request.path is unknown'),
    );
    assert.throws(
      () => validateRequest('keys.generate', { ukeyId: 'k', algorithm: 'dsa', label: 'l' }),
      bad('request.algorithm'),
    );
    assert.throws(() => validateRequest('keys.certificates', { ukeyId: '' }), bad('ukeyId'));
    assert.throws(() => validateRequest('policies.revoke', { id: 1.5 }), bad('request.id'));
    assert.throws(
      () => validateRequest('apps.add', { appId: 'a', publicKey: 'x', origins: [] }),
      bad('request.origins'),
    );
    assert.throws(
      () => validateRequest('approvals.decide', { requestId: 'r', decision: 'maybe' }),
      bad('request.decision'),
    );
    assert.throws(
      () => validateRequest('settings.set', { key: 'dataDir', value: '/tmp' }),
      bad('request.key'),
    );
    assert.throws(
      () => validateRequest('settings.set', { key: 'autoStart', value: { a: 1 } }),
      bad('request.value'),
    );
    // Objects with a foreign prototype (class instances, proxies of them) are not plain requests.
    assert.throws(() => validateRequest('keys.list', new Date()), bad('request must be an object'));
  });

  it('refuses an unknown method at run time', () => {
    assert.throws(
      () => validateRequest('keys.nuke' as OperatorMethod, {}),
      bad('unknown operator method'),
    );
  });

  it('takes exactly one document or upload source (path | stagedId | contentBase64)', () => {
    const id = '0123456789abcdef0123456789abcdef';
    assert.deepEqual(validateRequest('documents.verify', { path: '/a.pdf' }), { path: '/a.pdf' });
    assert.deepEqual(validateRequest('documents.verify', { stagedId: id }), { stagedId: id });
    assert.deepEqual(
      validateRequest('documents.verify', { contentBase64: 'JVBERi0=', filename: 'a.pdf' }),
      { contentBase64: 'JVBERi0=', filename: 'a.pdf' },
    );
    assert.throws(
      () => validateRequest('documents.verify', { path: '/a.pdf', stagedId: id }),
      bad('exactly one of path, stagedId, contentBase64'),
    );
    assert.throws(() => validateRequest('documents.verify', {}), bad('exactly one of'));
    assert.throws(
      () => validateRequest('documents.verify', { contentBase64: 'JVBERi0=' }),
      bad('request.filename'),
    );
    assert.throws(
      () => validateRequest('documents.verify', { stagedId: '../../etc/passwd' }),
      bad('request.stagedId'),
    );
    assert.deepEqual(validateRequest('relay.upload', { stagedId: id }), { stagedId: id });
    assert.throws(
      () => validateRequest('relay.upload', { stagedId: id, localPath: '/x' }),
      bad('exactly one of'),
    );
    assert.deepEqual(validateRequest('relay.download', { fileId: 'f1' }), { fileId: 'f1' });
  });

  it('checks the console additions: PIN answers, certificate export, cloud application', () => {
    assert.deepEqual(validateRequest('pins.answer', { requestId: 'r1', pin: '123456' }), {
      requestId: 'r1',
      pin: '123456',
    });
    assert.deepEqual(validateRequest('pins.answer', { requestId: 'r1', cancel: true }), {
      requestId: 'r1',
      cancel: true,
    });
    assert.throws(
      () => validateRequest('pins.answer', { requestId: 'r1', pin: 123456 }),
      bad('request.pin'),
    );
    // A 'passphrase' prompt is answered the same way; a passphrase may be longer than a PIN.
    const passphrase = 'correct horse battery staple '.repeat(9).slice(0, 256);
    assert.equal(
      validateRequest('pins.answer', { requestId: 'r1', pin: passphrase }).pin,
      passphrase,
    );
    assert.throws(
      () => validateRequest('pins.answer', { requestId: 'r1', pin: `${passphrase}x` }),
      bad('request.pin'),
    );
    assert.throws(
      () => validateRequest('keys.exportCert', { ukeyId: 'u', sha256: 'abc' }),
      bad('request.sha256'),
    );
    const cloud = {
      sealCode: 'ES1',
      orgCode: 'ORG',
      mobile: '13900000001',
      credentNo: '110101199001011234',
      docHash: 'AAAA',
      hashType: 4,
      format: 'P1',
    };
    assert.deepEqual(validateRequest('cloud.apply', cloud), cloud);
    assert.throws(
      () => validateRequest('cloud.apply', { ...cloud, format: 'P9' }),
      bad('request.format'),
    );
    const { mobile: _m, ...noMobile } = cloud;
    assert.throws(() => validateRequest('cloud.apply', noMobile), bad('request.mobile'));
    assert.deepEqual(validateRequest('seals.query', { orgCode: 'O', sealType: '0', certType: 2 }), {
      orgCode: 'O',
      sealType: '0',
      certType: 2,
    });
    for (const e of ['pin.requested', 'pin.resolved', 'relay.state'])
      assert.ok(OPERATOR_EVENTS.includes(e as never), e);
  });
});
