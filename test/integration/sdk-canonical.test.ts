// The SDK mirrors the agent's contract pieces (it is browser ESM and cannot import main/): these
// checks fail when either side changes without the other.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { canonicalString as agentCanonical } from '../../main/core/platform/canonical';
import { ResultCode as AgentCodes } from '../../main/common/codes';
import type * as Agent from '../../main/common/jsapi';
import { DEFAULT_JSAPI_PORT, JSAPI_PATHS } from '../../main/common/jsapi';
import {
  AgentError,
  ClientErrorCode,
  DEFAULT_JSAPI_PORT as SDK_PORT,
  JSAPI_PATHS as SDK_PATHS,
  ResultCode as SdkCodes,
  canonicalBytes,
  canonicalString as sdkCanonical,
} from '../../sdk/jsapi-client/src/index';
import type * as Sdk from '../../sdk/jsapi-client/src/index';

// Compile-time: the mirrored wire types are mutually assignable (tsc fails on drift).
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const typesInSync: [
  Same<Agent.UKeyInfoRequest, Sdk.UKeyInfoRequest>,
  Same<Agent.UKeySignRequest, Sdk.UKeySignRequest>,
  Same<Agent.UKeyInfo, Sdk.UKeyInfo>,
  Same<Agent.AgentStatus, Sdk.AgentStatus>,
  Same<Agent.WsRequest, Sdk.WsRequest>,
  Same<Agent.WsAnswer, Sdk.WsAnswer>,
  Same<Agent.WsEvent, Sdk.WsEvent>,
] = [true, true, true, true, true, true, true];

type Outcome = { ok: string } | { code: string; message: string };
const run = (f: (x: Record<string, unknown>) => string, x: Record<string, unknown>): Outcome => {
  try {
    return { ok: f(x) };
  } catch (e) {
    const err = e as { code: string; message: string };
    return { code: err.code, message: err.message };
  }
};

const key = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 6 }),
  fc.string({ unit: 'binary', maxLength: 4 }), // astral and lone surrogates: UTF-8 vs UTF-16 order
  fc.constantFrom('sign', 'UKeyId', 'appId', 'a=b', 'a&b', '', 'docHash', 'Ω', '😀', '\uffff'),
);
const value = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 12 }),
  fc.constant(''),
  fc.integer(),
  fc.double(),
  fc.constantFrom(0, -0, 1e21, 1e-7, 123.5, Number.MAX_SAFE_INTEGER),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.bigInt(),
  fc.constant([1]),
  fc.constant({ a: 1 }),
);
const request = fc.dictionary(key, value, { maxKeys: 8 });

describe('SDK mirrors of the contract', () => {
  it('canonicalString equals the agent’s for random requests (output or the same 1001)', () => {
    assert.ok(typesInSync.every(Boolean));
    fc.assert(
      fc.property(request, (r) => {
        assert.deepEqual(run(sdkCanonical, r), run(agentCanonical, r));
      }),
      { numRuns: 3000 },
    );
  });

  it('canonicalString: fixed cases, UTF-8 byte order, errors are AgentError 1001', () => {
    const r = { sign: 'x', b: 2, a: '1', '\u{1F600}': 'astral', '\uffff': 'bmp', e: '', n: null };
    assert.equal(sdkCanonical(r), 'a=1&b=2&\uffff=bmp&\u{1F600}=astral');
    assert.equal(sdkCanonical(r), agentCanonical(r));
    assert.deepEqual(
      Buffer.from(canonicalBytes({ type: '1', appId: 'app' })),
      Buffer.from('appId=app&type=1'),
    );
    assert.throws(
      () => sdkCanonical({ a: { b: 1 } }),
      (e: unknown) => e instanceof AgentError && e.code === '1001',
    );
  });

  it('result codes, paths and port equal main/common', () => {
    assert.deepEqual({ ...SdkCodes }, { ...AgentCodes });
    assert.deepEqual({ ...SDK_PATHS }, { ...JSAPI_PATHS });
    assert.equal(SDK_PORT, DEFAULT_JSAPI_PORT);
    // Client-side codes are never digit strings, so they cannot collide with future contract codes.
    for (const c of Object.values(ClientErrorCode)) assert.doesNotMatch(c, /^\d+$/);
  });
});
