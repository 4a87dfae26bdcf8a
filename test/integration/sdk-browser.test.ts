// The browser SDK in real Chromium against a real bridge: discovery, info and sign over WebSocket
// and HTTP (CORS preflight included), hot-plug events, typed errors and reconnect.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import type { Browser, Page } from 'playwright-core';
import { generateSm2KeyPair } from '../../main/core/crypto/sm2';
import { sm2Spki } from '../../main/core/pki/keys';
import { verifyDetachedSignedData } from '../../main/core/pki/cms';
import { parseCertificate } from '../../main/core/pki/certificate';
import { canonicalString } from '../../main/core/platform/canonical';
import { sm2RequestSigner } from '../../main/core/platform/request-signer';
import { JsapiService } from '../../main/core/bridge/jsapi-service';
import type { CallerApp, CallerRegistry } from '../../main/core/bridge/jsapi-service';
import { startBridge } from '../../main/core/bridge/bridge-server';
import { PairingService } from '../../main/core/bridge/pairing';
import { SqliteNonceStore } from '../../main/core/platform/nonce-store';
import { openAgentStore } from '../../main/core/store/agent-store';
import type { AgentStore } from '../../main/core/store/agent-store';
import { signRequest } from '../../main/core/platform/canonical';
import type { Bridge } from '../../main/core/bridge/bridge-server';
import { provisionSoftUKey } from '../../main/cli/commands/softukey';
import type * as Sdk from '../../sdk/jsapi-client/src/index';
import { ScriptedApprovals, freshSignId, signed, startWorld } from '../helpers/agent-harness';
import type { World } from '../helpers/agent-harness';
import { opensslSm2Verify } from '../helpers/openssl';
import { buildSdk, chromiumMissing, launchChromium, startPageServer } from '../helpers/chromium';
import type { AppRoute, PageServer } from '../helpers/chromium';

class MemoryApps implements CallerRegistry {
  constructor(private readonly apps: CallerApp[]) {}
  get = (id: string): CallerApp | undefined => this.apps.find((a) => a.appId === id);
  isOriginAllowed = (id: string, origin: string): boolean =>
    !!this.get(id)?.origins.includes(origin);
  isKnownOrigin = (origin: string): boolean => this.apps.some((a) => a.origins.includes(origin));
}

/** What the test page keeps on globalThis (set by TEST_PAGE and by setUp below). */
interface PageGlobals {
  sdk: typeof Sdk;
  client: Sdk.AgentClient;
  events: { name: string; data: unknown; t: number }[];
}

type CallResult =
  | { ok: true; data: unknown; transport: string }
  | { ok: false; code: string; message: string; isAgentError: boolean; transport: string };

const SM2_ID = 'SUKDEMO0001';

