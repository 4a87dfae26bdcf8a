// The headless console over real HTTP and WebSocket against a real `ukey-agent serve --demo
// --console` child process: the one-time token redeemed for a bearer session (and no cookie, ever:
// a stolen or forged one opens nothing), the Host/Origin/content-type and size checks, static files with their CSP, and the wired operator methods (seals, outbox,
// certificates, relay through staging) plus a JSAPI signature approved in the console with the PIN.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import type { IncomingMessage } from 'node:http';
import { randomBytes } from 'node:crypto';
import type { PendingApprovalView, RelayJobView, SealView } from '../../main/common/operator-api';
import { demoSealPng } from '../../main/core/demo/seal-image';
import { pemToDer } from '../../main/core/pki/keys';
import { tempDir } from '../helpers/dev-tokens';
import {
  BIN,
  ConsoleClient,
  EventStream,
  consoleHttp,
  setCookiesSeen,
  startServeConsole,
  wsProtocols,
} from '../helpers/console-client';
import type { ServeChild } from '../helpers/console-client';

const ORG = '91110000DEMO00001X';
const data = tempDir('console-serve');
let serve: ServeChild;
let c: ConsoleClient;
let port: number;

before(async () => {
  serve = await startServeConsole(data);
  port = Number(new URL(serve.data.consoleUrl).port);
  c = await ConsoleClient.login(await serve.newLink());
});
after(async () => {
  await serve.stop();
});

/** `demo-call sign` as the demo web app would: resolves with its JSON answer. */
function demoSign(
  ukeyId: string,
  text: string,
): Promise<{ code: string; message: string; data?: unknown }> {
  const jsapiPort = new URL(serve.data.jsapi).port;
  const child = spawn(
    process.execPath,
    [
      BIN,
      'demo-call',
      'sign',
      '--ukey-id',
      ukeyId,
      '--text',
      text,
      '--port',
      jsapiPort,
      '--data-dir',
      data,
      '--json',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve, reject) =>
    child.once('exit', () => {
      try {
        // The CLI's own envelope carries the JSAPI answer in data.
        const cli = JSON.parse(out.trim().split('\n').pop() ?? '') as {
          data: { code: string; message: string; data?: unknown };
        };
        resolve(cli.data);
      } catch {
        reject(new Error(`demo-call said: ${out}`));
      }
    }),
  );
}

