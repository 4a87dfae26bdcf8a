// The reference platform's seal endpoints through the agent's client, over real HTTP.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AgentError } from '../../main/common/errors';
import type { PlatformClient } from '../../main/core/platform/platform-client';
import { demoSigningCertificate, startFixture, ukeySealFiling } from '../platform/fixture';
import type { Fixture } from '../platform/fixture';

let fx: Fixture;
let client: PlatformClient;
before(async () => {
  fx = await startFixture();
  client = fx.sm2.client;
});
after(async () => {
  assert.deepEqual(fx.internalErrors, []);
  await fx.close();
});

const rejectsWith = async (p: Promise<unknown>, code: string, message?: RegExp): Promise<void> => {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof AgentError, String(e));
    assert.equal(e.code, code, e.message);
    if (message) assert.match(e.message, message);
    return true;
  });
};

describe('seal filing', () => {
  it('files a UKey seal and answers a unique sealCode', async () => {
    const a = await client.fileSeal(ukeySealFiling());
    const b = await client.fileSeal(ukeySealFiling());
    assert.match(a, /^ES\d{8}[0-9A-HJKMNP-TV-Z]{10}$/);
    assert.notEqual(a, b);
  });

  it('stores the certificate and derives its serial, algorithm, CN and expiry', async () => {
    const cert = await demoSigningCertificate();
    const sealCode = await client.fileSeal(
      ukeySealFiling({
        certNumber: undefined,
        signPublicKey: cert.der.toString('base64'),
        possessorCertNo: 'ORG-CERT-1',
      }),
    );
    const [seal] = await client.querySeals({ orgCode: 'ORG-CERT-1', sealType: '0' });
    assert.equal(seal?.sealCode, sealCode);
    assert.equal(seal.algorithm, '2');
    assert.equal(seal.certList.length, 1);
    assert.equal(seal.certList[0]!.certCode, cert.serialHex);
    assert.equal(seal.certList[0]!.algorithm, 2);
    assert.equal(seal.certList[0]!.subjectCn, '张三');
    assert.match(seal.certList[0]!.invalidTime, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    assert.equal(seal.certList[0]!.signPublicKey, cert.der.toString('base64'));
    // A certNumber that contradicts the certificate is refused.
    await rejectsWith(
      client.fileSeal(
        ukeySealFiling({ certNumber: 'ff', signPublicKey: cert.der.toString('base64') }),
      ),
      '1001',
      /certNumber/,
    );
  });

  it('validates every field of table 1 (1001 naming the field)', async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ name: undefined }, /field name is required/],
      [{ sealType: '09' }, /field sealType must be one of/],
      [{ sealType: 4 }, /field sealType must be a string/],
      [{ possessorType: 3 }, /field possessorType must be one of 1, 2/],
      [{ possessorType: '1' }, /field possessorType must be an integer/],
      [{ bizType: 0 }, /field bizType/],
      [{ certType: 1.5 }, /field certType must be an integer/],
      [{ certNumber: 'xyz' }, /field certNumber must be the serial number in hex/],
      [{ certNumber: undefined }, /certNumber \(or signPublicKey\) is required/],
      [{ sealInvalidTime: '2099-02-30 00:00:00' }, /field sealInvalidTime must be a date/],
      [{ sealInvalidTime: '2001-01-01 00:00:00' }, /sealInvalidTime is in the past/],
      [{ moulageData: 'not*base64' }, /field moulageData must be standard Base64/],
      [{ signPublicKey: 'AAAA' }, /field signPublicKey is not a DER certificate/],
      [{ width: 0 }, /field width must be between 1 and 1000/],
      [{ mobilePhone: undefined }, /userName and mobilePhone go together/],
      [{ sealCode: 'ES2024' }, /sealCode must be absent for a filing/],
      [{ name: 'x'.repeat(201) }, /field name is longer than 200/],
    ];
    for (const [over, message] of cases)
      await rejectsWith(
        client.fileSeal(ukeySealFiling(over as Parameters<typeof ukeySealFiling>[0])),
        '1001',
        message,
      );
  });

  it('refuses to file the same business code twice while the seal lives', async () => {
    const sealCode = await client.fileSeal(ukeySealFiling({ code: 'dup-1' }));
    await rejectsWith(
      client.fileSeal(ukeySealFiling({ code: 'dup-1' })),
      '1001',
      new RegExp(`already filed as sealCode ${sealCode}`),
    );
    await client.setSealState({ sealCode, state: 3 });
    assert.notEqual(await client.fileSeal(ukeySealFiling({ code: 'dup-1' })), sealCode);
  });

  it('extends and changes a filed seal; unknown seals answer 2006', async () => {
    const filing = ukeySealFiling({ possessorCertNo: 'ORG-AMEND' });
    const sealCode = await client.fileSeal(filing);
    // Extension: later validity, same identity.
    assert.equal(
      await client.fileSeal({
        ...filing,
        bizType: 2,
        sealCode,
        sealInvalidTime: '2100-06-30 12:00:00',
      }),
      sealCode,
    );
    await rejectsWith(
      client.fileSeal({ ...filing, bizType: 2, sealCode, sealInvalidTime: '2099-01-01 00:00:00' }),
      '1001',
      /later than the current validity/,
    );
    await rejectsWith(
      client.fileSeal({ ...filing, bizType: 2, sealCode, sealInvalidTime: undefined }),
      '1001',
      /sealInvalidTime is required for an extension/,
    );
    await rejectsWith(
      client.fileSeal({
        ...filing,
        bizType: 2,
        sealCode,
        name: '新名称',
        sealInvalidTime: '2101-01-01 00:00:00',
      }),
      '1001',
      /field name differs .* use bizType 3/,
    );
    // Change: a new name and type; absent optional fields keep their filed values.
    await client.fileSeal({
      ...filing,
      bizType: 3,
      sealCode,
      name: '北京某某科技有限公司财务专用章',
      sealType: '02',
      sealInvalidTime: undefined,
    });
    const [seal] = await client.querySeals({ orgCode: 'ORG-AMEND', sealType: '02' });
    assert.equal(seal?.sealName, '北京某某科技有限公司财务专用章');
    assert.equal(seal.sealInvalidTime, '2100-06-30 12:00:00');

    await rejectsWith(client.fileSeal({ ...filing, bizType: 3 }), '1001', /sealCode is required/);
    await rejectsWith(
      client.fileSeal({ ...filing, bizType: 3, sealCode: 'ES20990101UNKNOWN000' }),
      '2006',
    );
    await rejectsWith(
      client.fileSeal({
        ...filing,
        bizType: 2,
        sealCode: 'ES20990101UNKNOWN000',
        sealInvalidTime: '2101-01-01 00:00:00',
      }),
      '2006',
    );
    // Another app may not amend it.
    await rejectsWith(fx.rsa.client.fileSeal({ ...filing, bizType: 3, sealCode }), '1005');
  });
});

