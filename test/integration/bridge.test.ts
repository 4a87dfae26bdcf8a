import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { generateSm2KeyPair } from '../../main/core/crypto/sm2';
import { sm2Spki } from '../../main/core/pki/keys';
import { verifyDetachedSignedData } from '../../main/core/pki/cms';
import { parseCertificate } from '../../main/core/pki/certificate';
import { sm2RequestSigner } from '../../main/core/platform/request-signer';
import { createPlatformClient } from '../../main/core/platform/platform-client';
import { JsapiService } from '../../main/core/bridge/jsapi-service';
import type { CallerApp, CallerRegistry } from '../../main/core/bridge/jsapi-service';
import { startBridge } from '../../main/core/bridge/bridge-server';
import type { Bridge } from '../../main/core/bridge/bridge-server';
import { provisionSoftUKey } from '../../main/cli/commands/softukey';
import { SqliteNonceStore } from '../../main/core/platform/nonce-store';
import Database from 'better-sqlite3';
import {
  ScriptedApprovals,
  freshSignId,
  http,
  postJson,
  signed,
  startWorld,
  wsConnect,
} from '../helpers/agent-harness';
import type { World } from '../helpers/agent-harness';
import { files, openssl, opensslDgstVerify, opensslSm2Verify } from '../helpers/openssl';
import { tempDir } from '../helpers/dev-tokens';

const ORIGIN = 'https://seal.example.cn';
const OTHER = 'https://evil.example';

class MemoryApps implements CallerRegistry {
  constructor(private readonly apps: CallerApp[]) {}
  get = (id: string): CallerApp | undefined => this.apps.find((a) => a.appId === id);
  isOriginAllowed = (id: string, origin: string): boolean =>
    !!this.get(id)?.origins.includes(origin);
  isKnownOrigin = (origin: string): boolean => this.apps.some((a) => a.origins.includes(origin));
}

