import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createReferencePlatform } from '../platform/reference-platform';
import type { ReferencePlatform } from '../platform/reference-platform';
import { derToPem, pemToDer } from '../../main/core/pki/keys';
import { tempDir } from '../helpers/dev-tokens';

const BIN = join(__dirname, '..', '..', '..', 'bin', 'ukey-agent.js');
const ORG = '91110000MA00000001';

function cli(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
  let json = { code: '', message: '', data: null as unknown };
  try {
    json = JSON.parse(r.stdout.trim().split('\n').pop() ?? '');
  } catch {
    /* human output */
  }
  return { ...r, json };
}

/** The CLI without blocking this process, which serves the platform the CLI talks to. */
function cliAsync(
  args: string[],
  env: Record<string, string> = {},
): Promise<ReturnType<typeof cli>> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    c.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    c.on('close', (status) => {
      let json = { code: '', message: '', data: null as unknown };
      try {
        json = JSON.parse(stdout.trim().split('\n').pop() ?? '');
      } catch {
        /* human output */
      }
      resolve({ status, stdout, stderr, json } as ReturnType<typeof cli>);
    });
  });
}

/** Every file under dir, recursively. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

describe('platform identity on a UKey (--ukey-id --key-label): the app key never leaves the key', () => {
  const data = tempDir('id-ukey');
  const dev = join(data, 'dev-tokens');
  let platform: ReferencePlatform;
  const pinFile = join(data, 'pin');
  const common = ['--data-dir', data, '--json'];

  before(async () => {
    platform = await createReferencePlatform({ dataDir: tempDir('id-platform') });
    writeFileSync(pinFile, '123456', { mode: 0o600 });
    assert.equal(
      cli([
        'softukey',
        'init',
        '--dir',
        dev,
        '--label',
        'Agent ID',
        '--serial',
        'SUKAGENTID',
        '--so-pin',
        '12345678',
        '--pin',
        '123456',
        '--json',
      ]).json.code,
      '0',
    );
    const kg = cli([
      'token',
      'keygen',
      '--ukey-id',
      'SUKAGENTID',
      '--alg',
      'sm2',
      '--label',
      'platform-id',
      '--pin-file',
      pinFile,
      ...common,
    ]);
    assert.equal(kg.json.code, '0', kg.stdout + kg.stderr);
  });
  after(() => platform.close());

  it('imports the identity from the UKey, registers it, and queries the platform with only the PIN', async () => {
    const certFile = join(data, 'platform.pem');
    writeFileSync(certFile, derToPem(platform.platformCertificate, 'CERTIFICATE'));
    const imp = cli([
      'platform',
      'identity',
      'import',
      '--app-id',
      'agent-on-ukey',
      '--ukey-id',
      'SUKAGENTID',
      '--key-label',
      'platform-id',
      '--pin-file',
      pinFile,
      '--platform',
      platform.url,
      '--platform-cert',
      certFile,
      ...common,
    ]);
    assert.equal(imp.json.code, '0', imp.stdout + imp.stderr);
    const pub = (imp.json.data as { publicKey: string }).publicKey;
    platform.registerApp({
      appId: 'agent-on-ukey',
      publicKey: pemToDer(pub, 'PUBLIC KEY'),
      orgCode: ORG,
    });

    const q = await cliAsync([
      'platform',
      'seals',
      'query',
      '--org-code',
      ORG,
      '--pin-file',
      pinFile,
      ...common,
    ]);
    assert.equal(q.json.code, '0', q.stdout + q.stderr);
    assert.deepEqual(q.json.data, []);
    // Without the PIN the UKey cannot sign: the request never leaves, with a clear answer.
    const noPin = await cliAsync(['platform', 'seals', 'query', '--org-code', ORG, ...common], {
      UKEY_PIN: '',
    });
    assert.equal(noPin.json.code, '1001', noPin.stdout);
    assert.match(noPin.json.message, /PIN/);
  });

  it('leaves no private key anywhere in the data directory', () => {
    for (const f of filesUnder(data).filter((p) => !p.endsWith('.suk'))) {
      assert.doesNotMatch(readFileSync(f, 'latin1'), /PRIVATE KEY/, f);
    }
  });
});