describe('seal state machine', () => {
  it('walks 1 → 4 → 1 → 4 → 3 and refuses every illegal move', async () => {
    const sealCode = await client.fileSeal(ukeySealFiling({ possessorCertNo: 'ORG-STATE' }));
    const visible = async (): Promise<number> =>
      (await client.querySeals({ orgCode: 'ORG-STATE', sealType: '0' })).length;
    assert.equal(await visible(), 1, 'a filed seal starts enabled');

    await rejectsWith(client.setSealState({ sealCode, state: 1 }), '1001', /already enabled/);
    await client.setSealState({ sealCode, state: 4 });
    assert.equal(await visible(), 0, 'a suspended seal is not answered');
    await rejectsWith(client.setSealState({ sealCode, state: 4 }), '1001', /already suspended/);
    await client.setSealState({ sealCode, state: 1 });
    assert.equal(await visible(), 1);
    await client.setSealState({ sealCode, state: 4 });
    await client.setSealState({ sealCode, state: 3 });
    assert.equal(await visible(), 0);
    for (const state of [1, 3, 4] as const)
      await rejectsWith(client.setSealState({ sealCode, state }), '1001', /cancellation is final/);
    // A cancelled seal cannot be extended or changed either.
    await rejectsWith(
      client.fileSeal(ukeySealFiling({ bizType: 3, sealCode, possessorCertNo: 'ORG-STATE' })),
      '2006',
    );
  });

  it('cancels straight from enabled; refuses bad states, unknown seals and other apps', async () => {
    const sealCode = await client.fileSeal(ukeySealFiling());
    await rejectsWith(fx.rsa.client.setSealState({ sealCode, state: 4 }), '1005');
    await rejectsWith(
      client.setSealState({ sealCode, state: 2 as unknown as 1 }),
      '1001',
      /field state must be one of 1, 3, 4/,
    );
    await rejectsWith(client.setSealState({ sealCode: 'ES20990101NOPE000000', state: 4 }), '2006');
    await client.setSealState({ sealCode, state: 3 });
  });
});

