// The built SDK (sdk/jsapi-client/dist, what web apps load) against the agent: its canonicalString
// must give the agent's bytes or the same 1001, its contract constants must be the agent's, and its
// declarations must resolve for a consumer's TypeScript (they reference main/common's, shipped in
// dist/types).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import fc from 'fast-check';
import ts from 'typescript';
import { canonicalString as agentCanonical } from '../../main/core/platform/canonical';
import { ResultCode as AgentCodes } from '../../main/common/codes';
import { DEFAULT_JSAPI_PORT, JSAPI_PATHS } from '../../main/common/jsapi';
import type * as Sdk from '../../sdk/jsapi-client/src/index';
import type * as SdkCanonical from '../../sdk/jsapi-client/src/canonical';
import { SDK_DIST, buildSdk } from '../helpers/chromium';

// tsc with module commonjs rewrites `import()` into `require()`; the bundle is ESM.
const esmImport = new Function('s', 'return import(s)') as <T>(specifier: string) => Promise<T>;

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

/** A web app's TypeScript using the package; wrong uses must fail, so `any` types would show. */
const CONSUMER = `
import { AgentClient, AgentError, ClientErrorCode, ResultCode } from '@ukey-agent/jsapi-client';
import type { UKeyInfo, UKeySignRequest, WsAnswer } from '@ukey-agent/jsapi-client';
import { canonicalBytes, canonicalString } from '@ukey-agent/jsapi-client/canonical';

const declined: '2003' = ResultCode.DECLINED;
const unreachable: 'AGENT_UNREACHABLE' = ClientErrorCode.UNREACHABLE;
const fields = { version: '1.0', appId: 'a', signId: 's', sealCode: 'c', docHash: 'AA==' };
const text: string = canonicalString(fields);
const bytes: Uint8Array = canonicalBytes(fields);
const req: UKeySignRequest = { ...fields, hashType: 4, sign: text };
const answer: WsAnswer<UKeyInfo> = { id: 1, code: ResultCode.OK, message: '', data: null };
async function use(client: AgentClient): Promise<string> {
  try {
    return await client.sign(req);
  } catch (e) {
    return e instanceof AgentError ? e.code : '';
  }
}
// @ts-expect-error certData is a string
const wrong: UKeyInfo = { UKeyId: 'k', certData: 1 };
// @ts-expect-error not a contract code
const unknownCode: ResultCode = '9999';
export { declined, unreachable, text, bytes, answer, use, wrong, unknownCode };
`;

describe('the built SDK against the agent', () => {
  let sdk: typeof Sdk;
  let sdkCanonical: typeof SdkCanonical;
  const dir = mkdtempSync(join(tmpdir(), 'sdk-consumer-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  before(async () => {
    buildSdk();
    sdk = await esmImport<typeof Sdk>(pathToFileURL(join(SDK_DIST, 'index.js')).href);
    sdkCanonical = await esmImport<typeof SdkCanonical>(
      pathToFileURL(join(SDK_DIST, 'canonical.js')).href,
    );
  });

  it('canonicalString equals the agent’s for random requests (output or the same 1001)', () => {
    fc.assert(
      fc.property(request, (r) => {
        const agent = run(agentCanonical, r);
        assert.deepEqual(run(sdk.canonicalString, r), agent);
        assert.deepEqual(run(sdkCanonical.canonicalString, r), agent);
      }),
      { numRuns: 3000 },
    );
  });

  it('both equal a reference written from CONTRACT §1 (keys sorted by Buffer.compare of UTF-8)', () => {
    // Keys and values that are always signable, so the reference needs no value formatting.
    const name = fc
      .oneof(
        fc.string({ unit: 'grapheme', maxLength: 4 }),
        fc.string({ unit: 'binary', maxLength: 3 }),
      )
      .filter((k) => k !== '' && k !== 'sign' && !/[=&]/.test(k));
    const fields = fc.dictionary(name, fc.string({ unit: 'grapheme', maxLength: 5 }), {
      maxKeys: 10,
    });
    const reference = (f: Record<string, string>): string =>
      Object.entries(f)
        .filter(([, v]) => v !== '')
        .sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
        .map(([k, v]) => `${k}=${v}`)
        .join('&');
    fc.assert(
      fc.property(fields, (f) => {
        assert.equal(agentCanonical(f), reference(f));
        assert.equal(sdk.canonicalString(f), reference(f));
      }),
      { numRuns: 3000 },
    );
  });

  it('canonicalString: fixed cases, UTF-8 byte order, errors are the SDK’s AgentError 1001', () => {
    const r = { sign: 'x', b: 2, a: '1', '\u{1F600}': 'astral', '\uffff': 'bmp', e: '', n: null };
    assert.equal(sdk.canonicalString(r), 'a=1&b=2&\uffff=bmp&\u{1F600}=astral');
    assert.equal(sdk.canonicalString(r), agentCanonical(r));
    assert.deepEqual(
      Buffer.from(sdkCanonical.canonicalBytes({ type: '1', appId: 'app' })),
      Buffer.from('appId=app&type=1'),
    );
    // Both entry points share one AgentError class (one chunk), so instanceof holds across them.
    for (const f of [sdk.canonicalString, sdkCanonical.canonicalString])
      assert.throws(
        () => f({ a: { b: 1 } }),
        (e: unknown) => e instanceof sdk.AgentError && e.code === '1001' && sdk.isAgentError(e),
      );
  });

  it('result codes, paths and port equal main/common', () => {
    assert.deepEqual({ ...sdk.ResultCode }, { ...AgentCodes });
    assert.deepEqual({ ...sdk.JSAPI_PATHS }, { ...JSAPI_PATHS });
    assert.equal(sdk.DEFAULT_JSAPI_PORT, DEFAULT_JSAPI_PORT);
    // Client-side codes are never digit strings, so they cannot collide with future contract codes.
    for (const c of Object.values(sdk.ClientErrorCode)) assert.doesNotMatch(c, /^\d+$/);
  });

  it('declarations resolve for a consumer (moduleResolution node16 and bundler)', () => {
    const scope = join(dir, 'node_modules', '@ukey-agent');
    mkdirSync(scope, { recursive: true });
    symlinkSync(join(SDK_DIST, '..'), join(scope, 'jsapi-client'), 'dir');
    writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
    const file = join(dir, 'consumer.ts');
    writeFileSync(file, CONSUMER);
    const common: ts.CompilerOptions = {
      target: ts.ScriptTarget.ES2020,
      lib: ['lib.es2020.d.ts', 'lib.dom.d.ts'],
      types: [],
      strict: true,
      noEmit: true,
      skipLibCheck: false,
    };
    for (const resolution of ['node16', 'bundler'] as const) {
      const options: ts.CompilerOptions = {
        ...common,
        ...(resolution === 'node16'
          ? { module: ts.ModuleKind.Node16, moduleResolution: ts.ModuleResolutionKind.Node16 }
          : { module: ts.ModuleKind.ES2020, moduleResolution: ts.ModuleResolutionKind.Bundler }),
      };
      const program = ts.createProgram([file], options);
      const errors = ts.getPreEmitDiagnostics(program).map((d) => {
        const where = d.file ? `${d.file.fileName}:${d.start ?? 0}: ` : '';
        return where + ts.flattenDiagnosticMessageText(d.messageText, '\n');
      });
      assert.deepEqual(errors, [], resolution);
    }
  });
});
