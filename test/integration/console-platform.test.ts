// The console's platform methods in process, over real HTTP/WS against the reference platform: the
// platform's verdict on signed PDFs with every flow step (inline and staged), the cloud-seal flow
// (apply → the holder confirms on the platform's H5 page → result → sign, P7 verified), and the
// start-up token's expiry.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type {
  CloudApplyView,
  CloudResultView,
  CloudSignView,
  DocumentVerifyView,
} from '../../main/common/operator-api';
import { createAgent } from '../../main/core/agent';
import type { Agent } from '../../main/core/agent';
import { sm3 } from '../../main/core/crypto/sm3';
import { verifyDetachedSignedData } from '../../main/core/pki/cms';
import { ConsoleAuth } from '../../main/core/operator/console-auth';
import { startOperatorConsole } from '../../main/core/operator/console';
import type { OperatorConsole } from '../../main/core/operator/console';
import { StageTooLarge, StagingArea } from '../../main/core/operator/staging';
import { WebConsoleHost } from '../../main/core/operator/web-console-host';
import { softukeyLibrary } from '../../main/cli/commands/softukey';
import { ConsoleClient } from '../helpers/console-client';
import { tempDir } from '../helpers/dev-tokens';
import { samplePdf, signPdf, testPki } from '../helpers/pdf-fixtures';
import { startFixture, ukeySealFiling } from '../platform/fixture';
import type { Fixture } from '../platform/fixture';

const ORG = 'ORG-CONSOLE-1';
const MOBILE = '13900000009';
const ID_NO = '110101199001019999';

let fx: Fixture;
let agent: Agent;
let con: OperatorConsole;
let c: ConsoleClient;
let clock = Date.now();
const auth = new ConsoleAuth({ now: () => clock });

before(async () => {
  fx = await startFixture({ onAuthCode: () => undefined });
  process.env.SOFTUKEY_DIR = tempDir('console-platform-tokens');
  const dataDir = join(fx.dir, 'agent');
  const host = new WebConsoleHost();
  agent = await createAgent({
    dataDir,
    port: 0,
    modules: [softukeyLibrary()],
    platform: fx.sm2.client,
    host,
  });
  con = await startOperatorConsole({
    agent,
    host,
    dataDir,
    platform: { client: fx.sm2.client, baseUrl: fx.platform.url, signer: fx.sm2.signer },
    port: 0,
    auth,
  });
  c = await ConsoleClient.login(con.server.issueUrl());
});
after(async () => {
  await con.close();
  await agent.close();
  assert.deepEqual(fx.internalErrors, []);
  await fx.close();
});

describe('console: documents.verify answers the platform verdict with each step', () => {
  it('a PDF signed under a trusted CA, sent inline and staged: verified, seal named, 4 steps', async () => {
    const pki = await testPki('sm2');
    fx.platform.trustCa(pki.caCert);
    const sealCode = await fx.sm2.client.fileSeal(
      ukeySealFiling({ certNumber: undefined, signPublicKey: pki.cert.toString('base64') }),
    );
    const signed = (await signPdf(await samplePdf(), pki)).signed;
    const inline = await c.ok<DocumentVerifyView>('documents.verify', {
      contentBase64: signed.toString('base64'),
      filename: '合同.pdf',
    });
    assert.equal(inline.fileName, '合同.pdf');
    assert.equal(inline.fileSize, signed.length);
    assert.equal(inline.signCount, 1);
    assert.equal(inline.verifyResult, true, JSON.stringify(inline.signatures));
    const [sig] = inline.signatures;
    assert.equal(sig!.sealCode, sealCode);
    assert.equal(sig!.passed, true);
    assert.equal(sig!.steps.length, 4);
    for (const s of sig!.steps) {
      assert.equal(s.passed, true);
      assert.ok(s.step.length > 0 && s.hint.length > 0);
    }
    const staged = await c.stage('staged.pdf', signed);
    const viaStage = await c.ok<DocumentVerifyView>('documents.verify', {
      stagedId: staged.stagedId,
    });
    assert.equal(viaStage.fileName, 'staged.pdf');
    assert.deepEqual(viaStage.signatures, inline.signatures);
  });

  it('a PDF signed under an untrusted CA, or altered after signing: not verified, the failing step named', async () => {
    const stranger = await testPki('sm2');
    const signed = (await signPdf(await samplePdf(), stranger)).signed;
    const r = await c.ok<DocumentVerifyView>('documents.verify', {
      contentBase64: signed.toString('base64'),
      filename: 'a.pdf',
    });
    assert.equal(r.verifyResult, false);
    assert.equal(r.signatures[0]!.passed, false);
    assert.ok(r.signatures[0]!.steps.some((s) => !s.passed));

    const pki = await testPki('sm2');
    fx.platform.trustCa(pki.caCert);
    const good = (await signPdf(await samplePdf(), pki)).signed;
    const altered = Buffer.from(good);
    const at = altered.indexOf('Contract page 1');
    altered[at] = 'K'.charCodeAt(0);
    const bad = await c.ok<DocumentVerifyView>('documents.verify', {
      contentBase64: altered.toString('base64'),
      filename: 'altered.pdf',
    });
    assert.equal(bad.verifyResult, false);
    assert.ok(bad.signatures[0]!.steps.some((s) => !s.passed));
  });

  it('refuses a missing staged file and a bad base64 with 1001', async () => {
    assert.equal((await c.call('documents.verify', { stagedId: 'f'.repeat(32) })).code, '1001');
    assert.equal(
      (await c.call('documents.verify', { contentBase64: '!!!!', filename: 'a.pdf' })).code,
      '1001',
    );
  });
});