/** A GET whose body is compared as bytes (the harness' http() decodes text). */
function getBytes(port: number, path: string, sessionId: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        headers: { host: `127.0.0.1:${port}`, authorization: `Bearer ${sessionId}` },
      },
      (res: IncomingMessage) => {
        const parts: Buffer[] = [];
        res.on('data', (d: Buffer) => parts.push(d));
        res.on('end', () => resolve(Buffer.concat(parts)));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('console: the one-time link and the session', () => {
  it('prints a one-time URL of the protocol shape on 127.0.0.1', () => {
    assert.match(serve.data.consoleUrl, /^http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{43}$/);
  });

  it('serves the page for the link without spending it; POST /operator/session spends it once (401 after)', async () => {
    const token = new URL(serve.data.consoleUrl).searchParams.get('token')!;
    const page = await consoleHttp(port, 'GET', `/?token=${token}`);
    assert.equal(page.status, 200);
    assert.match(page.text, /<html/i);
    assert.doesNotMatch(page.text, new RegExp(token));
    // Refused before the token is looked at: a foreign Origin, no JSON, a wrong shape.
    const foreign = await ConsoleClient.redeem(port, token, { origin: 'http://127.0.0.1:18790' });
    assert.equal(foreign.status, 403);
    const form = await ConsoleClient.redeem(port, token, {
      'content-type': 'application/x-www-form-urlencoded',
    });
    assert.equal(form.status, 415);
    const shape = await consoleHttp(port, 'POST', '/operator/session', {
      body: JSON.stringify({ token, extra: 1 }),
      headers: { origin: c.origin, 'content-type': 'application/json' },
    });
    assert.equal(shape.status, 400);
    assert.equal((await consoleHttp(port, 'GET', '/operator/session')).status, 405);

    const first = await ConsoleClient.redeem(port, token);
    assert.equal(first.status, 200);
    assert.equal(first.headers['cache-control'], 'no-store');
    const sessionId = (first.json.data as { sessionId: string }).sessionId;
    assert.match(sessionId, /^[A-Za-z0-9_-]{43}$/);
    assert.notEqual(sessionId, token);
    const mine = new ConsoleClient(port, sessionId);
    assert.equal((await mine.call('keys.list', {})).code, '0');

    const again = await ConsoleClient.redeem(port, token);
    assert.equal(again.status, 401);
    assert.equal(again.json.code, '1005');
    assert.equal(again.json.data, null);
    assert.match(again.json.message, /kill -USR1/);
    assert.equal((await ConsoleClient.redeem(port, 'A'.repeat(43))).status, 401);
    assert.equal((await ConsoleClient.redeem(port, 'short')).status, 401);
  });

  it('answers 401 without the bearer on every /operator/* path; the static UI holds no secret', async () => {
    const api = await consoleHttp(port, 'POST', '/operator/api', {
      body: JSON.stringify({ method: 'keys.list', request: {} }),
      headers: { 'content-type': 'application/json', origin: c.origin },
    });
    assert.equal(api.status, 401);
    assert.equal(api.json.code, '1005');
    assert.equal(api.json.data, null);
    for (const [m, p] of [
      ['PUT', '/operator/stage?name=a.bin'],
      ['GET', '/operator/download/1'],
      ['GET', '/operator/nothing'],
    ] as const)
      assert.equal(
        (await consoleHttp(port, m, p, { headers: { origin: c.origin } })).status,
        401,
        p,
      );
    const page = await consoleHttp(port, 'GET', '/');
    assert.equal(page.status, 200);
    assert.doesNotMatch(page.text, new RegExp(c.sessionId));
    await assert.rejects(EventStream.open(port, { origin: c.origin }), /refused 401/);
  });

  it('a stolen or forged cookie opens nothing: no Authorization is 401 everywhere', async () => {
    // What another server on 127.0.0.1 could replay if the console ever set a cookie: even the
    // live session id itself, in a cookie, with the right Origin.
    for (const value of [c.sessionId, 'x'.repeat(43)]) {
      const cookie = `ukey_console=${value}`;
      const api = await consoleHttp(port, 'POST', '/operator/api', {
        body: JSON.stringify({ method: 'policies.list', request: {} }),
        headers: { cookie, origin: c.origin, 'content-type': 'application/json' },
      });
      assert.equal(api.status, 401);
      assert.equal(api.json.code, '1005');
      const staged = await consoleHttp(port, 'PUT', '/operator/stage?name=a.bin', {
        body: 'x',
        headers: { cookie, origin: c.origin },
      });
      assert.equal(staged.status, 401);
      const dl = await consoleHttp(port, 'GET', '/operator/download/1', { headers: { cookie } });
      assert.equal(dl.status, 401);
      await assert.rejects(
        EventStream.open(port, { cookie, origin: c.origin }, ['ukey-console']),
        /refused 401/,
      );
    }
  });

  it('refuses a wrong bearer: unknown, altered, another scheme, the token itself', async () => {
    const url = new URL(await serve.newLink());
    const unspent = url.searchParams.get('token')!;
    const flip = (s: string): string => (s[0] === 'A' ? 'B' : 'A') + s.slice(1);
    for (const authorization of [
      `Bearer ${'A'.repeat(43)}`,
      `Bearer ${flip(c.sessionId)}`,
      `Bearer ${c.sessionId}x`,
      `Bearer ${unspent}`,
      `Basic ${Buffer.from(`x:${c.sessionId}`).toString('base64')}`,
      c.sessionId,
      'Bearer',
    ]) {
      const r = await c.raw('POST', '/operator/api', {
        body: JSON.stringify({ method: 'keys.list', request: {} }),
        headers: { authorization, 'content-type': 'application/json' },
      });
      assert.equal(r.status, 401, authorization);
      assert.equal(r.json.code, '1005');
      const s = await c.raw('PUT', '/operator/stage?name=a.bin', {
        body: 'x',
        headers: { authorization },
      });
      assert.equal(s.status, 401, authorization);
      assert.equal(
        (await c.raw('GET', '/operator/download/1', { headers: { authorization } })).status,
        401,
      );
    }
    // The scheme's case does not matter (RFC 9110); the link's token was not spent by any of this.
    const lower = await c.raw('POST', '/operator/api', {
      body: JSON.stringify({ method: 'keys.list', request: {} }),
      headers: { authorization: `bearer ${c.sessionId}`, 'content-type': 'application/json' },
    });
    assert.equal(lower.json.code, '0');
    assert.equal((await ConsoleClient.redeem(port, unspent)).status, 200);
  });

  it('the event socket wants the bearer subprotocol next to ukey-console, and selects only ukey-console', async () => {
    for (const protocols of [
      [],
      ['ukey-console'],
      [`bearer.${c.sessionId}`],
      ['ukey-console', `bearer.${'A'.repeat(43)}`],
      ['ukey-console', `bearer.${c.sessionId}`, `bearer.${'A'.repeat(43)}`],
      ['other', `bearer.${c.sessionId}`],
    ])
      await assert.rejects(
        EventStream.open(port, { origin: c.origin }, protocols),
        /refused 401/,
        protocols.join(','),
      );
    const ev = await c.events();
    try {
      assert.equal(ev.ws.protocol, 'ukey-console');
    } finally {
      ev.close();
    }
    assert.deepEqual(wsProtocols('s'), ['ukey-console', 'bearer.s']);
  });

  it('refuses a foreign Host (DNS rebinding), even with a valid session', async () => {
    for (const host of ['evil.example', `evil.example:${port}`, `127.0.0.1:${port + 1}`]) {
      const r = await c.raw('GET', '/', { headers: { host } });
      assert.equal(r.status, 403, host);
      const a = await c.raw('POST', '/operator/api', {
        body: JSON.stringify({ method: 'keys.list', request: {} }),
        headers: { host, 'content-type': 'application/json' },
      });
      assert.equal(a.status, 403, host);
    }
    const ok = await c.raw('GET', '/', { headers: { host: `localhost:${port}` } });
    assert.equal(ok.status, 200);
  });

  it('refuses a foreign or missing Origin on POST, PUT and the WebSocket upgrade', async () => {
    for (const origin of ['http://evil.example', `http://127.0.0.1:${port + 1}`, 'null']) {
      const r = await c.raw('POST', '/operator/api', {
        body: JSON.stringify({ method: 'keys.list', request: {} }),
        headers: { origin, 'content-type': 'application/json' },
      });
      assert.equal(r.status, 403, origin);
      assert.equal(r.json.code, '1005');
      const s = await c.raw('PUT', '/operator/stage?name=a.bin', {
        body: 'x',
        headers: { origin },
      });
      assert.equal(s.status, 403, origin);
      await assert.rejects(c.events({ origin }), /refused 403/, origin);
    }
    const none = await consoleHttp(port, 'POST', '/operator/api', {
      body: JSON.stringify({ method: 'keys.list', request: {} }),
      headers: { authorization: c.authorization, 'content-type': 'application/json' },
    });
    assert.equal(none.status, 403);
    const ws = await c.events();
    ws.close();
  });

  it('wants application/json and at most 1 MiB', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data']) {
      const r = await c.raw('POST', '/operator/api', {
        body: JSON.stringify({ method: 'keys.list', request: {} }),
        headers: { 'content-type': type },
      });
      assert.equal(r.status, 415, type);
      assert.equal(r.json.code, '1001');
    }
    const big = JSON.stringify({
      method: 'documents.verify',
      request: { contentBase64: 'A'.repeat(1024 * 1024 + 8), filename: 'a.pdf' },
    });
    const r = await c.raw('POST', '/operator/api', {
      body: big,
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(r.status, 413);
    assert.equal(r.json.code, '1001');
  });

  it('refuses a staged upload declared over 2 GiB before reading it (413)', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          method: 'PUT',
          path: '/operator/stage?name=huge.bin',
          headers: {
            host: `127.0.0.1:${port}`,
            origin: c.origin,
            authorization: c.authorization,
            'content-length': String(3 * 1024 ** 3),
          },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.write(Buffer.alloc(1024));
    });
    assert.equal(status, 413);
  });

  it('ignores client frames on the event socket and closes it on one over 1 KiB', async () => {
    const ev = await c.events();
    ev.ws.send('hello');
    const closed = new Promise<number>((resolve) => ev.ws.once('close', (code) => resolve(code)));
    ev.ws.send('x'.repeat(2048));
    assert.equal(await closed, 1009);
  });

  it('validates requests exactly as IPC does: unknown methods, fields and shapes are 1001', async () => {
    assert.equal((await c.call('nope.nope' as never, {})).code, '1001');
    assert.equal((await c.call('keys.list', { extra: 1 })).code, '1001');
    assert.equal(
      (await c.call('relay.upload', { localPath: '/x', stagedId: 'a'.repeat(32) })).code,
      '1001',
    );
    const bad = await c.raw('POST', '/operator/api', {
      body: '{"method":',
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(bad.status, 200);
    assert.equal(bad.json.code, '1001');
  });

  it('serves static files with the CSP; traversal and unknown paths are 404', async () => {
    const r = await c.raw('GET', '/');
    assert.equal(r.status, 200);
    const csp = String(r.headers['content-security-policy']);
    assert.match(csp, /default-src 'self'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.match(csp, new RegExp(`connect-src 'self' ws://127\\.0\\.0\\.1:${port}`));
    assert.match(csp, /frame-ancestors 'none'/);
    assert.equal(r.headers['x-content-type-options'], 'nosniff');
    assert.equal(r.headers['referrer-policy'], 'no-referrer');
    assert.equal(r.headers['cache-control'], 'no-store');
    assert.match(r.text, /<html/i);
    // When the UI is built, its bundle is served with its type and the same headers.
    for (const m of r.text.matchAll(/(?:src|href)="\.?(\/assets\/[^"]+)"/g)) {
      const a = await c.raw('GET', m[1]!);
      assert.equal(a.status, 200, m[1]);
      assert.match(String(a.headers['content-type']), /javascript|css/);
      assert.equal(a.headers['content-security-policy'], csp);
    }
    for (const p of [
      '/assets/../../package.json',
      '/assets/%2e%2e/package.json',
      '/package.json',
      '/assets/x\\..\\y',
    ])
      assert.equal((await c.raw('GET', p)).status, 404, p);
  });
});

