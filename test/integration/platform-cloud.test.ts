// The cloud-certificate flow (seed 004 §6.2, tables 10–18) over real HTTP: apply, the holder
// confirms on the platform's H5 page with the code sent out of band, result, sign.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AgentError } from '../../main/common/errors';
import { sm2Verify } from '../../main/core/crypto/sm2';
import { sm3 } from '../../main/core/crypto/sm3';
import { parseCertificate } from '../../main/core/pki/certificate';
import { verifyDetachedSignedData } from '../../main/core/pki/cms';
import { waitForCloudAuth } from '../../main/core/platform/cloud-flow';
import type { PlatformClient } from '../../main/core/platform/platform-client';
import type { CloudSignParams } from '../../main/core/platform/types';
import { startFixture, ukeySealFiling } from '../platform/fixture';
import type { Fixture } from '../platform/fixture';

let fx: Fixture;
let client: PlatformClient;
before(async () => {
  fx = await startFixture({ onAuthCode: () => undefined });
  client = fx.sm2.client;
});
after(async () => {
  assert.deepEqual(fx.internalErrors, []);
  await fx.close();
});

const MOBILE = '13900000001';
const ID_NO = '110101199001011234';
const ORG = 'ORG-CLOUD-1';

const rejectsWith = async (p: Promise<unknown>, code: string, message?: RegExp): Promise<void> => {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof AgentError, String(e));
    assert.equal(e.code, code, e.message);
    if (message) assert.match(e.message, message);
    return true;
  });
};

/** A personal cloud seal and a fresh signId for it. */
async function cloudSeal(): Promise<{ sealCode: string; signId: () => Promise<string> }> {
  const sealCode = await client.fileSeal(
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
  const signId = async (): Promise<string> => {
    const seals = await client.querySeals({ orgCode: ORG, sealType: '0', certType: 2 });
    return seals.find((s) => s.sealCode === sealCode)!.signId;
  };
  return { sealCode, signId };
}

/** POSTs the H5 page's form, as the holder's browser would. */
const submitCode = (authUrl: string, code: string): Promise<Response> =>
  fetch(authUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ code }).toString(),
    redirect: 'manual',
  });

const digest = sm3(Buffer.from('the sealed document'));

function signParams(
  sealCode: string,
  authId: string,
  authCode: string,
  signId: string,
  over: Partial<CloudSignParams> = {},
): CloudSignParams {
  return {
    sealCode,
    authId,
    authCode,
    signId,
    type: 'P7',
    docHash: digest.toString('base64'),
    credentNo: ID_NO,
    hashType: 4,
    ...over,
  };
}

