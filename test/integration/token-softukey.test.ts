import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TokenService } from '../../main/core/token/token-service';
import { buildCsr, verifyCsr } from '../../main/core/pki/csr';
import { derToPem } from '../../main/core/pki/keys';
import { certificateFromCsr, issuerFromCertificate, selfSignedCa } from '../../main/core/pki/issue';
import { softwareSm2Provider } from '../../main/core/pki/signer';
import { generateSm2KeyPair, sm2Verify } from '../../main/core/crypto/sm2';
import { setGmBackend } from '../../main/core/crypto/sm3';
import { AgentError } from '../../main/common/errors';
import { ScriptedHost } from '../helpers/scripted-host';
import { makeSoftUKey } from '../helpers/dev-tokens';
import type { SoftUKeyFixture } from '../helpers/dev-tokens';
import { files, openssl, opensslSm2Verify } from '../helpers/openssl';

const code = (e: unknown): string =>
  e instanceof AgentError ? e.code : `not an AgentError: ${String(e)}`;

describe('token service over the SM2 software UKey', () => {
  let fx: SoftUKeyFixture;
  let host: ScriptedHost;
  let svc: TokenService;
  let signSpki: Buffer;

  before(async () => {
    fx = await makeSoftUKey('SUKCORE01', '核心测试Key');
    host = new ScriptedHost({ user: fx.pin });
    svc = new TokenService({ modules: [fx.lib], host, pollIntervalMs: 0, loginIdleMs: 60_000 });
  });
  after(() => {
    setGmBackend(undefined);
    svc.close();
  });

  it('lists the key with serial, label and the development marking', () => {
    const [k] = svc.list();
    assert.ok(k);
    assert.equal(k.ukeyId, 'SUKCORE01');
    assert.equal(k.label, '核心测试Key');
    assert.equal(k.vendor.id, 'softukey');
    assert.equal(k.development, true);
    assert.match(k.manufacturer, /SoftUKey/);
    assert.deepEqual(k.pin, {
      initialized: true,
      countLow: false,
      finalTry: false,
      locked: false,
      soLocked: false,
    });
  });

  it('generates SM2 sign and encryption keys, CSRs OpenSSL verifies, tells the certificates apart', async () => {
    const caSigner = softwareSm2Provider(generateSm2KeyPair());
    const caCert = await selfSignedCa({ subject: 'CN=Test SM2 CA,C=CN', signer: caSigner });
    const ca = issuerFromCertificate(caCert, caSigner);
    for (const [label, keyUsage] of [
      ['sign', ['digitalSignature', 'nonRepudiation']],
      ['enc', ['keyEncipherment', 'dataEncipherment', 'keyAgreement']],
    ] as const) {
      const key = await svc.generateKeyPair(fx.serial, 'sm2', label);
      assert.equal(key.algorithm, 'sm2');
      const csr = await buildCsr({
        subject: `CN=测试 ${label},O=示例,C=CN`,
        signer: await svc.provider(fx.serial, { label }, 'csr'),
      });
      assert.ok(verifyCsr(csr));
      const f = files({ 'req.pem': derToPem(csr, 'CERTIFICATE REQUEST') });
      const v = openssl([
        'req',
        '-in',
        f['req.pem']!,
        '-verify',
        '-noout',
        '-vfyopt',
        'distid:1234567812345678',
      ]);
      assert.match(v.out, /verify OK/i, v.out);
      const cert = await certificateFromCsr(csr, ca, { keyUsage: [...keyUsage] });
      await svc.importCertificate(fx.serial, cert, label);
    }
    await assert.rejects(svc.generateKeyPair(fx.serial, 'sm2', 'sign'), (e) => code(e) === '1001');
    const signCert = await svc.certificateFor(fx.serial, 'sign');
    const encCert = await svc.certificateFor(fx.serial, 'encrypt');
    assert.equal(signCert.label, 'sign');
    assert.equal(encCert.label, 'enc');
    assert.notEqual(signCert.keyId, encCert.keyId);
    signSpki = signCert.info.spki;
  });

  for (const backend of ['node', 'js'] as const) {
    it(`signs SM2 (e computed with the ${backend} SM3 path); OpenSSL verifies with distid`, async () => {
      setGmBackend(backend);
      const msg = Buffer.from(`国密签名 ${backend}`);
      const r = await svc.sign({ ukeyId: fx.serial, message: msg, hash: 'sm3', reason: 'test' });
      assert.equal(r.algorithm, 'sm2');
      assert.equal(r.certificate?.label, 'sign');
      const v = opensslSm2Verify(signSpki, msg, r.signature);
      assert.ok(v.ok, v.out);
      const cert = await svc.certificateFor(fx.serial, 'sign');
      assert.ok(sm2Verify(cert.info.publicKey.sm2Point!, msg, r.signature));
      setGmBackend(undefined);
    });
  }

  it('refuses a non-SM3 hash for SM2 with 2007', async () => {
    await assert.rejects(
      svc.sign({ ukeyId: fx.serial, message: Buffer.from('x'), hash: 'sha256', reason: 't' }),
      (e) => code(e) === '2007',
    );
  });

  it('20 concurrent signers on one key never interleave', async () => {
    const msgs = Array.from({ length: 20 }, (_, i) => Buffer.from(`concurrent ${i}`));
    const results = await Promise.all(
      msgs.map((m) => svc.sign({ ukeyId: fx.serial, message: m, hash: 'sm3', reason: 'c' })),
    );
    const cert = await svc.certificateFor(fx.serial, 'sign');
    results.forEach((r, i) =>
      assert.ok(sm2Verify(cert.info.publicKey.sm2Point!, msgs[i]!, r.signature), `signature ${i}`),
    );
  });

  it('PIN life cycle: wrong PINs report tries left, the 6th locks, SO unblock keeps the keys', async () => {
    await svc.logout(fx.serial);
    const tries: (number | undefined)[] = [];
    for (let i = 0; i < 6; i++) {
      host.next('user', '999999');
      const asked = host.asked.length;
      await assert.rejects(
        svc.sign({ ukeyId: fx.serial, message: Buffer.from('x'), hash: 'sm3', reason: 't' }),
        (e) => {
          assert.equal(code(e), '2002');
          tries.push((e as AgentError).detail?.triesLeft as number | undefined);
          return true;
        },
      );
      assert.equal(host.asked.length, asked + 1, 'a wrong PIN is never retried automatically');
    }
    assert.deepEqual(tries, [5, 4, 3, 2, 1, 0]);
    assert.equal(svc.info(fx.serial).pin.locked, true);
    const asked = host.asked.length;
    await assert.rejects(
      svc.sign({ ukeyId: fx.serial, message: Buffer.from('x'), hash: 'sm3', reason: 't' }),
      (e) => {
        assert.equal(code(e), '2002');
        assert.match((e as Error).message, /locked/);
        return true;
      },
    );
    assert.equal(host.asked.length, asked, 'a locked key is not asked for a PIN');

    host.next('so', fx.soPin).next('new-user', '24680');
    await svc.initUserPin(fx.serial);
    assert.equal(svc.info(fx.serial).pin.locked, false);
    host.next('user', '24680');
    const r = await svc.sign({
      ukeyId: fx.serial,
      message: Buffer.from('after unblock'),
      hash: 'sm3',
      reason: 't',
    });
    assert.ok(
      opensslSm2Verify(signSpki, Buffer.from('after unblock'), r.signature).ok,
      'the key survived the unblock',
    );
  });

  it('changes the PIN; a wrong current PIN answers 2002', async () => {
    host.next('user', '11111').next('new-user', '13579');
    await assert.rejects(svc.changePin(fx.serial), (e) => code(e) === '2002');
    host.next('user', '24680').next('new-user', '13579');
    await svc.changePin(fx.serial);
    await svc.logout(fx.serial);
    host.next('user', '13579');
    await svc.sign({
      ukeyId: fx.serial,
      message: Buffer.from('new pin'),
      hash: 'sm3',
      reason: 't',
    });
  });

  it('deletes by label', async () => {
    host.next('user', '13579');
    assert.equal(await svc.deleteObjects(fx.serial, 'enc'), 3);
    await assert.rejects(svc.certificateFor(fx.serial, 'encrypt'), (e) => code(e) === '2001');
    assert.ok(await svc.certificateFor(fx.serial, 'sign'));
  });
});
