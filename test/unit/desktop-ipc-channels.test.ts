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
    assert.ok(OPERATOR_METHODS.length >= 37);
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
});