describe('console: wired operator methods (serve --demo)', () => {
  it('seals.query answers the demo seals from the platform', async () => {
    const seals = await c.ok<SealView[]>('seals.query', { orgCode: ORG, sealType: '0' });
    const codes = seals.map((s) => s.sealCode).sort();
    assert.deepEqual(codes, Object.values(serve.data.demo.seals).sort());
    for (const s of seals) {
      assert.equal(s.state, 1);
      assert.equal(s.certType, 1);
      assert.ok(s.signId.length > 10);
    }
    const one = await c.ok<SealView[]>('seals.query', {
      orgCode: ORG,
      sealType: '0',
      UKeyId: 'SUKDEMO0002',
    });
    assert.deepEqual(
      one.map((s) => s.sealCode),
      [serve.data.demo.seals.SUKDEMO0002],
    );
  });

  it('seals.file and seals.setState go through the outbox; outbox.list shows them delivered', async () => {
    const filing = {
      code: `console-${randomBytes(4).toString('hex')}`,
      name: '控制台测试章',
      sealType: '04',
      possessor: '示例单位',
      possessorCertNo: ORG,
      possessorType: 1,
      bizType: 1,
      certType: 2,
      moulageData: demoSealPng().toString('base64'),
      sealInvalidTime: '2099-12-31 23:59:59',
      userName: '李四',
      mobilePhone: '13800000001',
    };
    const filed = await c.ok<{ outboxId: number; status: string; sealCode: string }>('seals.file', {
      filing,
    });
    assert.equal(filed.status, 'delivered');
    assert.match(filed.sealCode, /^ES/);
    const cloudSeals = await c.ok<SealView[]>('seals.query', {
      orgCode: ORG,
      sealType: '0',
      certType: 2,
    });
    assert.ok(cloudSeals.some((s) => s.sealCode === filed.sealCode && s.certType === 2));
    const suspended = await c.ok<{ status: string }>('seals.setState', {
      sealCode: filed.sealCode,
      state: 4,
    });
    assert.equal(suspended.status, 'delivered');
    const after = await c.ok<SealView[]>('seals.query', {
      orgCode: ORG,
      sealType: '0',
      certType: 2,
    });
    assert.ok(!after.some((s) => s.sealCode === filed.sealCode), 'a suspended seal is not offered');
    const refused = await c.call('seals.setState', { sealCode: 'ES-NO-SUCH-SEAL', state: 4 });
    assert.notEqual(refused.code, '0');
    const items = await c.ok<{ id: number; kind: string; state: string }[]>('outbox.list');
    const mine = items.filter((i) => i.id === filed.outboxId || i.id === filed.outboxId + 1);
    assert.deepEqual(mine.map((i) => [i.kind, i.state]).sort(), [
      ['seal.filing', 'delivered'],
      ['seal.state', 'delivered'],
    ]);
    assert.ok(items.some((i) => i.state === 'failed'));
  });

  it('keys.exportCert answers the certificate as PEM', async () => {
    const certs = await c.ok<{ keyId: string; sha256: string; der: string }[]>(
      'keys.certificates',
      {
        ukeyId: 'SUKDEMO0001',
      },
    );
    assert.ok(certs.length > 0);
    const cert = certs[0]!;
    const pem = await c.ok<{ pem: string; filename: string }>('keys.exportCert', {
      ukeyId: 'SUKDEMO0001',
      sha256: cert.sha256,
    });
    assert.match(pem.pem, /^-----BEGIN CERTIFICATE-----/);
    assert.equal(pemToDer(pem.pem, 'CERTIFICATE').toString('base64'), cert.der);
    assert.match(pem.filename, /\.pem$/);
    assert.equal(
      (await c.call('keys.exportCert', { ukeyId: 'SUKDEMO0001', keyId: 'ffff' })).code,
      '1001',
    );
  });

  it('relay: a staged file uploads, downloads back byte for byte, with progress events', async () => {
    const events = await c.events();
    try {
      const content = randomBytes(300 * 1024 + 7);
      const staged = await c.stage('报告.bin', content);
      assert.equal(staged.size, content.length);
      assert.equal(staged.name, '报告.bin');
      const up = await c.ok<RelayJobView>('relay.upload', { stagedId: staged.stagedId });
      const done = await events.next(
        'relay.state',
        (j) => j.id === up.id && j.state === 'done',
        30_000,
      );
      assert.ok(done.fileId);
      await events.next('relay.progress', (p) => p.jobId === up.id);
      const down = await c.ok<RelayJobView>('relay.download', { fileId: done.fileId });
      await events.next('relay.state', (j) => j.id === down.id && j.state === 'done', 30_000);
      const file = await consoleHttp(port, 'GET', `/operator/download/${down.id}`, {
        headers: { authorization: c.authorization },
      });
      assert.equal(file.status, 200);
      assert.match(String(file.headers['content-disposition']), /attachment/);
      const stolen = await consoleHttp(port, 'GET', `/operator/download/${down.id}`, {
        headers: { cookie: `ukey_console=${c.sessionId}` },
      });
      assert.equal(stolen.status, 401);
      const foreign = await c.raw('GET', `/operator/download/${down.id}`, {
        headers: { origin: 'http://127.0.0.1:18790' },
      });
      assert.equal(foreign.status, 403);
      const raw = await getBytes(port, `/operator/download/${down.id}`, c.sessionId);
      assert.ok(raw.equals(content), 'downloaded bytes differ');
      const jobs = await c.ok<RelayJobView[]>('relay.list');
      assert.ok(jobs.some((j) => j.id === up.id && j.state === 'done'));
      assert.equal((await c.raw('GET', `/operator/download/${up.id}`)).status, 404);

      // The UI saves through a one-time link (the browser streams it to disk): a ticket issued to
      // the session, good once, for that job only; a link without a session has nothing else.
      const ticket = async (id: number) =>
        ((await c.raw('POST', `/operator/download/${id}/ticket`)).json.data as { url: string }).url;
      const url = await ticket(down.id);
      assert.match(url, new RegExp(`^/operator/download/${down.id}\\?ticket=[0-9a-f]{32}$`));
      const viaLink = await getBytes(port, url, 'not-a-session');
      assert.ok(viaLink.equals(content), 'the link serves the file');
      const again = await consoleHttp(port, 'GET', url, {});
      assert.equal(again.status, 401, 'a ticket is spent by its first use');
      assert.match(again.json.message, /used or has expired/);
      const other = (await ticket(down.id)).replace(`/download/${down.id}?`, `/download/${up.id}?`);
      assert.equal((await consoleHttp(port, 'GET', other, {})).status, 401, 'bound to its job');
      const forged = await consoleHttp(port, 'GET', `/operator/download/${down.id}?ticket=00`, {});
      assert.equal(forged.status, 401);
      // Issuing one needs the session and the console's own Origin, and a finished download.
      const noSession = await consoleHttp(port, 'POST', `/operator/download/${down.id}/ticket`, {
        headers: { origin: c.origin },
      });
      assert.equal(noSession.status, 401);
      const foreignTicket = await c.raw('POST', `/operator/download/${down.id}/ticket`, {
        headers: { origin: 'http://127.0.0.1:18790' },
      });
      assert.equal(foreignTicket.status, 403);
      const notDone = await c.raw('POST', `/operator/download/${up.id}/ticket`);
      assert.equal(notDone.status, 404);
      assert.equal(notDone.json.code, '1001');
    } finally {
      events.close();
    }
  });

  it('a JSAPI signature appears as approval.requested; a wrong PIN is reported with tries left; the right one signs', async () => {
    const events = await c.events();
    try {
      const signing = demoSign('SUKDEMO0002', '控制台合同');
      const req = (await events.next('approval.requested')) as unknown as PendingApprovalView;
      assert.equal(req.ukeyId, 'SUKDEMO0002');
      assert.equal(req.appId, 'demo-web');
      assert.equal(req.sealCode, serve.data.demo.seals.SUKDEMO0002);
      const pending = await c.ok<PendingApprovalView[]>('approvals.pending');
      assert.deepEqual(
        pending.map((p) => p.requestId),
        [req.requestId],
      );

      const wrong = await c.call('approvals.decide', {
        requestId: req.requestId,
        decision: 'approved',
        pin: serve.data.demo.pin === '000000' ? '111111' : '000000',
      });
      assert.equal(wrong.code, '2002', wrong.message);
      assert.match(wrong.message, /tries left|try left/);
      assert.equal(
        (await c.ok<PendingApprovalView[]>('approvals.pending')).length,
        1,
        'still pending',
      );

      const right = await c.call('approvals.decide', {
        requestId: req.requestId,
        decision: 'approved',
        pin: serve.data.demo.pin,
      });
      assert.equal(right.code, '0', right.message);
      const resolved = await events.next('approval.resolved', (p) => p.requestId === req.requestId);
      assert.equal(resolved.decision, 'approved');
      const answer = await signing;
      assert.equal(answer.code, '0', answer.message);
      assert.match(String((answer as { data?: unknown }).data), /^[A-Za-z0-9+/=]{40,}$/);
      assert.deepEqual(await c.ok('approvals.pending'), []);
    } finally {
      events.close();
    }
  });

  it('approved without a PIN: the key asks with pin.requested, pins.answer completes it', async () => {
    const events = await c.events();
    try {
      const signing = demoSign('SUKDEMO0001', '第二份合同');
      const req = await events.next('approval.requested');
      assert.equal(
        (await c.call('approvals.decide', { requestId: req.requestId, decision: 'approved' })).code,
        '0',
      );
      const prompt = await events.next('pin.requested', (p) => p.ukeyId === 'SUKDEMO0001');
      assert.equal(prompt.kind, 'user');
      assert.match(String(prompt.reason), /.+/);
      const listed = await c.ok<{ requestId: string }[]>('pins.pending');
      assert.deepEqual(
        listed.map((p) => p.requestId),
        [prompt.requestId],
      );
      assert.equal((await c.call('pins.answer', { requestId: prompt.requestId })).code, '1001');
      const a = await c.call('pins.answer', {
        requestId: prompt.requestId,
        pin: serve.data.demo.pin,
      });
      assert.equal(a.code, '0', a.message);
      assert.equal(
        (await events.next('pin.resolved', (p) => p.requestId === prompt.requestId)).outcome,
        'answered',
      );
      assert.equal((await signing).code, '0');
    } finally {
      events.close();
    }
  });

  it('a declined request answers the caller 2003', async () => {
    const events = await c.events();
    try {
      const signing = demoSign('SUKDEMO0001', '拒绝的合同');
      const req = await events.next('approval.requested');
      assert.equal(
        (await c.call('approvals.decide', { requestId: req.requestId, decision: 'declined' })).code,
        '0',
      );
      assert.equal((await signing).code, '2003');
      assert.equal(
        (await c.call('approvals.decide', { requestId: req.requestId, decision: 'approved' })).code,
        '1001',
      );
    } finally {
      events.close();
    }
  });
});

describe('console: no ambient credential', () => {
  it('no answer of this whole run set a cookie, and none but /operator/session carried the session id', async () => {
    // One more sweep over every kind of answer, with and without a session.
    const answers = [
      await consoleHttp(port, 'GET', '/'),
      await consoleHttp(port, 'HEAD', '/index.html'),
      await consoleHttp(port, 'GET', '/assets/none.js'),
      await consoleHttp(port, 'POST', '/'),
      await c.raw('GET', '/'),
      await c.raw('POST', '/operator/api', {
        body: JSON.stringify({ method: 'keys.list', request: {} }),
        headers: { 'content-type': 'application/json' },
      }),
      await c.raw('GET', '/operator/download/999999'),
      await c.raw('GET', '/operator/nothing'),
      await consoleHttp(port, 'POST', '/operator/api', { headers: { origin: c.origin } }),
    ];
    for (const r of answers) assert.doesNotMatch(r.text, new RegExp(c.sessionId));
    assert.deepEqual(setCookiesSeen, []);
  });
});
