import fc from 'fast-check';
import { http } from '../helpers/agent-harness';
import { freshSignId } from '../helpers/agent-harness';
import { signRequest } from '../../main/core/platform/canonical';
import { APP_ID, FOREIGN, ORIGINS, SM2_ID, rawHttp, stillAnswers, wsClient } from './agent-world';
import type { HardenedAgent, WsClient } from './agent-world';
import { checkHttpEnvelope, checkWsAnswer } from './envelope';

export type FuzzTarget = 'status' | 'ukey/info' | 'ukey/sign' | 'ws';

export interface FuzzReport {
  target: FuzzTarget;
  cases: number;
  failures: string[];
  codes: Record<string, number>;
  ms: number;
}

/** Any value a field could hold on the wire. */
const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.base64String({ maxLength: 200 }),
  fc.stringMatching(/^\d{1,20}$/),
  fc.integer(),
  fc.integer({ min: -5, max: 10 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(0, -0, 1e21, 2 ** 53, -1, 1.5, Number.MAX_SAFE_INTEGER),
  fc.boolean(),
  fc.constant(null),
  fc.constant(''),
  fc.jsonValue({ maxDepth: 3 }),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 3 }),
);

/** A field: absent, a plausible value, or anything. */
const field = (plausible: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> =>
  fc.oneof(
    { weight: 1, arbitrary: fc.constant(undefined) },
    { weight: 3, arbitrary: plausible },
    { weight: 2, arbitrary: anyValue },
  );

const digest = fc
  .uint8Array({ minLength: 0, maxLength: 70 })
  .map((b) => Buffer.from(b).toString('base64'));

const INFO_NAMES = ['version', 'appId', 'type', 'UKeyId', 'time', 'nonce', 'sign'];
const SIGN_NAMES = [
  'version',
  'appId',
  'signId',
  'hashType',
  'signFormat',
  'sealCode',
  'docHash',
  'UKeyId',
  'time',
  'nonce',
  'sign',
];

/** Up to three fields of a valid body replaced by anything, dropped, or added under odd names. */
const mutations = (names: string[]): fc.Arbitrary<[string, unknown][]> =>
  fc.oneof(
    { weight: 2, arbitrary: fc.constant<[string, unknown][]>([]) },
    { weight: 3, arbitrary: mutationList(names) },
  );

const mutationList = (names: string[]): fc.Arbitrary<[string, unknown][]> =>
  fc.array(
    fc.tuple(
      fc.oneof(
        { weight: 4, arbitrary: fc.constantFrom(...names) },
        { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
      ),
      fc.oneof(
        { weight: 1, arbitrary: fc.constant(undefined) },
        { weight: 4, arbitrary: anyValue },
      ),
    ),
    { minLength: 1, maxLength: 3 },
  );

const applied = (
  base: Record<string, unknown>,
  m: [string, unknown][],
): Record<string, unknown> => {
  const b = { ...base };
  for (const [k, v] of m) {
    if (k === '__proto__') continue;
    if (v === undefined) delete b[k];
    else b[k] = v;
  }
  return b;
};

/** Table 21 (ukey/info) bodies: near-valid (a valid body, mutated) or every field arbitrary. */
export const infoFields: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc
      .tuple(
        fc.record({
          version: fc.constant('1.0'),
          appId: fc.constant(APP_ID),
          type: fc.constantFrom('1', '2', 1, 2),
          UKeyId: fc.constantFrom(SM2_ID, 'SUKDEMO0002'),
        }),
        mutations(INFO_NAMES),
      )
      .map(([b, m]) => applied(b, m)),
  },
  fc.record(
    {
      version: field(fc.constantFrom('1.0', '2', '')),
      appId: field(fc.constantFrom(APP_ID, 'other-app', APP_ID.toUpperCase())),
      type: field(fc.constantFrom('1', '2', 1, 2, '3', 0, '01')),
      UKeyId: field(fc.constantFrom(SM2_ID, 'SUKDEMO0002', 'NOPE', '')),
      time: field(fc.constantFrom(String(Date.now()), '0')),
      nonce: field(fc.integer({ min: 0, max: 99_999_999 })),
      extra: field(fc.string({ maxLength: 8 })),
    },
    { requiredKeys: [] },
  ),
);

