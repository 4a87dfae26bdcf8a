// `ukey-agent tls ca`: makes the local CA once, shows the same one afterwards, needs the key store
// passphrase (a wrong one is refused, nothing changed), and is an audited operator action.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { get } from 'node:https';
import { createInterface } from 'node:readline';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/dev-tokens';
import { REPO_ROOT } from '../helpers/chromium';

const BIN = join(REPO_ROOT, 'bin', 'ukey-agent.js');

describe('ukey-agent tls ca', () => {
  const dir = tempDir('cli-tls');
  const data = join(dir, 'data');
  const pass = join(dir, 'pass');
  const wrong = join(dir, 'wrong');
  writeFileSync(pass, 'correct horse', { mode: 0o600 });
  writeFileSync(wrong, 'battery staple', { mode: 0o600 });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const run = (args: string[]) => {
    const r = spawnSync(
      process.execPath,
      [BIN, 'tls', 'ca', '--data-dir', data, '--json', ...args],
      {
        encoding: 'utf8',
        env: { ...process.env, UKEY_AGENT_PASSPHRASE: '' },
      },
    );
    return { status: r.status, json: JSON.parse(r.stdout.trim().split('\n').pop()!) };
  };

  it('creates the CA once and shows the same one after', () => {
    const first = run(['--passphrase-file', pass]);
    assert.equal(first.status, 0);
    assert.equal(first.json.code, '0');
    assert.equal(first.json.data.created, true);
    assert.equal(first.json.data.caPath, join(data, 'tls', 'local-ca.pem'));
    assert.match(readFileSync(first.json.data.caPath, 'utf8'), /BEGIN CERTIFICATE/);
    const again = run(['--passphrase-file', pass]);
    assert.equal(again.json.data.created, false);
    assert.equal(again.json.data.caFingerprintSha256, first.json.data.caFingerprintSha256);
  });

  it('refuses a wrong passphrase with 1001 and keeps the CA', () => {
    const before = readFileSync(join(data, 'tls', 'local-ca.pem'), 'utf8');
    const r = run(['--passphrase-file', wrong]);
    assert.notEqual(r.status, 0);
    assert.equal(r.json.code, '1001');
    assert.equal(readFileSync(join(data, 'tls', 'local-ca.pem'), 'utf8'), before);
  });

  it('is in the audit log as an operator action', () => {
    const r = spawnSync(
      process.execPath,
      [BIN, 'audit', 'export', '--data-dir', data, '--format', 'jsonl'],
      { encoding: 'utf8' },
    );
    const entries = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { interface: string; source: string });
    assert.ok(
      entries.some((e) => e.interface === 'tls.ca' && e.source === 'operator'),
      r.stdout,
    );
  });

  it('serve --tls-port answers the JSAPI over HTTPS to a client trusting only the local CA', async () => {
    const demoData = join(dir, 'serve');
    const agent = spawn(
      process.execPath,
      [BIN, 'serve', '--demo', '--data-dir', demoData, '--port', '0', '--tls-port', '0', '--json'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    try {
      const line = await new Promise<string>((resolve, reject) => {
        createInterface({ input: agent.stdout! }).once('line', resolve);
        agent.once('exit', (c) => reject(new Error(`serve exited ${c}`)));
      });
      const out = JSON.parse(line) as {
        data: { jsapi: string; jsapiTls: string; tlsCa: string; tlsCaFingerprint: string };
      };
      const url = new URL(out.data.jsapiTls);
      assert.equal(url.protocol, 'https:');
      assert.equal(url.hostname, 'localhost');
      assert.notEqual(url.port, new URL(out.data.jsapi).port);
      const ca = readFileSync(out.data.tlsCa, 'utf8');
      const status = await new Promise<{ code: string; data: { version: string } }>(
        (resolve, reject) => {
          get(
            {
              host: '127.0.0.1',
              servername: 'localhost',
              port: Number(url.port),
              path: '/api/v1/status',
              ca,
              headers: { host: `localhost:${url.port}` },
            },
            (res) => {
              let t = '';
              res.on('data', (d: Buffer) => (t += d));
              res.on('end', () => resolve(JSON.parse(t)));
            },
          ).on('error', reject);
        },
      );
      assert.equal(status.code, '0');
      assert.ok(status.data.version);
    } finally {
      agent.kill('SIGTERM');
    }
  });
});