describe('JSAPI bridge over real HTTP and WebSocket', () => {
  let w: World;
  let bridge: Bridge;
  let port: number;
  const approvals = new ScriptedApprovals();
  const caller = generateSm2KeyPair();
  const signer = sm2RequestSigner('demo-web', caller);
  const policies: { appId: string; sealCode: string; left: number }[] = [];
  const sm2Id = 'SUKDEMO0001';
  let rsaId = '';

  before(async () => {
    w = await startWorld();
    rsaId = w.pki.ukeys.find((k) => k.algorithm === 'rsa')!.ukeyId;
    const nonceDb = new Database(':memory:');
    const service = new JsapiService({
      tokens: w.tokens,
      apps: new MemoryApps([
        { appId: 'demo-web', publicKey: sm2Spki(caller.publicKey), origins: [ORIGIN] },
      ]),
      platform: w.agentPlatform,
      host: approvals,
      nonces: new SqliteNonceStore(nonceDb),
      policies: {
        consume: ({ appId, sealCode }) => {
          const p = policies.find(
            (x) => x.appId === appId && x.sealCode === sealCode && x.left > 0,
          );
          if (!p) return undefined;
          p.left--;
          return { id: 'p1' };
        },
      },
      approvalTimeoutMs: 400,
    });
    bridge = await startBridge({
      service,
      apps: new MemoryApps([
        { appId: 'demo-web', publicKey: sm2Spki(caller.publicKey), origins: [ORIGIN] },
      ]),
      tokens: w.tokens,
      port: 0,
      ratePerSecond: 200,
      rateBurst: 200,
    });
    port = bridge.port;
  });
  after(async () => {
    await bridge.close();
    await w.close();
  });

  const info = async (fields: Record<string, unknown>, origin: string | null = ORIGIN) =>
    postJson(port, '/api/v1/ukey/info', await signed(signer, fields), origin);
  const sign = async (fields: Record<string, unknown>, origin: string | null = ORIGIN) =>
    postJson(port, '/api/v1/ukey/sign', await signed(signer, fields), origin);

  it('status answers the version and key count, nothing identifying', async () => {
    const r = await http(port, 'GET', '/api/v1/status');
    assert.equal(r.status, 200);
    assert.deepEqual(Object.keys(r.json.data as object).sort(), ['ukeyCount', 'version']);
    assert.equal((r.json.data as { ukeyCount: number }).ukeyCount, 3);
  });

  it('ukey/info answers the signing and the encryption certificate (table 23)', async () => {
    const s = await info({ type: '1', UKeyId: sm2Id });
    assert.equal(s.json.code, '0', s.text);
    const d = s.json.data as { UKeyId: string; certData: string };
    assert.equal(d.UKeyId, sm2Id);
    assert.equal(parseCertificate(Buffer.from(d.certData, 'base64')).usage, 'sign');
    const e = await info({ type: '2', UKeyId: sm2Id });
    assert.equal(
      parseCertificate(Buffer.from((e.json.data as { certData: string }).certData, 'base64')).usage,
      'encrypt',
    );
    assert.equal((await info({ type: '1' })).json.code, '1001', 'several keys: UKeyId is needed');
    assert.equal((await info({ type: '1', UKeyId: 'NOPE' })).json.code, '2001');
    assert.equal((await info({ type: '3', UKeyId: sm2Id })).json.code, '1001');
    assert.equal(
      (await info({ type: '2', UKeyId: rsaId })).json.code,
      '2001',
      'the RSA key has no encryption certificate',
    );
  });

  it('ukey/sign P1 with SM2: approved by the signer, OpenSSL verifies (docHash as the message)', async () => {
    const { signId, sealCode } = await freshSignId(w, sm2Id);
    const docHash = createHash('sha256').update('合同全文').digest();
    approvals.next.push('approved');
    const r = await sign({
      signId,
      sealCode,
      hashType: 4,
      signFormat: 1,
      docHash: docHash.toString('base64'),
      UKeyId: sm2Id,
    });
    assert.equal(r.json.code, '0', r.text);
    const seen = approvals.seen.at(-1)!;
    assert.equal(seen.origin, ORIGIN);
    assert.equal(seen.sealCode, sealCode);
    assert.equal(seen.digestHex, docHash.toString('hex'));
    assert.equal(seen.development, true);
    const cert = Buffer.from(
      ((await info({ type: '1', UKeyId: sm2Id })).json.data as { certData: string }).certData,
      'base64',
    );
    const v = opensslSm2Verify(
      parseCertificate(cert).spki,
      docHash,
      Buffer.from(r.json.data as string, 'base64'),
    );
    assert.ok(v.ok, v.out);
    // The signId is single use.
    const again = await sign({
      signId,
      sealCode,
      docHash: docHash.toString('base64'),
      UKeyId: sm2Id,
    });
    assert.equal(again.json.code, '2005');
  });

  it('ukey/sign P7 with SM2 (GB/T 35275) carries messageDigest = docHash and verifies', async () => {
    const { signId, sealCode } = await freshSignId(w, sm2Id);
    const docHash = createHash('sm3').update('sealed pdf bytes').digest();
    const r = await sign({
      signId,
      sealCode,
      signFormat: 2,
      docHash: docHash.toString('base64'),
      UKeyId: sm2Id,
    });
    assert.equal(r.json.code, '0', r.text);
    const v = verifyDetachedSignedData(Buffer.from(r.json.data as string, 'base64'), {
      messageDigest: docHash,
    });
    assert.ok(v.valid, v.errors.join('; '));
    assert.equal(v.digestAlgorithmOid, '1.2.156.10197.1.401');
  });

  it('ukey/sign P1 and P7 with RSA (SoftHSM2); OpenSSL verifies both', async () => {
    const doc = Buffer.from('RSA document');
    const digest = createHash('sha256').update(doc).digest();
    let { signId, sealCode } = await freshSignId(w, rsaId);
    const p1 = await sign({
      signId,
      sealCode,
      hashType: 3,
      signFormat: 1,
      docHash: digest.toString('base64'),
      UKeyId: rsaId,
    });
    assert.equal(p1.json.code, '0', p1.text);
    const certB64 = ((await info({ type: '1', UKeyId: rsaId })).json.data as { certData: string })
      .certData;
    const cert = Buffer.from(certB64, 'base64');
    assert.ok(
      opensslDgstVerify(
        parseCertificate(cert).spki,
        'sha256',
        digest,
        Buffer.from(p1.json.data as string, 'base64'),
      ).ok,
    );
    ({ signId, sealCode } = await freshSignId(w, rsaId));
    const p7 = await sign({
      signId,
      sealCode,
      hashType: 3,
      signFormat: 2,
      docHash: digest.toString('base64'),
      UKeyId: rsaId,
    });
    assert.equal(p7.json.code, '0', p7.text);
    const f = files({ 'sig.p7': Buffer.from(p7.json.data as string, 'base64'), signed: digest });
    // CMS over a digest: OpenSSL checks messageDigest against the content's SHA-256, so the content
    // it is given is the document whose digest docHash was.
    const g = files({ doc });
    const v = openssl([
      'cms',
      '-verify',
      '-binary',
      '-inform',
      'DER',
      '-in',
      f['sig.p7']!,
      '-content',
      g.doc!,
      '-CAfile',
      w.pki.rsaCaCert!,
      '-purpose',
      'any',
      '-out',
      '/dev/null',
    ]);
    assert.ok(v.ok && /Verification successful/.test(v.out), v.out);
    ({ signId, sealCode } = await freshSignId(w, rsaId));
    assert.equal(
      (
        await sign({
          signId,
          sealCode,
          hashType: 4,
          docHash: digest.toString('base64'),
          UKeyId: rsaId,
        })
      ).json.code,
      '2007',
    );
  });

  it('declined, timed out, unknown app, foreign origin, bad sign, forged fields: each its code', async () => {
    const docHash = Buffer.alloc(32, 7).toString('base64');
    let s = await freshSignId(w, sm2Id);
    approvals.next.push('declined');
    assert.equal((await sign({ ...s, docHash, UKeyId: sm2Id })).json.code, '2003');
    s = await freshSignId(w, sm2Id);
    approvals.next.push('hang');
    const t = await sign({ ...s, docHash, UKeyId: sm2Id });
    assert.equal(t.json.code, '2004');
    assert.equal(t.status, 408);
    s = await freshSignId(w, sm2Id);
    assert.equal((await sign({ ...s, docHash, UKeyId: sm2Id, hashType: 3 })).json.code, '2007');
    const other = sm2RequestSigner('stranger', generateSm2KeyPair());
    const unknown = await postJson(
      port,
      '/api/v1/ukey/sign',
      await signed(other, { ...s, docHash }),
      ORIGIN,
    );
    assert.equal(unknown.json.code, '1005');
    assert.equal((await sign({ ...s, docHash, UKeyId: sm2Id }, OTHER)).json.code, '1005');
    assert.equal((await sign({ ...s, docHash, UKeyId: sm2Id }, null)).json.code, '1005');
    assert.equal((await sign({ ...s, docHash, UKeyId: sm2Id }, 'null')).json.code, '1005');
    const body = await signed(signer, { ...s, docHash, UKeyId: sm2Id });
    const tampered = await postJson(
      port,
      '/api/v1/ukey/sign',
      { ...body, sealCode: 'ES-OTHER' },
      ORIGIN,
    );
    assert.equal(tampered.json.code, '1002');
    assert.equal((await sign({ ...s, docHash, UKeyId: sm2Id, pin: '123456' })).json.code, '1001');
    assert.equal((await sign({ ...s, docHash, UKeyId: sm2Id, origin: ORIGIN })).json.code, '1001');
    assert.equal((await sign({ ...s, docHash: 'not base64!', UKeyId: sm2Id })).json.code, '1001');
    assert.equal((await sign({ signId: s.signId, docHash, UKeyId: sm2Id })).json.code, '1001');
    assert.equal(
      (await sign({ ...s, sealCode: 'ES00000000NOSUCHSEAL', docHash, UKeyId: sm2Id })).json.code,
      '2005',
    );
    // A seal suspended after its signId was issued: 2006; enabled again, the old signId stays spent.
    const pending = await freshSignId(w, sm2Id);
    await w.webapp.client.setSealState({ sealCode: pending.sealCode, state: 4 });
    const suspended = await sign({ ...pending, docHash, UKeyId: sm2Id });
    assert.equal(suspended.json.code, '2006', suspended.text);
    await w.webapp.client.setSealState({ sealCode: pending.sealCode, state: 1 });
    assert.equal((await sign({ ...pending, docHash, UKeyId: sm2Id })).json.code, '2005');
  });

  it('a standing policy signs without asking; replayed time/nonce is refused', async () => {
    const s = await freshSignId(w, sm2Id);
    policies.push({ appId: 'demo-web', sealCode: s.sealCode, left: 1 });
    const asked = approvals.seen.length;
    const docHash = Buffer.alloc(32, 9).toString('base64');
    const r = await sign({ ...s, docHash, UKeyId: sm2Id, time: String(Date.now()), nonce: 4242 });
    assert.equal(r.json.code, '0', r.text);
    assert.equal(approvals.seen.length, asked, 'no prompt under a policy');
    const replay = await sign({
      ...(await freshSignId(w, sm2Id)),
      docHash,
      UKeyId: sm2Id,
      time: String(Date.now()),
      nonce: 4242,
    });
    assert.equal(replay.json.code, '1004');
    const old = await sign({
      ...(await freshSignId(w, sm2Id)),
      docHash,
      UKeyId: sm2Id,
      time: String(Date.now() - 600_000),
      nonce: 1,
    });
    assert.equal(old.json.code, '1003');
  });

  it('wrong PIN answers 2002 with tries left; platform unreachable fails closed with 3001', async () => {
    await w.tokens.logout(sm2Id);
    w.pins.next('user', '000000');
    const r = await sign({
      ...(await freshSignId(w, sm2Id)),
      docHash: Buffer.alloc(32).toString('base64'),
      UKeyId: sm2Id,
    });
    assert.equal(r.json.code, '2002');
    assert.match(r.json.message, /5 tries left/);

    const down = createPlatformClient({
      baseUrl: 'http://127.0.0.1:1',
      signer,
      platformKey: w.platform.platformCertificate,
      timeoutMs: 500,
    });
    const svc = new JsapiService({
      tokens: w.tokens,
      apps: new MemoryApps([
        { appId: 'demo-web', publicKey: sm2Spki(caller.publicKey), origins: [ORIGIN] },
      ]),
      platform: down,
      host: approvals,
    });
    await assert.rejects(
      svc.call(
        'ukey.sign',
        await signed(signer, { signId: 'x', sealCode: 'y', docHash: 'AAAA', UKeyId: sm2Id }),
        { origin: ORIGIN, transport: 'http' },
      ),
      (e: Error & { code?: string }) => e.code === '3001' && !/127\.0\.0\.1/.test(e.message),
    );
  });

  it('locked PIN: the sixth wrong PIN locks the key; then 2002 "locked" without asking; SO unblock restores', async () => {
    const id = 'SUKDEMO0002';
    await w.tokens.logout(id);
    const messages: string[] = [];
    for (let i = 0; i < 6; i++) {
      w.pins.next('user', '000000');
      const r = await sign({
        ...(await freshSignId(w, id)),
        docHash: Buffer.alloc(32, i).toString('base64'),
        UKeyId: id,
      });
      assert.equal(r.json.code, '2002');
      messages.push(r.json.message);
    }
    assert.match(messages[0]!, /5 tries left/);
    assert.match(messages[4]!, /1 try left/);
    assert.match(messages[5]!, /locked/);
    const asked = w.pins.asked.length;
    const locked = await sign({
      ...(await freshSignId(w, id)),
      docHash: Buffer.alloc(32).toString('base64'),
      UKeyId: id,
    });
    assert.equal(locked.json.code, '2002');
    assert.match(locked.json.message, /locked/);
    assert.equal(w.pins.asked.length, asked, 'no PIN prompt for a locked key');
    w.pins.next('so', w.pki.soPin).next('new-user', w.pki.pin);
    await w.tokens.initUserPin(id);
    const ok = await sign({
      ...(await freshSignId(w, id)),
      docHash: Buffer.alloc(32).toString('base64'),
      UKeyId: id,
    });
    assert.equal(ok.json.code, '0', ok.text);
  });

  it('rate limits per origin (1006 / 429) without starving another origin', async () => {
    const apps = new MemoryApps([
      {
        appId: 'demo-web',
        publicKey: sm2Spki(caller.publicKey),
        origins: [ORIGIN, 'https://second.example.cn'],
      },
    ]);
    const svc = new JsapiService({
      tokens: w.tokens,
      apps,
      platform: w.agentPlatform,
      host: approvals,
    });
    const tight = await startBridge({
      service: svc,
      apps,
      tokens: w.tokens,
      port: 0,
      ratePerSecond: 1,
      rateBurst: 3,
    });
    try {
      const body = await signed(signer, { type: '1', UKeyId: sm2Id });
      const codes: string[] = [];
      for (let i = 0; i < 5; i++)
        codes.push((await postJson(tight.port, '/api/v1/ukey/info', body, ORIGIN)).json.code);
      assert.deepEqual(codes, ['0', '0', '0', '1006', '1006']);
      const limited = await postJson(tight.port, '/api/v1/ukey/info', body, ORIGIN);
      assert.equal(limited.status, 429);
      assert.equal(
        (await postJson(tight.port, '/api/v1/ukey/info', body, 'https://second.example.cn')).json
          .code,
        '0',
      );
    } finally {
      await tight.close();
    }
  });

  it('browser safety: Host allowlist, JSON only, CORS and Private Network to allowed origins only, size limit', async () => {
    const body = JSON.stringify(await signed(signer, { type: '1', UKeyId: sm2Id }));
    const rebind = await http(port, 'POST', '/api/v1/ukey/info', {
      body,
      headers: { host: `evil.example:${port}`, origin: ORIGIN, 'content-type': 'application/json' },
    });
    assert.equal(rebind.status, 403);
    assert.equal(rebind.json.code, '1005');
    assert.equal(rebind.headers['access-control-allow-origin'], undefined);
    const plain = await http(port, 'POST', '/api/v1/ukey/info', {
      body,
      headers: { origin: ORIGIN, 'content-type': 'text/plain' },
    });
    assert.equal(plain.json.code, '1001');
    assert.equal(plain.status, 415);
    const form = await http(port, 'POST', '/api/v1/ukey/info', {
      body: 'a=b',
      headers: { origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(form.json.code, '1001');
    const ok = await http(port, 'POST', '/api/v1/ukey/info', {
      body,
      headers: { origin: ORIGIN, 'content-type': 'application/json', host: `localhost:${port}` },
    });
    assert.equal(ok.json.code, '0');
    assert.equal(ok.headers['access-control-allow-origin'], ORIGIN);
    const pre = await http(port, 'OPTIONS', '/api/v1/ukey/sign', {
      headers: {
        origin: ORIGIN,
        'access-control-request-method': 'POST',
        'access-control-request-private-network': 'true',
      },
    });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers['access-control-allow-origin'], ORIGIN);
    assert.equal(pre.headers['access-control-allow-private-network'], 'true');
    const evilPre = await http(port, 'OPTIONS', '/api/v1/ukey/sign', {
      headers: {
        origin: OTHER,
        'access-control-request-method': 'POST',
        'access-control-request-private-network': 'true',
      },
    });
    assert.equal(evilPre.status, 403);
    assert.equal(evilPre.headers['access-control-allow-origin'], undefined);
    assert.equal(evilPre.headers['access-control-allow-private-network'], undefined);
    const evil = await http(port, 'POST', '/api/v1/ukey/info', {
      body,
      headers: { origin: OTHER, 'content-type': 'application/json' },
    });
    assert.equal(evil.json.code, '1005');
    assert.notEqual(evil.headers['access-control-allow-origin'], '*');
    assert.equal(evil.headers['access-control-allow-origin'], undefined);
    const huge = await http(port, 'POST', '/api/v1/ukey/sign', {
      body: JSON.stringify({ x: 'a'.repeat(300 * 1024) }),
      headers: { origin: ORIGIN, 'content-type': 'application/json' },
    });
    assert.equal(huge.status, 413);
    assert.equal(huge.json.code, '1001');
    const notJson = await http(port, 'POST', '/api/v1/ukey/sign', {
      body: '{"a":',
      headers: { origin: ORIGIN, 'content-type': 'application/json' },
    });
    assert.equal(notJson.json.code, '1001');
  });

  it('WebSocket: allowed origin gets info and status; a foreign origin cannot even connect', async () => {
    const c = await wsConnect(port, ORIGIN);
    c.ws.send(JSON.stringify({ id: 1, method: 'status' }));
    assert.equal((await c.next((f) => f.id === 1)).code, '0');
    c.ws.send(
      JSON.stringify({
        id: 2,
        method: 'ukey.info',
        params: await signed(signer, { type: '1', UKeyId: sm2Id }),
      }),
    );
    const a = await c.next((f) => f.id === 2);
    assert.equal(a.code, '0');
    assert.equal((a.data as { UKeyId: string }).UKeyId, sm2Id);
    c.ws.send('not json');
    assert.equal((await c.next((f) => f.id === null)).code, '1001');
    c.ws.send(JSON.stringify({ id: 3, method: 'ukey.delete' }));
    assert.equal((await c.next((f) => f.id === 3)).code, '1001');
    c.ws.close();
    await assert.rejects(wsConnect(port, OTHER), /403/);
    const big = await wsConnect(port, ORIGIN);
    const closed = new Promise<number>((resolve) => big.ws.on('close', (code) => resolve(code)));
    big.ws.send('x'.repeat(300 * 1024));
    assert.equal(await closed, 1009, 'an oversize frame closes the connection');
  });

  it('pushes ukey.inserted / ukey.removed within 1 s of plugging and pulling a key', async () => {
    const c = await wsConnect(port, ORIGIN);
    const parked = tempDir('parked');
    const t0 = Date.now();
    await provisionSoftUKey({
      dir: w.pki.dir,
      serial: 'SUKHOT001',
      label: 'Hot',
      pin: '123456',
      soPin: '12345678',
    });
    const ins = await c.next((f) => f.event === 'ukey.inserted', 1000);
    assert.deepEqual(ins.data, { UKeyId: 'SUKHOT001' });
    renameSync(join(w.pki.dir, 'SUKHOT001.suk'), join(parked, 'x.suk'));
    const rem = await c.next((f) => f.event === 'ukey.removed', 1000);
    assert.deepEqual(rem.data, { UKeyId: 'SUKHOT001' });
    assert.ok(Date.now() - t0 < 2500);
    c.ws.close();
    copyFileSync(join(parked, 'x.suk'), join(parked, 'y.suk'));
  });
});