describe('JSAPI SDK in Chromium', { skip: chromiumMissing() }, () => {
  let w: World;
  let bridge: Bridge;
  let bridgePort = 0;
  let browser: Browser;
  let service: JsapiService;
  let apps: MemoryApps;
  /** Registered for demo-web. */
  let app: PageServer;
  /** Registered for another app only: a known origin (CORS, WebSocket) but not demo-web's. */
  let other: PageServer;
  /** Registered for nothing. */
  let stranger: PageServer;
  const approvals = new ScriptedApprovals();
  const appKey = generateSm2KeyPair();
  const signer = sm2RequestSigner('demo-web', appKey);

  // The app's server side: it holds the app key, gets a signId from the platform and signs the
  // body; the page only fetches the result.
  const appServer: AppRoute = async (req, body, res) => {
    if (req.method !== 'POST' || req.url !== '/app/jsapi-request') return false;
    const { method, fields } = JSON.parse(body) as {
      method: 'ukey.info' | 'ukey.sign';
      fields: Record<string, unknown>;
    };
    const extra = method === 'ukey.sign' ? await freshSignId(w, String(fields.UKeyId)) : {};
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(await signed(signer, { ...extra, ...fields })));
    return true;
  };

  // Pairing (an extension) keeps its trusted apps in a real agent store.
  let pairStore: AgentStore;
  let pairing: PairingService;
  const start = (port: number): Promise<Bridge> =>
    startBridge({
      service,
      apps,
      tokens: w.tokens,
      port,
      ratePerSecond: 200,
      rateBurst: 200,
      pairing,
    });

  before(async () => {
    buildSdk();
    [w, app, other, stranger, browser] = await Promise.all([
      startWorld(),
      startPageServer(appServer),
      startPageServer(appServer),
      startPageServer(appServer),
      launchChromium(),
    ]);
    apps = new MemoryApps([
      { appId: 'demo-web', publicKey: sm2Spki(appKey.publicKey), origins: [app.origin] },
      {
        appId: 'other-app',
        publicKey: sm2Spki(generateSm2KeyPair().publicKey),
        origins: [other.origin],
      },
    ]);
    service = new JsapiService({
      tokens: w.tokens,
      apps,
      platform: w.agentPlatform,
      host: approvals,
      approvalTimeoutMs: 3000,
    });
    pairStore = openAgentStore(mkdtempSync(join(tmpdir(), 'sdk-pair-')));
    pairing = new PairingService({
      apps: pairStore.apps,
      nonces: new SqliteNonceStore(pairStore.db),
    });
    bridge = await start(0);
    bridgePort = bridge.port;
  });
  after(async () => {
    await browser?.close();
    await bridge?.close();
    await Promise.all([app?.close(), other?.close(), stranger?.close()]);
    pairing?.close();
    pairStore?.close();
    await w?.close();
  });

  const openPage = async (server: PageServer): Promise<Page> => {
    const page = await browser.newPage();
    await page.goto(`${server.origin}/`);
    await page.waitForFunction(() => 'sdk' in globalThis);
    return page;
  };

  /** A client on the page with every event recorded; answers connect()'s outcome. */
  const setUp = (page: Page, opts: Sdk.AgentClientOptions) =>
    page.evaluate(async (o) => {
      const g = globalThis as unknown as PageGlobals;
      g.events = [];
      g.client = new g.sdk.AgentClient(o);
      for (const name of ['ukey.inserted', 'ukey.removed', 'connected', 'disconnected'] as const)
        g.client.on(name, (data) => g.events.push({ name, data, t: Date.now() }));
      try {
        const status = await g.client.connect();
        return { ok: true, status, transport: g.client.transport, baseUrl: g.client.baseUrl };
      } catch (e) {
        const err = e as Sdk.AgentError;
        return { ok: false, code: err.code, message: err.message, transport: g.client.transport };
      }
    }, opts);

  /** The page asks its server for a signed body, then calls the agent through the SDK. */
  const call = (
    page: Page,
    method: 'ukey.info' | 'ukey.sign',
    fields: Record<string, unknown>,
    timeoutMs?: number,
  ): Promise<CallResult> =>
    page.evaluate(
      async ({ method, fields, timeoutMs }) => {
        const g = globalThis as unknown as PageGlobals;
        const res = await fetch('/app/jsapi-request', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ method, fields }),
        });
        const body: unknown = await res.json();
        const opts = timeoutMs === undefined ? {} : { timeoutMs };
        const transport = g.client.transport;
        try {
          const data =
            method === 'ukey.info'
              ? await g.client.getUKeyInfo(body as Sdk.UKeyInfoRequest, opts)
              : await g.client.sign(body as Sdk.UKeySignRequest, opts);
          return { ok: true as const, data, transport };
        } catch (e) {
          const err = e as Sdk.AgentError;
          const isAgentError = e instanceof g.sdk.AgentError;
          return {
            ok: false as const,
            code: err.code,
            message: err.message,
            isAgentError,
            transport,
          };
        }
      },
      { method, fields, timeoutMs },
    );

  const certOf = (r: CallResult) => {
    assert.ok(r.ok, JSON.stringify(r));
    const d = r.data as Sdk.UKeyInfo;
    return { id: d.UKeyId, cert: parseCertificate(Buffer.from(d.certData, 'base64')) };
  };

  let page: Page;

  it('discovers the agent (status over HTTP, then the WebSocket); falls back across hosts', async () => {
    page = await openPage(app);
    const t0 = Date.now();
    const c = await setUp(page, { port: bridgePort });
    assert.deepEqual(c, {
      ok: true,
      status: { version: c.ok ? c.status?.version : '', ukeyCount: 3 },
      transport: 'ws',
      baseUrl: `http://127.0.0.1:${bridgePort}`,
    });
    assert.ok(Date.now() - t0 < 2000);
    const p2 = await openPage(app);
    const viaLocalhost = await setUp(p2, { port: bridgePort, hosts: ['127.0.0.9', 'localhost'] });
    assert.equal(viaLocalhost.ok && viaLocalhost.baseUrl, `http://localhost:${bridgePort}`);
    assert.equal(viaLocalhost.transport, 'ws');
    const none = await setUp(p2, { port: 1, hosts: ['127.0.0.1'] });
    assert.equal(none.ok || none.code, 'AGENT_UNREACHABLE');
    await p2.close();
  });

  it('getUKeyInfo type 1 and 2 over the WebSocket, and over HTTP (CORS preflight) without it', async () => {
    const s = await call(page, 'ukey.info', { type: '1', UKeyId: SM2_ID });
    assert.equal(s.transport, 'ws');
    assert.equal(certOf(s).id, SM2_ID);
    assert.equal(certOf(s).cert.usage, 'sign');
    assert.equal(
      certOf(await call(page, 'ukey.info', { type: '2', UKeyId: SM2_ID })).cert.usage,
      'encrypt',
    );
    const p2 = await openPage(app);
    const c = await setUp(p2, { port: bridgePort, webSocket: false });
    assert.equal(c.transport, 'http');
    const h = await call(p2, 'ukey.info', { type: '2', UKeyId: SM2_ID });
    assert.equal(h.transport, 'http');
    assert.equal(certOf(h).cert.usage, 'encrypt');
    await p2.close();
  });

  it('sign P1 (WebSocket) and P7 (HTTP) with SM2: the signatures verify', async () => {
    const cert = certOf(await call(page, 'ukey.info', { type: '1', UKeyId: SM2_ID })).cert;
    const docHash = createHash('sm3').update('合同全文 via the browser').digest();
    const fields = { UKeyId: SM2_ID, docHash: docHash.toString('base64'), hashType: 4 };
    approvals.next.push('approved');
    const p1 = await call(page, 'ukey.sign', { ...fields, signFormat: 1 });
    assert.ok(p1.ok, JSON.stringify(p1));
    assert.equal(p1.transport, 'ws');
    assert.equal(approvals.seen.at(-1)!.origin, app.origin);
    const v = opensslSm2Verify(cert.spki, docHash, Buffer.from(p1.data as string, 'base64'));
    assert.ok(v.ok, v.out);

    const p2 = await openPage(app);
    await setUp(p2, { port: bridgePort, webSocket: false });
    const p7 = await call(p2, 'ukey.sign', { ...fields, signFormat: 2 });
    assert.ok(p7.ok, JSON.stringify(p7));
    assert.equal(p7.transport, 'http');
    const cms = verifyDetachedSignedData(Buffer.from(p7.data as string, 'base64'), {
      messageDigest: docHash,
    });
    assert.ok(cms.valid, cms.errors.join('; '));
    await p2.close();
  });

  it('typed errors: 2003 declined, 1005 foreign origin, unregistered origin, client timeout', async () => {
    const docHash = Buffer.alloc(32, 3).toString('base64');
    approvals.next.push('declined');
    const d = await call(page, 'ukey.sign', { UKeyId: SM2_ID, docHash });
    assert.deepEqual(d.ok ? d : [d.code, d.isAgentError], ['2003', true]);
    // Known origin (CORS and WebSocket allowed) but not demo-web's: the agent answers 1005.
    const o = await openPage(other);
    assert.equal((await setUp(o, { port: bridgePort })).transport, 'ws');
    const ws1005 = await call(o, 'ukey.info', { type: '1', UKeyId: SM2_ID });
    assert.deepEqual(ws1005.ok ? ws1005 : [ws1005.code, ws1005.transport], ['1005', 'ws']);
    await setUp(o, { port: bridgePort, webSocket: false });
    const http1005 = await call(o, 'ukey.info', { type: '1', UKeyId: SM2_ID });
    assert.deepEqual(http1005.ok ? http1005 : [http1005.code, http1005.transport], [
      '1005',
      'http',
    ]);
    await o.close();
    // Unregistered origin: the browser gets no CORS answer and no socket, so no agent to talk to.
    const s = await openPage(stranger);
    const c = await setUp(s, { port: bridgePort });
    assert.deepEqual(c.ok ? c : c.code, 'AGENT_UNREACHABLE');
    await s.close();
    approvals.next.push('hang');
    const t0 = Date.now();
    const t = await call(page, 'ukey.sign', { UKeyId: SM2_ID, docHash }, 300);
    assert.deepEqual(t.ok ? t : t.code, 'TIMEOUT');
    assert.ok(Date.now() - t0 < 2500);
  });

  it('pair(): a page on an unregistered origin asks to be trusted; the operator sees its origin and approves', async () => {
    const s = await openPage(stranger);
    const key = generateSm2KeyPair();
    const body = await signRequest(
      {
        version: '1.0',
        appId: 'stranger-app',
        publicKey: sm2Spki(key.publicKey).toString('base64'),
        time: String(Date.now()),
        nonce: 77,
      },
      sm2RequestSigner('stranger-app', key),
    );
    const result = s.evaluate(
      async ({ port, body }) => {
        const g = globalThis as unknown as PageGlobals;
        const client = new g.sdk.AgentClient({ port });
        try {
          return { ok: true as const, data: await client.pair(body as Sdk.PairRequest) };
        } catch (e) {
          return { ok: false as const, code: (e as Sdk.AgentError).code };
        }
      },
      { port: bridgePort, body },
    );
    let view;
    for (let i = 0; i < 100 && !view; i++) {
      view = pairing.list()[0];
      if (!view) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(view, 'the pairing request reached the agent');
    assert.equal(view.origin, stranger.origin, 'the origin the browser sent');
    pairing.decide(view.pairingId, 'approved');
    const r = await result;
    assert.deepEqual(r, {
      ok: true,
      data: { appId: 'stranger-app', origin: stranger.origin, paired: true },
    });
    assert.deepEqual(pairStore.apps.get('stranger-app')?.origins, [stranger.origin]);
    await s.close();
  });

  it('counts in-flight WebSocket calls as the agent does: timed-out calls still hold a slot until answered', async () => {
    // Eight signatures hang at the signer (the agent answers them 2004 after 3 s); the page gives
    // up on each after 300 ms. The agent still counts them, so the next call must not go over
    // the WebSocket (it would get 1006): it goes over HTTP and succeeds. (The page's client from
    // the tests before, on the WebSocket.)
    assert.equal(
      await page.evaluate(() => (globalThis as unknown as PageGlobals).client.transport),
      'ws',
    );
    const docHash = Buffer.alloc(32, 9).toString('base64');
    for (let i = 0; i < 8; i++) approvals.next.push('hang');
    const hung = await Promise.all(
      Array.from({ length: 8 }, () => call(page, 'ukey.sign', { UKeyId: SM2_ID, docHash }, 300)),
    );
    assert.deepEqual(
      hung.map((h) => (h.ok ? 'ok' : h.code)),
      Array.from({ length: 8 }, () => 'TIMEOUT'),
    );
    const next = await call(page, 'ukey.info', { type: '1', UKeyId: SM2_ID });
    assert.ok(next.ok, JSON.stringify(next));
    // Once the agent answered them (2004 at 3 s), the WebSocket is used again.
    await new Promise((r) => setTimeout(r, 3500));
    approvals.next.length = 0;
    const after = await call(page, 'ukey.info', { type: '1', UKeyId: SM2_ID });
    assert.ok(after.ok, JSON.stringify(after));
  });

  it('close(): calls in flight and later calls fail with CLOSED; off() stops a listener', async () => {
    const p = await openPage(app);
    await setUp(p, { port: bridgePort });
    const out = await p.evaluate(async () => {
      const g = globalThis as unknown as PageGlobals;
      let heard = 0;
      const listener = (): void => {
        heard++;
      };
      g.client.on('disconnected', listener);
      g.client.off('disconnected', listener);
      g.client.close();
      let code = '';
      try {
        await g.client.status();
      } catch (e) {
        code = (e as Sdk.AgentError).code;
      }
      return { code, heard, transport: g.client.transport };
    });
    assert.deepEqual(out, { code: 'CLOSED', heard: 0, transport: 'none' });
    await p.close();
  });

  it('canonicalString in the browser equals the agent’s (UTF-8 byte order)', async () => {
    const samples = fc.sample(
      fc.dictionary(
        fc.oneof(
          fc.string({ unit: 'grapheme', maxLength: 5 }),
          fc.string({ unit: 'binary', maxLength: 3 }),
        ),
        fc.oneof(
          fc.string({ unit: 'grapheme', maxLength: 8 }),
          fc.integer(),
          fc.boolean(),
          fc.constant(null),
        ),
        { maxKeys: 6 },
      ),
      300,
    );
    const expected = samples.map((r) => {
      try {
        return canonicalString(r);
      } catch (e) {
        return `error ${(e as { code: string }).code}`;
      }
    });
    const got = await page.evaluate((rs) => {
      const g = globalThis as unknown as PageGlobals;
      return rs.map((r) => {
        try {
          return g.sdk.canonicalString(r);
        } catch (e) {
          return `error ${(e as Sdk.AgentError).code}`;
        }
      });
    }, samples);
    assert.deepEqual(got, expected);
  });

  it('ukey.inserted reaches the page within 1 s of provisioning a key; ukey.removed too', async () => {
    const dir = w.pki.dir;
    await provisionSoftUKey({
      dir,
      serial: 'SUKSDK001',
      label: 'SDK',
      pin: '123456',
      soPin: '12345678',
    });
    const plugged = Date.now();
    const inserted = () =>
      (globalThis as unknown as PageGlobals).events.some(
        (e) => e.name === 'ukey.inserted' && (e.data as { UKeyId: string }).UKeyId === 'SUKSDK001',
      );
    await page.waitForFunction(inserted, undefined, { timeout: 1000 });
    const insertedMs = Date.now() - plugged;
    renameSync(
      join(dir, 'SUKSDK001.suk'),
      join(mkdtempSync(join(tmpdir(), 'sdk-parked-')), 'x.suk'),
    );
    await page.waitForFunction(
      () =>
        (globalThis as unknown as PageGlobals).events.some(
          (e) => e.name === 'ukey.removed' && (e.data as { UKeyId: string }).UKeyId === 'SUKSDK001',
        ),
      undefined,
      { timeout: 1000 },
    );
    assert.ok(insertedMs < 1000, `inserted after ${insertedMs} ms`);
  });

  it('reconnects after the bridge restarts on the same port (disconnected → connected)', async () => {
    await bridge.close();
    await page.waitForFunction(() =>
      (globalThis as unknown as PageGlobals).events.some((e) => e.name === 'disconnected'),
    );
    // While the agent is down calls fall back to HTTP and fail as unreachable.
    const down = await call(page, 'ukey.info', { type: '1', UKeyId: SM2_ID });
    assert.deepEqual(down.ok ? down : [down.code, down.transport], ['AGENT_UNREACHABLE', 'http']);
    const restarted = Date.now();
    bridge = await start(bridgePort);
    await page.waitForFunction(
      () =>
        (globalThis as unknown as PageGlobals).events.filter((e) => e.name === 'connected')
          .length >= 2,
      undefined,
      { timeout: 5000 },
    );
    const reconnectMs = Date.now() - restarted;
    const events = await page.evaluate(() =>
      (globalThis as unknown as PageGlobals).events
        .filter((e) => e.name === 'connected' || e.name === 'disconnected')
        .map((e) => e.name),
    );
    assert.deepEqual(events, ['connected', 'disconnected', 'connected']);
    const again = await call(page, 'ukey.info', { type: '1', UKeyId: SM2_ID });
    assert.equal(again.transport, 'ws');
    assert.equal(certOf(again).id, SM2_ID);
    assert.ok(reconnectMs < 5000, `reconnected after ${reconnectMs} ms`);
  });
});