describe('seal query', () => {
  it('answers tables 7–9 with a fresh signId per seal, filtered as asked', async () => {
    const org = 'ORG-QUERY';
    const contract = await client.fileSeal(ukeySealFiling({ possessorCertNo: org }));
    const finance = await client.fileSeal(
      ukeySealFiling({ possessorCertNo: org, sealType: '02', UKeyId: 'UK-0002', certNumber: 'ab' }),
    );
    const cloud = await client.fileSeal(
      ukeySealFiling({
        possessorCertNo: org,
        sealType: '01',
        certType: 2,
        certNumber: undefined,
        UKeyId: undefined,
      }),
    );
    const all = await client.querySeals({ orgCode: org, sealType: '0' });
    assert.deepEqual(
      all.map((s) => s.sealCode),
      [contract, finance, cloud],
    );
    const first = all[0]!;
    assert.equal(first.sealType, '04');
    assert.equal(first.sealRelateType, '1');
    assert.equal(first.sealName, '北京某某科技有限公司合同专用章');
    assert.equal(first.moulageData, ukeySealFiling().moulageData);
    assert.deepEqual([first.width, first.height, first.dpiX, first.dpiY], [42, 42, 496, 496]);
    assert.equal(first.certType, 1);
    assert.equal(first.UKeyId, 'UK-0001');
    assert.equal(first.platName, '甲印章系统');
    assert.equal(first.destHost, 'http://127.0.0.1:18788');
    assert.equal(first.state, 1, 'first delivery: waiting to be downloaded');
    assert.deepEqual(first.userList, [{ userName: '李四', mobilePhone: '13800000000' }]);
    assert.equal(new Set(all.map((s) => s.signId)).size, 3);
    assert.equal(all[2]!.destHost, '', 'destHost is for UKey seals only');

    const again = await client.querySeals({ orgCode: org, sealType: '0' });
    assert.equal(again[0]!.state, 2, 'then: downloaded');
    assert.notEqual(again[0]!.signId, first.signId);

    const pick = async (q: Record<string, unknown>): Promise<string[]> =>
      (await client.querySeals({ orgCode: org, sealType: '0', ...q })).map((s) => s.sealCode);
    assert.deepEqual(await pick({ sealType: '02' }), [finance]);
    assert.deepEqual(await pick({ certType: 2 }), [cloud]);
    assert.deepEqual(await pick({ certType: 1 }), [contract, finance]);
    assert.deepEqual(await pick({ certNumber: '00AB' }), [finance]);
    assert.deepEqual(await pick({ UKeyId: 'UK-0002' }), [finance]);
    assert.deepEqual(await pick({ orgCode: 'ORG-NOBODY' }), []);
    await rejectsWith(
      client.querySeals({ orgCode: org, sealType: '9' as '0' }),
      '1001',
      /sealType/,
    );
    await rejectsWith(
      client.querySeals({ orgCode: '', sealType: '0' }),
      '1001',
      /orgCode is required/,
    );
  });

  it('works the same for an app signing with RSA', async () => {
    const sealCode = await fx.rsa.client.fileSeal(ukeySealFiling({ possessorCertNo: 'ORG-RSA' }));
    const seals = await fx.rsa.client.querySeals({ orgCode: 'ORG-RSA', sealType: '04' });
    assert.deepEqual(
      seals.map((s) => s.sealCode),
      [sealCode],
    );
    assert.equal(seals[0]!.platName, '电子印章互通互认服务平台(参考实现)');
  });
});