/** Table 19 (ukey/sign) bodies: near-valid or every field arbitrary. */
export const signFields: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc
      .tuple(
        fc.record({
          version: fc.constant('1.0'),
          appId: fc.constant(APP_ID),
          signId: fc.base64String({ minLength: 4, maxLength: 40 }),
          sealCode: fc.constant('(seal)'),
          hashType: fc.constantFrom(4, '4', undefined),
          signFormat: fc.constantFrom(1, 2, '1', '2', undefined),
          docHash: fc.oneof(fc.constant(Buffer.alloc(32, 1).toString('base64')), digest),
          UKeyId: fc.constantFrom(SM2_ID, 'SUKDEMO0002', undefined),
        }),
        mutations(SIGN_NAMES),
      )
      .map(([b, m]) => applied(b, m)),
  },
  fc.record(
    {
      version: field(fc.constantFrom('1.0', '')),
      appId: field(fc.constantFrom(APP_ID, 'other-app')),
      signId: field(fc.string({ minLength: 1, maxLength: 140 })),
      hashType: field(fc.constantFrom(1, 2, 3, 4, '4', '3', 5, '04')),
      signFormat: field(fc.constantFrom(1, 2, '1', '2', 3)),
      sealCode: field(fc.string({ minLength: 1, maxLength: 140 })),
      docHash: field(digest),
      UKeyId: field(fc.constantFrom(SM2_ID, 'SUKDEMO0002', 'NOPE')),
      time: field(fc.constantFrom(String(Date.now()), '1')),
      nonce: field(fc.integer({ min: 0, max: 99_999_999 })),
    },
    { requiredKeys: [] },
  ),
);

export interface Variant {
  fields: Record<string, unknown>;
  /** sign properly, leave unsigned, or put an arbitrary `sign`. */
  signing: 'signed' | 'none' | 'garbage';
  garbage: unknown;
  origin: string | null;
  /** ukey/sign only: use a real signId for the real seal. */
  realSignId: boolean;
  /** What the signer answers if the case reaches the approval: the decline path is fuzzed too. */
  decision: 'approved' | 'declined';
}

/** The Origin a case comes from: mostly registered ones, else foreign, absent (null) or "null". */
const originArb: fc.Arbitrary<string | null> = fc.constantFrom(
  ORIGINS[0]!,
  ORIGINS[1]!,
  ORIGINS[2]!,
  ORIGINS[0]!,
  FOREIGN,
  null,
  'null',
);

const variant = (fields: fc.Arbitrary<Record<string, unknown>>): fc.Arbitrary<Variant> =>
  fc.record({
    fields,
    signing: fc.constantFrom('signed', 'signed', 'signed', 'signed', 'none', 'garbage'),
    garbage: anyValue,
    origin: originArb,
    realSignId: fc.oneof(
      { weight: 1, arbitrary: fc.constant(true) },
      { weight: 4, arbitrary: fc.constant(false) },
    ),
    decision: fc.constantFrom<'approved' | 'declined'>('approved', 'approved', 'declined'),
  });

/** Builds the body a variant describes (undefined fields dropped). */
async function build(
  h: HardenedAgent,
  v: Variant,
  sign: boolean,
): Promise<Record<string, unknown>> {
  const b: Record<string, unknown> = {};
  for (const [k, val] of Object.entries(v.fields)) if (val !== undefined) b[k] = val;
  const ukeyId = typeof b.UKeyId === 'string' && h.world.seals[b.UKeyId] ? b.UKeyId : SM2_ID;
  if (b.sealCode === '(seal)') b.sealCode = h.world.seals[ukeyId];
  if (sign && v.realSignId) {
    // A real signId for the real seal: the request reaches the platform, the policy and the key.
    const s = await freshSignId(h.world, ukeyId);
    if (typeof b.signId === 'string') b.signId = s.signId;
    if (typeof b.sealCode === 'string' && b.sealCode === h.world.seals[ukeyId])
      b.sealCode = s.sealCode;
  }
  if (v.signing === 'garbage') b.sign = v.garbage;
  if (v.signing === 'signed') {
    try {
      return await signRequest(
        { ...b, appId: typeof b.appId === 'string' ? b.appId : APP_ID },
        h.signer,
      );
    } catch {
      b.sign = 'MEUCIQ==';
    }
  }
  return b;
}