/** POSTs the H5 page's form, as the holder's phone would. */
const submitCode = (authUrl: string, code: string): Promise<Response> =>
  fetch(authUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ code }).toString(),
    redirect: 'manual',
  });

describe('console: cloud signing', () => {
  it('apply → confirm on the H5 page → result → sign (P7 verifies over the digest)', async () => {
    const sealCode = await fx.sm2.client.fileSeal(
      ukeySealFiling({
        certType: 2,
        certNumber: undefined,
        UKeyId: undefined,
        possessorType: 2,
        possessor: '王五',
        possessorCertNo: ID_NO,
        orgCode: ORG,
        mobilePhone: MOBILE,
      }),
    );
    const digest = sm3(Buffer.from('控制台云签章文件'));
    const input = {
      sealCode,
      orgCode: ORG,
      mobile: MOBILE,
      credentNo: ID_NO,
      docHash: digest.toString('base64'),
      hashType: 4,
    };
    const app = await c.ok<CloudApplyView>('cloud.apply', input);
    assert.ok(app.authUrl.startsWith(`${fx.platform.url}/h5/auth/`), app.authUrl);
    assert.equal(app.confirmUrl, app.authUrl);
    assert.ok(app.expiresAt > Date.now());

    const pending = await c.ok<CloudResultView>('cloud.result', { requestId: app.requestId });
    assert.equal(pending.state, 'pending');
    const early = await c.call('cloud.sign', { requestId: app.requestId });
    assert.equal(early.code, '2003', early.message);

    const code = fx.platform.authCodeOf(app.requestId)!;
    assert.equal((await submitCode(app.authUrl, code)).status, 200);
    const confirmed = await c.ok<CloudResultView>('cloud.result', { requestId: app.requestId });
    assert.equal(confirmed.state, 'confirmed');

    const signed = await c.ok<CloudSignView>('cloud.sign', { requestId: app.requestId });
    assert.equal(signed.format, 'P7');
    const p7 = verifyDetachedSignedData(Buffer.from(signed.signature, 'base64'), {
      messageDigest: digest,
    });
    assert.equal(p7.valid, true);
    assert.equal(p7.signerCertificate.subjectFields.CN, '王五');
    // Single use: the application is spent.
    assert.equal((await c.call('cloud.sign', { requestId: app.requestId })).code, '1001');
    assert.equal((await c.call('cloud.result', { requestId: 'nope' })).code, '1001');
  });
});

describe('console: the staging area', () => {
  it('streams to disk, refuses past its cap and keeps nothing then', async () => {
    const dir = tempDir('console-staging');
    const area = new StagingArea(dir, 4096);
    const ok = await area.put(Readable.from([Buffer.alloc(3000, 1)]), '../../etc/报告.pdf');
    assert.equal(ok.name, '报告.pdf');
    assert.equal(ok.size, 3000);
    assert.equal(area.resolve(ok.stagedId).name, '报告.pdf');
    await assert.rejects(
      area.put(Readable.from([Buffer.alloc(3000), Buffer.alloc(3000)]), 'big.bin'),
      StageTooLarge,
    );
    assert.deepEqual(
      readdirSync(area.dir).filter((f) => !f.startsWith(ok.stagedId)),
      [],
    );
    assert.throws(() => area.resolve('../x'), /staged file id/);
  });
});

describe('console: the start-up token expires', () => {
  it('a link older than 5 minutes is refused; a fresh one works', async () => {
    const url = new URL(con.server.issueUrl());
    clock += 5 * 60_000 + 1;
    const old = await ConsoleClient.redeem(con.server.port, url.searchParams.get('token')!);
    assert.equal(old.status, 401);
    assert.equal(old.json.code, '1005');
    const fresh = await ConsoleClient.login(con.server.issueUrl());
    assert.equal((await fresh.call('keys.list', {})).code, '0');
  });

  it('a session idle for 12 hours ends', async () => {
    const s = await ConsoleClient.login(con.server.issueUrl());
    assert.equal((await s.call('keys.list', {})).code, '0');
    clock += 12 * 3_600_000 + 1;
    const r = await s.call('keys.list', {});
    assert.equal(r.status, 401);
  });
});
