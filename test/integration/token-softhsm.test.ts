import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { TokenService } from '../../main/core/token/token-service';
import { buildCsr } from '../../main/core/pki/csr';
import { derToPem } from '../../main/core/pki/keys';
import { certificateFromCsr, issuerFromCertificate, selfSignedCa } from '../../main/core/pki/issue';
import { softwareRsaProvider } from '../../main/core/pki/signer';
import { AgentError } from '../../main/common/errors';
import { ScriptedHost } from '../helpers/scripted-host';
import { SOFTHSM_LIB, makeSoftHsmToken } from '../helpers/dev-tokens';
import type { SoftHsmToken } from '../helpers/dev-tokens';
import { files, openssl, opensslDgstVerify } from '../helpers/openssl';

const code = (e: unknown): string =>
  e instanceof AgentError ? e.code : `not an AgentError: ${String(e)}`;

describe('token service over SoftHSM2 (RSA)', () => {
  let tok: SoftHsmToken;
  let host: ScriptedHost;
  let svc: TokenService;

  before(() => {
    tok = makeSoftHsmToken();
    host = new ScriptedHost({ user: tok.pin });
    svc = new TokenService({ modules: [SOFTHSM_LIB], host, pollIntervalMs: 0, loginIdleMs: 0 });
  });
  after(() => svc.close());

  it('lists the SoftHSM token as a development token', () => {
    const keys = svc.list();
    const k = keys.find((x) => x.ukeyId === tok.serial);
    assert.ok(k, `token ${tok.serial} listed in ${JSON.stringify(keys)}`);
    assert.equal(k.label, tok.label);
    assert.equal(k.vendor.id, 'softhsm2');
    assert.equal(k.development, true);
    assert.equal(k.pin.initialized, true);
  });

  it('generates an RSA key, makes a CSR OpenSSL verifies, imports the issued certificate, signs', async () => {
    const key = await svc.generateKeyPair(tok.serial, 'rsa2048', 'rsa-sign');
    assert.equal(key.algorithm, 'rsa');
    assert.ok(key.spki);
    const signer = await svc.provider(tok.serial, { label: 'rsa-sign' }, 'csr');
    const csr = await buildCsr({ subject: 'CN=RSA 签名人,O=Example Bank,C=CN', signer });
    const f = files({ 'req.pem': derToPem(csr, 'CERTIFICATE REQUEST') });
    const v = openssl(['req', '-in', f['req.pem']!, '-verify', '-noout']);
    assert.ok(v.ok && /verify OK/i.test(v.out), v.out);

    const caKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const caSigner = softwareRsaProvider(caKey);
    const ca = await selfSignedCa({ subject: 'CN=Test RSA CA,C=CN', signer: caSigner });
    const cert = await certificateFromCsr(csr, issuerFromCertificate(ca, caSigner), {
      keyUsage: ['digitalSignature', 'nonRepudiation'],
    });
    const imported = await svc.importCertificate(tok.serial, cert, 'rsa-sign');
    assert.equal(imported.info.usage, 'sign');
    assert.equal(imported.keyId, key.keyId);
    const certs = await svc.certificates(tok.serial);
    assert.equal(certs.length, 1);

    for (const hash of ['sha256', 'sha1', 'md5'] as const) {
      const msg = Buffer.from(`message for ${hash}`);
      const r = await svc.sign({ ukeyId: tok.serial, message: msg, hash, reason: 'test' });
      assert.equal(r.algorithm, 'rsa');
      assert.equal(r.certificate?.keyId, key.keyId);
      const ok = opensslDgstVerify(certs[0]!.info.spki, hash, msg, r.signature);
      assert.ok(ok.ok && /Verified OK/.test(ok.out), `${hash}: ${ok.out}`);
    }
    await assert.rejects(
      svc.sign({ ukeyId: tok.serial, message: Buffer.from('x'), hash: 'sm3', reason: 't' }),
      (e) => code(e) === '2007',
    );
  });

  it('generates an EC P-256 key on SoftHSM and signs ECDSA that OpenSSL verifies', async () => {
    const key = await svc.generateKeyPair(tok.serial, 'ec-p256', 'ec-sign');
    assert.equal(key.algorithm, 'ec');
    assert.ok(key.spki);
    const msg = Buffer.from('EC message');
    const r = await svc.sign({
      ukeyId: tok.serial,
      key: { label: 'ec-sign' },
      message: msg,
      hash: 'sha256',
      reason: 'test',
    });
    assert.equal(r.algorithm, 'ec');
    const ok = opensslDgstVerify(key.spki!, 'sha256', msg, r.signature);
    assert.ok(ok.ok && /Verified OK/.test(ok.out), ok.out);
    await assert.rejects(
      svc.sign({
        ukeyId: tok.serial,
        key: { label: 'ec-sign' },
        message: msg,
        hash: 'sm3',
        reason: 't',
      }),
      (e) => code(e) === '2007',
    );
    assert.equal(await svc.deleteObjects(tok.serial, 'ec-sign'), 2);
  });

  it('a wrong PIN answers 2002 and is asked exactly once; a cancelled PIN answers 2003', async () => {
    const before = host.asked.length;
    host.next('user', '000000');
    await assert.rejects(
      svc.sign({ ukeyId: tok.serial, message: Buffer.from('x'), hash: 'sha256', reason: 't' }),
      (e) => {
        assert.equal(code(e), '2002');
        assert.match((e as Error).message, /wrong PIN/);
        return true;
      },
    );
    assert.equal(host.asked.length, before + 1);
    host.next('user', null);
    await assert.rejects(
      svc.sign({ ukeyId: tok.serial, message: Buffer.from('x'), hash: 'sha256', reason: 't' }),
      (e) => code(e) === '2003',
    );
  });

  it('20 concurrent signers on one key never interleave', async () => {
    const certs = await svc.certificates(tok.serial);
    const msgs = Array.from({ length: 20 }, (_, i) => Buffer.from(`concurrent ${i}`));
    const sigs = await Promise.all(
      msgs.map((m) => svc.sign({ ukeyId: tok.serial, message: m, hash: 'sha256', reason: 'c' })),
    );
    for (let i = 0; i < 20; i++) {
      const v = opensslDgstVerify(certs[0]!.info.spki, 'sha256', msgs[i]!, sigs[i]!.signature);
      assert.ok(v.ok, v.out);
    }
  });

  it('deletes a key pair and its certificate by label; unknown ids answer 2001', async () => {
    assert.equal(await svc.deleteObjects(tok.serial, 'rsa-sign'), 3);
    assert.equal((await svc.certificates(tok.serial)).length, 0);
    await assert.rejects(
      svc.sign({ ukeyId: tok.serial, message: Buffer.from('x'), hash: 'sha256', reason: 't' }),
      (e) => code(e) === '2001',
    );
    await assert.rejects(svc.certificates('no-such-key'), (e) => code(e) === '2001');
    await assert.rejects(svc.deleteObjects(tok.serial, 'rsa-sign'), (e) => code(e) === '1001');
  });
});
