import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/dev-tokens';
import { openssl, opensslSm2Verify, opensslDgstVerify } from '../helpers/openssl';
import { pemToDer } from '../../main/core/pki/keys';
import { certificateFromCsr, issuerFromCertificate, selfSignedCa } from '../../main/core/pki/issue';
import { softwareSm2Provider } from '../../main/core/pki/signer';
import { generateSm2KeyPair } from '../../main/core/crypto/sm2';

const BIN = join(__dirname, '..', '..', '..', 'bin', 'ukey-agent.js');

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  json: { code: string; message: string; data: unknown };
}

function cli(args: string[], env: Record<string, string> = {}): Run {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
  let json = { code: '', message: '', data: null as unknown };
  try {
    json = JSON.parse(r.stdout.trim().split('\n').pop() ?? '');
  } catch {
    /* human output */
  }
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, json };
}

describe('ukey-agent token CLI (the acceptance surface)', () => {
  const data = tempDir('cli-data');
  const dev = tempDir('cli-dev');
  const common = ['--data-dir', data, '--dev-dir', dev, '--json'];
  const pinFile = join(data, 'pin');
  let rsaId = '';

  before(() => {
    writeFileSync(pinFile, '123456\n', { mode: 0o600 });
    chmodSync(pinFile, 0o600);
  });

  it('has --help on every command', () => {
    for (const c of [[], ['token'], ['token', 'sign'], ['softukey', 'init'], ['demo-pki']]) {
      const r = cli([...c, '--help']);
      assert.equal(r.status, 0, c.join(' '));
      assert.match(r.stdout, /Usage: ukey-agent/);
    }
  });

  it('softukey init, then demo-pki, then token list shows the three development keys', () => {
    const init = cli([
      'softukey',
      'init',
      '--dir',
      dev,
      '--label',
      'CLI Key',
      '--serial',
      'SUKCLI001',
      '--so-pin',
      '12345678',
      '--pin',
      '123456',
      '--json',
    ]);
    assert.equal(init.status, 0, init.stderr + init.stdout);
    assert.equal(init.json.code, '0');
    const again = cli([
      'softukey',
      'init',
      '--dir',
      dev,
      '--label',
      'CLI Key',
      '--serial',
      'SUKCLI001',
      '--so-pin',
      '12345678',
      '--pin',
      '123456',
      '--json',
    ]);
    assert.equal(again.json.code, '1001', 'an existing key is never overwritten');
    const demo = cli(['demo-pki', '--dir', dev, '--data-dir', data, '--json']);
    assert.equal(demo.status, 0, demo.stderr + demo.stdout);
    const list = cli(['token', 'list', ...common]);
    const keys = list.json.data as {
      ukeyId: string;
      vendor: { id: string };
      development: boolean;
    }[];
    assert.deepEqual(
      keys.filter((k) => k.vendor.id === 'softukey').map((k) => k.ukeyId),
      ['SUKCLI001', 'SUKDEMO0001', 'SUKDEMO0002'],
    );
    rsaId = keys.find((k) => k.vendor.id === 'softhsm2')!.ukeyId;
    assert.ok(keys.every((k) => k.development));
    const human = cli(['token', 'list', '--data-dir', data, '--dev-dir', dev]);
    assert.match(human.stdout, /DEVELOPMENT TOKEN/);
  });

  it('token certs tells the signing from the encryption certificate', () => {
    const r = cli(['token', 'certs', '--ukey-id', 'SUKDEMO0001', ...common]);
    const certs = r.json.data as { usage: string; certData: string }[];
    assert.deepEqual(certs.map((c) => c.usage).sort(), ['encrypt', 'sign']);
  });

  it('token sign p1 (SM2 and RSA) verifies with OpenSSL', () => {
    const msgFile = join(data, 'msg.txt');
    writeFileSync(msgFile, '签署的文件内容');
    const certs = cli(['token', 'certs', '--ukey-id', 'SUKDEMO0002', ...common]).json.data as {
      usage: string;
      certData: string;
    }[];
    const spki = certSpki(certs.find((c) => c.usage === 'sign')!.certData);
    const s = cli([
      'token',
      'sign',
      '--ukey-id',
      'SUKDEMO0002',
      '--in',
      msgFile,
      '--format',
      'p1',
      '--pin-file',
      pinFile,
      ...common,
    ]);
    assert.equal(s.json.code, '0', s.stdout + s.stderr);
    const sig = Buffer.from((s.json.data as { signature: string }).signature, 'base64');
    assert.ok(opensslSm2Verify(spki, readFileSync(msgFile), sig).ok);

    const rsaCerts = cli(['token', 'certs', '--ukey-id', rsaId, ...common]).json.data as {
      certData: string;
    }[];
    const r = cli(
      ['token', 'sign', '--ukey-id', rsaId, '--in', msgFile, '--hash', 'sha256', ...common],
      { UKEY_PIN: '123456' },
    );
    assert.equal(r.json.code, '0', r.stdout);
    const v = opensslDgstVerify(
      certSpki(rsaCerts[0]!.certData),
      'sha256',
      readFileSync(msgFile),
      Buffer.from((r.json.data as { signature: string }).signature, 'base64'),
    );
    assert.ok(v.ok, v.out);
  });

  it('keygen, csr (OpenSSL verifies), import-cert, delete', async () => {
    const env = { UKEY_PIN: '123456' };
    const kg = cli(
      ['token', 'keygen', '--ukey-id', 'SUKCLI001', '--alg', 'sm2', '--label', 'mykey', ...common],
      env,
    );
    assert.equal(kg.json.code, '0', kg.stdout);
    const req = join(data, 'req.pem');
    const csr = cli(
      [
        'token',
        'csr',
        '--ukey-id',
        'SUKCLI001',
        '--key-label',
        'mykey',
        '--subject',
        'CN=命令行,O=Example,C=CN',
        '--out',
        req,
        ...common,
      ],
      env,
    );
    assert.equal(csr.json.code, '0', csr.stdout);
    assert.match(
      openssl(['req', '-in', req, '-verify', '-noout', '-vfyopt', 'distid:1234567812345678']).out,
      /verify OK/,
    );
    const caSigner = softwareSm2Provider(generateSm2KeyPair());
    const ca = await selfSignedCa({ subject: 'CN=CLI CA', signer: caSigner });
    const cert = await certificateFromCsr(
      readFileSync(req, 'utf8'),
      issuerFromCertificate(ca, caSigner),
      { keyUsage: ['digitalSignature'] },
    );
    const certFile = join(data, 'cert.der');
    writeFileSync(certFile, cert);
    const imp = cli(
      [
        'token',
        'import-cert',
        '--ukey-id',
        'SUKCLI001',
        '--key-label',
        'mykey',
        '--cert',
        certFile,
        ...common,
      ],
      env,
    );
    assert.equal(imp.json.code, '0', imp.stdout);
    assert.equal((imp.json.data as { usage: string }).usage, 'sign');
    const wrong = cli(
      [
        'token',
        'import-cert',
        '--ukey-id',
        'SUKDEMO0001',
        '--key-label',
        'sign',
        '--cert',
        certFile,
        ...common,
      ],
      env,
    );
    assert.equal(wrong.json.code, '1001', 'a certificate for another key is refused');
    const del = cli(
      ['token', 'delete', '--ukey-id', 'SUKCLI001', '--label', 'mykey', ...common],
      env,
    );
    assert.deepEqual(del.json.data, { deleted: 3 });
    // Every key operation is an operator action in the audit log, with its outcome.
    const audit = cli(['audit', 'export', '--data-dir', data]);
    const lines = audit.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { interface: string; resultCode: string; source: string });
    for (const op of ['token.keygen', 'token.csr', 'token.import-cert', 'token.delete']) {
      assert.ok(
        lines.some((l) => l.interface === op && l.resultCode === '0' && l.source === 'operator'),
        op,
      );
    }
    assert.ok(
      lines.some((l) => l.interface === 'token.import-cert' && l.resultCode === '1001'),
      'failures are audited too',
    );
  });

  it('change-pin, unblock-pin, and the contract codes for bad input', () => {
    const wrong = cli(['token', 'sign', '--ukey-id', 'SUKCLI001', '--in', pinFile, ...common], {
      UKEY_PIN: '000000',
    });
    assert.equal(wrong.json.code, '2002');
    assert.equal(wrong.status, 1);
    const ch = cli(['token', 'change-pin', '--ukey-id', 'SUKCLI001', ...common], {
      UKEY_PIN: '123456',
      UKEY_NEW_PIN: '7777',
    });
    assert.equal(ch.json.code, '0', ch.stdout);
    const ub = cli(['token', 'unblock-pin', '--ukey-id', 'SUKCLI001', ...common], {
      UKEY_SO_PIN: '12345678',
      UKEY_NEW_PIN: '8888',
    });
    assert.equal(ub.json.code, '0', ub.stdout);
    assert.equal(cli(['token', 'certs', '--ukey-id', 'NOPE', ...common]).json.code, '2001');
    assert.equal(
      cli(['token', 'keygen', '--ukey-id', 'SUKCLI001', '--alg', 'dsa', '--label', 'x', ...common])
        .json.code,
      '1001',
    );
    const loose = join(data, 'loose-pin');
    writeFileSync(loose, '8888', { mode: 0o644 });
    chmodSync(loose, 0o644);
    const lp = cli([
      'token',
      'sign',
      '--ukey-id',
      'SUKCLI001',
      '--in',
      loose,
      '--pin-file',
      loose,
      ...common,
    ]);
    assert.equal(lp.json.code, '1001');
    assert.match(lp.json.message, /chmod 600/);
    const noPin = cli(
      ['token', 'keygen', '--ukey-id', 'SUKCLI001', '--alg', 'sm2', '--label', 'y', ...common],
      { UKEY_PIN: '' },
    );
    assert.equal(noPin.json.code, '1001');
    assert.match(noPin.json.message, /UKEY_PIN/);
  });
});

function certSpki(b64: string): Buffer {
  const der = Buffer.from(b64, 'base64');
  const r = spawnSync('openssl', ['x509', '-inform', 'DER', '-pubkey', '-noout'], { input: der });
  return pemToDer(r.stdout.toString(), 'PUBLIC KEY');
}