describe('sign-id verification', () => {
  const org = 'ORG-SIGNID';
  let sealCode: string;
  before(async () => {
    sealCode = await client.fileSeal(ukeySealFiling({ possessorCertNo: org }));
  });
  const freshSignId = async (): Promise<string> =>
    (await client.querySeals({ orgCode: org, sealType: '0' })).find((s) => s.sealCode === sealCode)!
      .signId;
  const certNumber = '0a1b2c3d4e5f60718293';

  it('confirms a signId once, from any app, and refuses it afterwards (2005)', async () => {
    const signId = await freshSignId();
    const ok = await fx.rsa.client.verifySignId({ signId, sealCode, certNumber });
    assert.deepEqual(ok, {
      valid: true,
      sealCode,
      sealName: '北京某某科技有限公司合同专用章',
      sealType: '04',
      certNumber,
      moulageData: ukeySealFiling().moulageData,
    });
    await rejectsWith(
      client.verifySignId({ signId, sealCode, certNumber }),
      '2005',
      /already used/,
    );
  });

  it('refuses unknown signIds, other seals and other certificates without consuming', async () => {
    await rejectsWith(
      client.verifySignId({ signId: 'nope', sealCode, certNumber }),
      '2005',
      /unknown/,
    );
    const signId = await freshSignId();
    const other = await client.fileSeal(ukeySealFiling({ possessorCertNo: org }));
    await rejectsWith(
      client.verifySignId({ signId, sealCode: other, certNumber }),
      '2005',
      /another seal/,
    );
    await rejectsWith(
      client.verifySignId({ signId, sealCode, certNumber: 'ff' }),
      '2005',
      /another certificate/,
    );
    // Case and a leading zero octet do not make another serial.
    const ok = await client.verifySignId({
      signId,
      sealCode,
      certNumber: `00${certNumber.toUpperCase()}`,
    });
    assert.equal(ok.valid, true);
  });

  it('refuses an expired signId (2005)', async () => {
    const signId = await freshSignId();
    fx.skew.ms = 5 * 60_000 + 1_000;
    try {
      // Both clocks move, so the request itself is on time and only the signId is stale.
      const moved = fx.clientFor(fx.sm2.signer, { clock: () => Date.now() + fx.skew.ms });
      await rejectsWith(moved.verifySignId({ signId, sealCode, certNumber }), '2005', /expired/);
    } finally {
      fx.skew.ms = 0;
    }
  });

  it('revokes outstanding signIds when a seal is suspended, for good', async () => {
    const signId = await freshSignId();
    await client.setSealState({ sealCode, state: 4 });
    await rejectsWith(client.verifySignId({ signId, sealCode, certNumber }), '2006', /not enabled/);
    await client.setSealState({ sealCode, state: 1 });
    await rejectsWith(client.verifySignId({ signId, sealCode, certNumber }), '2005', /expired/);
  });

  it('answers 2006 when the seal was suspended after the signId was issued', async () => {
    const code2 = await client.fileSeal(ukeySealFiling({ possessorCertNo: 'ORG-SIGNID-2' }));
    const [seal] = await client.querySeals({ orgCode: 'ORG-SIGNID-2', sealType: '0' });
    // Suspend through the database as another platform node would, keeping the signId.
    const db = (await import('better-sqlite3')).default(`${fx.dir}/platform/platform.db`);
    db.prepare('UPDATE seals SET state = 4 WHERE seal_code = ?').run(code2);
    db.close();
    await rejectsWith(
      client.verifySignId({ signId: seal!.signId, sealCode: code2, certNumber }),
      '2006',
      /not enabled/,
    );
  });
});
