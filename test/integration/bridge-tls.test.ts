// The bridge's optional HTTPS/WSS port: a client that trusts only the agent's local CA gets UKey
// info and a signature over TLS, the WebSocket works as WSS with the same origin rule, and the Host
// check binds each port to itself (a request naming the plain port on the TLS socket is refused).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { request } from 'node:https';
import { WebSocket } from 'ws';
import Database from 'better-sqlite3';
import { generateSm2KeyPair } from '../../main/core/crypto/sm2';
import { sm2Spki } from '../../main/core/pki/keys';
import { parseCertificate } from '../../main/core/pki/certificate';
import { sm2RequestSigner } from '../../main/core/platform/request-signer';
import { JsapiService } from '../../main/core/bridge/jsapi-service';
import type { CallerApp, CallerRegistry } from '../../main/core/bridge/jsapi-service';
import { startBridge } from '../../main/core/bridge/bridge-server';
import type { Bridge } from '../../main/core/bridge/bridge-server';
import { ensureLocalTls } from '../../main/core/bridge/local-tls';
import type { LocalTlsIdentity } from '../../main/core/bridge/local-tls';
import { SqliteNonceStore } from '../../main/core/platform/nonce-store';
import { openAgentStore } from '../../main/core/store/agent-store';
import { passphraseProtector } from '../../main/core/store/passphrase-protector';
import { ScriptedApprovals, freshSignId, signed, startWorld } from '../helpers/agent-harness';
import type { World } from '../helpers/agent-harness';
import { tempDir } from '../helpers/dev-tokens';
import { opensslSm2Verify } from '../helpers/openssl';

const ORIGIN = 'https://seal.example.cn';

describe('JSAPI bridge over HTTPS and WSS with the local CA', () => {
  let w: World;
  let bridge: Bridge;
  let tls: LocalTlsIdentity;
  const approvals = new ScriptedApprovals();
  const caller = generateSm2KeyPair();
  const signer = sm2RequestSigner('demo-web', caller);
  const apps: CallerRegistry = (() => {
    const app: CallerApp = {
      appId: 'demo-web',
      publicKey: sm2Spki(caller.publicKey),
      origins: [ORIGIN],
    };
    return {
      get: (id) => (id === app.appId ? app : undefined),
      isOriginAllowed: (id, origin) => id === app.appId && app.origins.includes(origin),
      isKnownOrigin: (origin) => app.origins.includes(origin),
    };
  })();

  before(async () => {
    w = await startWorld();
    const dataDir = tempDir('bridge-tls');
    const store = openAgentStore(dataDir);
    tls = await ensureLocalTls({
      dataDir,
      secrets: await store.openSecrets(passphraseProtector('pw')),
    });
    store.close();
    const service = new JsapiService({
      tokens: w.tokens,
      apps,
      platform: w.agentPlatform,
      host: approvals,
      nonces: new SqliteNonceStore(new Database(':memory:')),
      approvalTimeoutMs: 2_000,
    });
    bridge = await startBridge({
      service,
      apps,
      tokens: w.tokens,
      port: 0,
      tls: { port: 0, key: tls.key, cert: tls.cert },
    });
  });
  after(async () => {
    await bridge?.close();
    await w?.close();
  });

  const post = (
    path: string,
    body: unknown,
    host = `localhost:${bridge.tlsPort}`,
  ): Promise<{ status: number; json: { code: string; data: unknown } }> =>
    new Promise((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          servername: 'localhost',
          port: bridge.tlsPort,
          path,
          method: 'POST',
          ca: tls.caCertPem,
          headers: { host, origin: ORIGIN, 'content-type': 'application/json' },
        },
        (res) => {
          let text = '';
          res.on('data', (d: Buffer) => (text += d));
          res.on('end', () => resolve({ status: res.statusCode!, json: JSON.parse(text) }));
        },
      );
      req.on('error', reject);
      req.end(JSON.stringify(body));
    });

  it('listens on 127.0.0.1 on a second port and names it', () => {
    assert.ok(bridge.tlsPort! > 0 && bridge.tlsPort !== bridge.port);
    assert.equal(bridge.tlsUrl, `https://localhost:${bridge.tlsPort}`);
  });

  it('answers info and signs over HTTPS; OpenSSL verifies the signature', async () => {
    const info = await post(
      '/api/v1/ukey/info',
      await signed(signer, { type: '1', UKeyId: 'SUKDEMO0001' }),
    );
    assert.equal(info.json.code, '0', JSON.stringify(info.json));
    const cert = Buffer.from((info.json.data as { certData: string }).certData, 'base64');

    const { signId, sealCode } = await freshSignId(w, 'SUKDEMO0001');
    const docHash = createHash('sha256').update('TLS 合同').digest();
    approvals.next.push('approved');
    const r = await post(
      '/api/v1/ukey/sign',
      await signed(signer, {
        signId,
        sealCode,
        hashType: 4,
        signFormat: 1,
        docHash: docHash.toString('base64'),
        UKeyId: 'SUKDEMO0001',
      }),
    );
    assert.equal(r.json.code, '0', JSON.stringify(r.json));
    assert.equal(approvals.seen.at(-1)!.origin, ORIGIN);
    const v = opensslSm2Verify(
      parseCertificate(cert).spki,
      docHash,
      Buffer.from(r.json.data as string, 'base64'),
    );
    assert.ok(v.ok, v.out);
  });

  it('refuses a Host naming another port on the TLS socket (rebinding), 1005', async () => {
    const r = await post(
      '/api/v1/ukey/info',
      await signed(signer, { type: '1', UKeyId: 'SUKDEMO0001' }),
      `localhost:${bridge.port}`,
    );
    assert.equal(r.json.code, '1005');
  });

  it('WSS: an allowed origin gets status; a foreign origin cannot connect', async () => {
    const url = `wss://localhost:${bridge.tlsPort}/api/v1/ws`;
    const ws = new WebSocket(url, { headers: { origin: ORIGIN }, ca: tls.caCertPem });
    const frame = await new Promise<Record<string, unknown>>((resolve, reject) => {
      ws.once('open', () => ws.send(JSON.stringify({ id: '1', method: 'status' })));
      ws.once('message', (d) => resolve(JSON.parse(d.toString())));
      ws.once('error', reject);
    });
    ws.close();
    assert.equal(frame.code, '0', JSON.stringify(frame));
    const evil = new WebSocket(url, {
      headers: { origin: 'https://evil.example' },
      ca: tls.caCertPem,
    });
    const refused = await new Promise<string>((resolve) => {
      evil.once('unexpected-response', (_req, res) => resolve(String(res.statusCode)));
      evil.once('open', () => resolve('open'));
      evil.once('error', (e) => resolve(e.message));
    });
    assert.equal(refused, '403');
  });
});