describe('cloud signing', () => {
  it('runs the whole flow: apply, H5 page, code, result, P7 and P1 signatures', async () => {
    const seal = await cloudSeal();
    const app = await client.applyCloudAuth({ sealCode: seal.sealCode, mobile: MOBILE });
    assert.equal(app.clientType, 'H5');
    assert.ok(app.authUrl.startsWith(`${fx.platform.url}/h5/auth/`));

    const pending = await client.cloudAuthResult({ authId: app.authId, sealCode: seal.sealCode });
    assert.deepEqual(pending, { authId: app.authId, authCode: '', status: 'pending' });

    const page = await fetch(app.authUrl);
    assert.equal(page.status, 200);
    const html = await page.text();
    assert.match(html, /王五/);
    assert.match(html, new RegExp(seal.sealCode));
    assert.match(html, /139\*\*\*\*0001/);
    assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'none'/);

    const code = fx.platform.authCodeOf(app.authId)!;
    assert.match(code, /^\d{6}$/);
    const wrong = code === '000000' ? '111111' : '000000';
    const bad = await submitCode(app.authUrl, wrong);
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /4 of 5 tries left/);
    const ok = await submitCode(app.authUrl, code);
    assert.equal(ok.status, 200);

    const auth = await waitForCloudAuth(client, app.authId, seal.sealCode, { timeoutMs: 1000 });
    assert.equal(auth.status, 'confirmed');
    assert.ok(auth.authCode.length >= 16);

    const signed = await client.cloudSign(
      signParams(seal.sealCode, app.authId, auth.authCode, await seal.signId()),
    );
    assert.equal(signed.type, 'P7');
    const p7 = verifyDetachedSignedData(Buffer.from(signed.signData, 'base64'), {
      messageDigest: digest,
    });
    assert.equal(p7.valid, true);
    assert.equal(p7.signerCertificate.subjectFields.CN, '王五');
    const ca = parseCertificate(fx.platform.cloudCaCertificate);
    assert.equal(p7.signerCertificate.issuer, ca.subject);

    // The authorisation was single-use: a second signature needs a new one.
    await rejectsWith(
      client.cloudSign(signParams(seal.sealCode, app.authId, auth.authCode, await seal.signId())),
      '2005',
      /already used/,
    );

    // P1 over the same key: the bare SM2 signature over docHash's bytes.
    const app2 = await client.applyCloudAuth({ sealCode: seal.sealCode, mobile: MOBILE });
    assert.equal(
      (await submitCode(app2.authUrl, fx.platform.authCodeOf(app2.authId)!)).status,
      200,
    );
    const auth2 = await client.cloudAuthResult({ authId: app2.authId, sealCode: seal.sealCode });
    const p1 = await client.cloudSign(
      signParams(seal.sealCode, app2.authId, auth2.authCode, await seal.signId(), { type: 'P1' }),
    );
    assert.ok(
      sm2Verify(
        p7.signerCertificate.publicKey.sm2Point!,
        digest,
        Buffer.from(p1.signData, 'base64'),
      ),
    );
  });

  it('refuses to sign without a confirmed authorisation, or with a wrong authCode', async () => {
    const seal = await cloudSeal();
    const app = await client.applyCloudAuth({ sealCode: seal.sealCode, mobile: MOBILE });
    await rejectsWith(
      client.cloudSign(signParams(seal.sealCode, app.authId, 'x'.repeat(32), await seal.signId())),
      '2005',
      /not confirmed/,
    );
    await rejectsWith(
      client.cloudSign(signParams(seal.sealCode, 'no-such-auth', 'x', await seal.signId())),
      '2005',
      /unknown/,
    );
    await submitCode(app.authUrl, fx.platform.authCodeOf(app.authId)!);
    const auth = await client.cloudAuthResult({ authId: app.authId, sealCode: seal.sealCode });
    await rejectsWith(
      client.cloudSign(
        signParams(seal.sealCode, app.authId, `${auth.authCode}x`, await seal.signId()),
      ),
      '2005',
      /does not match/,
    );
    await rejectsWith(
      client.cloudSign(
        signParams(seal.sealCode, app.authId, auth.authCode, await seal.signId(), {
          credentNo: '999',
        }),
      ),
      '1001',
      /credentNo/,
    );
    await rejectsWith(
      client.cloudSign(signParams(seal.sealCode, app.authId, auth.authCode, 'bogus-sign-id')),
      '2005',
      /signId/,
    );
    await rejectsWith(
      client.cloudSign(
        signParams(seal.sealCode, app.authId, auth.authCode, await seal.signId(), { hashType: 3 }),
      ),
      '2007',
    );
    // The refusals above consumed nothing: the right request still signs.
    const signed = await client.cloudSign(
      signParams(seal.sealCode, app.authId, auth.authCode, await seal.signId()),
    );
    assert.equal(signed.type, 'P7');
  });

  it('locks after five wrong codes, and expires an authorisation', async () => {
    const seal = await cloudSeal();
    const app = await client.applyCloudAuth({ sealCode: seal.sealCode, mobile: MOBILE });
    const code = fx.platform.authCodeOf(app.authId)!;
    const wrong = code === '123456' ? '654321' : '123456';
    for (let i = 0; i < 5; i++) await submitCode(app.authUrl, wrong);
    assert.equal((await submitCode(app.authUrl, code)).status, 403);
    await rejectsWith(
      client.cloudAuthResult({ authId: app.authId, sealCode: seal.sealCode }),
      '2005',
      /locked/,
    );

    const late = await client.applyCloudAuth({ sealCode: seal.sealCode, mobile: MOBILE });
    fx.skew.ms = 6 * 60_000;
    try {
      assert.equal(
        (await submitCode(late.authUrl, fx.platform.authCodeOf(late.authId)!)).status,
        410,
      );
    } finally {
      fx.skew.ms = 0;
    }
    // Confirmed in time, but the authCode outlives its lifetime unused.
    const slow = await client.applyCloudAuth({ sealCode: seal.sealCode, mobile: MOBILE });
    await submitCode(slow.authUrl, fx.platform.authCodeOf(slow.authId)!);
    const auth = await client.cloudAuthResult({ authId: slow.authId, sealCode: seal.sealCode });
    const signId = await seal.signId();
    fx.skew.ms = 6 * 60_000;
    try {
      await rejectsWith(
        fx
          .clientFor(fx.sm2.signer, { clock: () => Date.now() + fx.skew.ms })
          .cloudSign(signParams(seal.sealCode, slow.authId, auth.authCode, signId)),
        '2005',
        /expired/,
      );
    } finally {
      fx.skew.ms = 0;
    }
  });

  it('checks the application: mobile, seal kind, another app, another seal', async () => {
    const seal = await cloudSeal();
    await rejectsWith(
      client.applyCloudAuth({ sealCode: seal.sealCode, mobile: '13000000000' }),
      '1001',
      /mobile/,
    );
    const ukey = await client.fileSeal(ukeySealFiling());
    await rejectsWith(client.applyCloudAuth({ sealCode: ukey, mobile: MOBILE }), '1001', /UKey/);
    await rejectsWith(
      client.applyCloudAuth({ sealCode: 'ES20990101ZZZZZZZZZZ', mobile: MOBILE }),
      '2006',
    );
    const app = await client.applyCloudAuth({ sealCode: seal.sealCode, mobile: MOBILE });
    await rejectsWith(
      fx.rsa.client.cloudAuthResult({ authId: app.authId, sealCode: seal.sealCode }),
      '2005',
    );
    const other = await cloudSeal();
    await rejectsWith(
      client.cloudAuthResult({ authId: app.authId, sealCode: other.sealCode }),
      '2005',
      /another seal/,
    );
    const missing = await fetch(`${fx.platform.url}/h5/auth/nope`);
    assert.equal(missing.status, 404);
  });
});