/** Keeps echoes of the request out of the leak check: a message may quote what the caller sent. */
const echoes = (message: string, request: string): boolean =>
  ['/work', '/tmp', 'node_modules'].some((p) => message.includes(p) && request.includes(p));

/** A WebSocket upgrade from `origin` (none when null), read raw: the refusal is an envelope. */
const upgradeFrom = (port: number, origin: string | null): ReturnType<typeof rawHttp> =>
  rawHttp(
    port,
    `GET /api/v1/ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n${origin === null ? '' : `Origin: ${origin}\r\n`}Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`,
    { timeoutMs: 5_000 },
  );

/**
 * Runs `cases` property cases against one target. A case that breaks the contract fails the
 * property, which fast-check then shrinks: the report names the smallest failing input found.
 */
export async function fuzzTarget(
  h: HardenedAgent,
  target: FuzzTarget,
  cases: number,
  seed: number,
): Promise<FuzzReport> {
  const t0 = Date.now();
  const failures: string[] = [];
  const codes: Record<string, number> = {};
  const note = (c: string | undefined): void => {
    if (c) codes[c] = (codes[c] ?? 0) + 1;
  };
  /** What the case being run broke; a non-empty list fails the property. */
  let problems: string[] = [];
  const fail = (what: string, input: unknown): void => {
    problems.push(`${what} — input ${JSON.stringify(input)?.slice(0, 300)}`);
  };

  const httpCase = async (
    path: string,
    body: string | Buffer,
    origin: string | null,
  ): Promise<void> => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (origin !== null) headers.origin = origin;
    const r = await http(h.port, 'POST', path, { body, headers });
    const c = checkHttpEnvelope(r.status, r.text);
    note(c.code);
    if (!c.ok && !echoes(r.text, body.toString())) fail(`${path}: ${c.problem}`, body.toString());
  };

  const run = async (
    arb: fc.Arbitrary<unknown>,
    body: (x: never) => Promise<void>,
  ): Promise<void> => {
    const details = await fc.check(
      fc.asyncProperty(arb, async (x) => {
        problems = [];
        await body(x as never);
        if (problems.length) throw new Error(problems.join('\n'));
      }),
      { numRuns: cases, seed },
    );
    if (!details.failed) return;
    const why = details.errorInstance instanceof Error ? details.errorInstance.message : 'failed';
    failures.push(
      `${why.slice(0, 1_000)} — shrunk input ${fc.stringify(details.counterexample?.[0]).slice(0, 500)} (seed ${seed}, path ${details.counterexamplePath}, ${details.numShrinks} shrinks)`,
    );
  };

  if (target === 'status') {
    await run(
      fc.record({
        method: fc.constantFrom('GET', 'POST', 'PUT', 'GET'),
        q: fc.string({ maxLength: 20 }),
        body: fc.json(),
      }),
      async (x: { method: string; q: string; body: string }) => {
        const r = await http(h.port, x.method, `/api/v1/status?${encodeURIComponent(x.q)}`, {
          body: x.method === 'GET' ? undefined : x.body,
          headers: { 'content-type': 'application/json', origin: ORIGINS[0]! },
        });
        const c = checkHttpEnvelope(r.status, r.text);
        note(c.code);
        if (!c.ok) fail(`status: ${c.problem}`, x);
        if (x.method === 'GET' && c.code !== '0') fail(`status answered ${c.code}`, x);
      },
    );
  } else if (target === 'ukey/info' || target === 'ukey/sign') {
    const path = `/api/v1/${target}`;
    const fields = target === 'ukey/info' ? infoFields : signFields;
    await run(
      fc.oneof(
        { weight: 6, arbitrary: variant(fields).map((v) => ({ kind: 'variant' as const, v })) },
        { weight: 2, arbitrary: fc.jsonValue().map((j) => ({ kind: 'json' as const, j })) },
        {
          weight: 1,
          arbitrary: fc.uint8Array({ maxLength: 200 }).map((b) => ({ kind: 'bytes' as const, b })),
        },
      ),
      async (
        x:
          | { kind: 'variant'; v: Variant }
          | { kind: 'json'; j: unknown }
          | { kind: 'bytes'; b: Uint8Array },
      ) => {
        if (x.kind === 'json') return httpCase(path, JSON.stringify(x.j) ?? 'null', ORIGINS[0]!);
        if (x.kind === 'bytes') return httpCase(path, Buffer.from(x.b), ORIGINS[1]!);
        const body = await build(h, x.v, target === 'ukey/sign');
        h.approvals.fallback = x.v.decision;
        return httpCase(path, JSON.stringify(body), x.v.origin);
      },
    );
  } else {
    // One connection per registered origin, opened when a case first comes from it.
    const clients = new Map<string, WsClient>();
    const clientFor = async (origin: string): Promise<WsClient> => {
      let c = clients.get(origin);
      if (!c || !c.open()) {
        c = await wsClient(h.port, origin);
        clients.set(origin, c);
      }
      return c;
    };
    // The connection comes from the case's origin: the variant's for built frames, a generated one
    // for raw frames.
    const raw = (
      text: fc.Arbitrary<string>,
    ): fc.Arbitrary<{ raw: string; origin: string | null }> =>
      fc.record({ raw: text, origin: originArb });
    await run(
      fc.oneof(
        {
          weight: 6,
          arbitrary: fc.record({
            id: fc.oneof(fc.integer(), fc.string({ maxLength: 10 }), anyValue),
            method: fc.oneof(fc.constantFrom('ukey.info', 'ukey.sign', 'status'), anyValue),
            v: variant(fc.oneof(infoFields, signFields)),
            paramsKind: fc.constantFrom('body', 'body', 'any', 'absent'),
            anyParams: anyValue,
          }),
        },
        { weight: 2, arbitrary: raw(fc.jsonValue().map((j) => JSON.stringify(j) ?? 'null')) },
        { weight: 1, arbitrary: raw(fc.string({ unit: 'binary', maxLength: 100 })) },
      ),
      async (x: {
        raw?: string;
        origin?: string | null;
        id?: unknown;
        method?: unknown;
        v?: Variant;
        paramsKind?: string;
        anyParams?: unknown;
      }) => {
        const origin = x.v ? x.v.origin : (x.origin ?? null);
        if (origin === null || !ORIGINS.includes(origin)) {
          // Cross-origin WebSocket hijacking: the upgrade itself is refused, 403 / 1005.
          const r = await upgradeFrom(h.port, origin);
          const chk = checkHttpEnvelope(r.status, r.body);
          note(chk.code);
          if (!chk.ok) return fail(`ws upgrade from ${origin}: ${chk.problem}`, r.head);
          if (chk.code !== '1005' || r.status !== 403)
            fail(`ws upgrade from ${origin}: HTTP ${r.status} / ${chk.code}, not 403 / 1005`, x);
          return;
        }
        let c: WsClient;
        try {
          c = await clientFor(origin);
        } catch (e) {
          return fail(`ws: the upgrade from registered ${origin} failed: ${String(e)}`, x);
        }
        let text: string;
        let id: unknown = null;
        if (x.raw !== undefined) text = x.raw;
        else {
          const frame: Record<string, unknown> = { id: x.id, method: x.method };
          if (x.paramsKind === 'body') {
            frame.params = await build(h, x.v!, x.method === 'ukey.sign');
            h.approvals.fallback = x.v!.decision;
          } else if (x.paramsKind === 'any') frame.params = x.anyParams;
          text = JSON.stringify(frame);
          id = typeof x.id === 'string' || typeof x.id === 'number' ? x.id : null;
          if (typeof x.id === 'number' && !Number.isFinite(x.id)) id = null;
        }
        const a = await c.ask(text);
        if (!a) return fail('ws: no answer within 10 s', text);
        const chk = checkWsAnswer(a);
        note(chk.code);
        if (!chk.ok && !echoes(JSON.stringify(a), text)) fail(`ws: ${chk.problem}`, text);
        if (x.raw === undefined && (a as { id: unknown }).id !== (Object.is(id, -0) ? 0 : id))
          fail(
            `ws: answer id ${JSON.stringify((a as { id: unknown }).id)} for ${JSON.stringify(id)}`,
            text,
          );
      },
    );
    for (const c of clients.values()) c.close();
  }
  if (!(await stillAnswers(h.port))) failures.push(`${target}: the agent stopped answering`);
  return { target, cases, failures, codes, ms: Date.now() - t0 };
}
