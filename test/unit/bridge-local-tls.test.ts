// The bridge's localhost TLS identity: OpenSSL accepts the chain for localhost and 127.0.0.1 as a
// TLS server, a real TLS handshake trusting only the local CA succeeds, the identity is reused
// across restarts, renewed near expiry under a new CA, and the CA's private key is stored nowhere.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, get } from 'node:https';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ensureLocalTls } from '../../main/core/bridge/local-tls';
import { parseCertificate } from '../../main/core/pki/certificate';
import { pemToDer } from '../../main/core/pki/keys';
import { openAgentStore } from '../../main/core/store/agent-store';
import { passphraseProtector } from '../../main/core/store/passphrase-protector';
import { tempDir } from '../helpers/dev-tokens';
import { files, openssl } from '../helpers/openssl';

async function world(dataDir = tempDir('local-tls')) {
  const store = openAgentStore(dataDir);
  const secrets = await store.openSecrets(passphraseProtector('pw'));
  return { dataDir, store, secrets };
}

function allFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? allFiles(p) : [p];
  });
}

describe('local TLS identity for the bridge', () => {
  it('issues a localhost server chain that OpenSSL verifies for the name and the IP', async () => {
    const w = await world();
    const id = await ensureLocalTls(w);
    assert.equal(id.created, true);
    const [leafPem] = id.cert.split(/(?<=-----END CERTIFICATE-----\n)/);
    const f = files({ 'ca.pem': id.caCertPem, 'leaf.pem': leafPem! });
    for (const check of [
      ['-verify_hostname', 'localhost'],
      ['-verify_ip', '127.0.0.1'],
    ]) {
      const r = openssl([
        'verify',
        '-purpose',
        'sslserver',
        ...check,
        '-CAfile',
        f['ca.pem']!,
        f['leaf.pem']!,
      ]);
      assert.ok(r.ok, r.out);
    }
    // Another name is not covered.
    const other = openssl([
      'verify',
      '-verify_hostname',
      'example.com',
      '-CAfile',
      f['ca.pem']!,
      f['leaf.pem']!,
    ]);
    assert.equal(other.ok, false);
    const leaf = parseCertificate(pemToDer(leafPem!));
    assert.ok(leaf.notAfter.getTime() - Date.now() <= 398 * 86_400_000, 'browsers cap at 398 days');
    assert.match(id.caFingerprint, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    w.store.close();
  });

  it('serves a real TLS handshake to a client that trusts only the local CA', async () => {
    const w = await world();
    const id = await ensureLocalTls(w);
    const server = createServer({ key: id.key, cert: id.cert }, (_req, res) => res.end('ok'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      for (const host of ['localhost', '127.0.0.1']) {
        const body = await new Promise<string>((resolve, reject) => {
          get(
            {
              host: '127.0.0.1',
              servername: host === 'localhost' ? host : undefined,
              port,
              ca: id.caCertPem,
              path: '/',
              headers: { host: `${host}:${port}` },
            },
            (res) => {
              let b = '';
              res.on('data', (d: Buffer) => (b += d));
              res.on('end', () => resolve(b));
            },
          ).on('error', reject);
        });
        assert.equal(body, 'ok');
      }
      // Without the local CA the certificate is not trusted.
      await assert.rejects(
        new Promise((resolve, reject) =>
          get({ host: '127.0.0.1', port, path: '/' }, resolve).on('error', reject),
        ),
        /self[- ]signed|unable to verify|local issuer/i,
      );
    } finally {
      server.close();
      w.store.close();
    }
  });

  it('is reused across restarts, and renewed under a new CA near expiry', async () => {
    const w = await world();
    const first = await ensureLocalTls(w);
    w.store.close();
    const w2 = await world(w.dataDir);
    const again = await ensureLocalTls(w2);
    assert.equal(again.created, false);
    assert.equal(again.caFingerprint, first.caFingerprint);
    assert.equal(again.key, first.key);
    // 380 days later the certificate is within 30 days of expiry: a new CA and key.
    const later = await ensureLocalTls({ ...w2, now: Date.now() + 380 * 86_400_000 });
    assert.equal(later.created, true);
    assert.notEqual(later.caFingerprint, first.caFingerprint);
    assert.notEqual(later.key, first.key);
    w2.store.close();
  });

  it('keeps no CA private key: no private key file, one stored secret that matches the server certificate', async () => {
    const w = await world();
    const id = await ensureLocalTls(w);
    for (const p of allFiles(w.dataDir)) {
      const text = readFileSync(p).toString('latin1');
      assert.doesNotMatch(text, /PRIVATE KEY/, p);
    }
    const tlsSecrets = w.secrets.list().filter((n) => n.startsWith('bridge-tls/'));
    assert.deepEqual(tlsSecrets, ['bridge-tls/localhost-key']);
    // A replaced certificate file (someone else's key) is not served: a fresh identity is made.
    const leafPath = join(w.dataDir, 'tls', 'localhost.pem');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(leafPath, id.caCertPem);
    const replaced = await ensureLocalTls(w);
    assert.equal(replaced.created, true);
    w.store.close();
  });
});
