// `ukey-agent platform …` end to end: the reference platform runs as `platform serve` in a child
// process and every other command is a separate CLI run against it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { chmodSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateSm2KeyPair } from '../../main/core/crypto/sm2';
import { sm3 } from '../../main/core/crypto/sm3';
import { derToPem } from '../../main/core/pki/keys';
import { samplePdf, signPdf, testPki } from '../helpers/pdf-fixtures';
import { tempDir } from '../helpers/dev-tokens';

const BIN = join(__dirname, '..', '..', '..', 'bin', 'ukey-agent.js');

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  json: { code: string; message: string; data: unknown };
}

const lastJson = (text: string): Run['json'] => {
  try {
    return JSON.parse(text.trim().split('\n').pop() ?? '') as Run['json'];
  } catch {
    return { code: '', message: '', data: null };
  }
};

function cli(args: string[], env: NodeJS.ProcessEnv = {}): Run {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, json: lastJson(r.stdout) };
}

/** Every file under dir, recursively. */
const filesUnder = (dir: string): string[] =>
  readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });

const root = tempDir('cli-platform');
const platDir = join(root, 'platform');
const agentDir = join(root, 'agent');
const passFile = join(root, 'pass');
let server: ChildProcess;
let serverErr = '';
let url = '';
const key = generateSm2KeyPair();
const keyHex = key.privateKey.toString('hex');
const ORG = 'ORG-CLI-1';
const agent = (args: string[]): Run =>
  cli([...args, '--data-dir', agentDir, '--passphrase-file', passFile, '--json']);

before(async () => {
  writeFileSync(passFile, 'correct horse battery staple\n', { mode: 0o600 });
  chmodSync(passFile, 0o600);
  server = spawn(process.execPath, [BIN, 'platform', 'serve', '--data-dir', platDir, '--json'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  server.stderr!.on('data', (c: Buffer) => (serverErr += c.toString('utf8')));
  url = await new Promise<string>((resolve, reject) => {
    let out = '';
    server.stdout!.on('data', (c: Buffer) => {
      out += c.toString('utf8');
      if (out.includes('\n')) resolve((lastJson(out).data as { url: string }).url);
    });
    server.on('exit', () => reject(new Error(`serve exited: ${serverErr}`)));
  });
});

after(async () => {
  if (server.exitCode === null) {
    const exited = new Promise((r) => server.once('exit', r));
    server.kill('SIGTERM');
    await exited;
  }
  rmSync(root, { recursive: true, force: true });
});

describe('ukey-agent platform', () => {
  it('serves until SIGTERM and prints its URL', () => {
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('imports the identity encrypted (no plaintext key under the data dir) and registers it', () => {
    const keyFile = join(root, 'agent-key.txt');
    writeFileSync(keyFile, `${keyHex}\n`, { mode: 0o600 });
    const pub = join(root, 'agent-pub.pem');
    const r = agent([
      'platform',
      'identity',
      'import',
      '--app-id',
      'agent-cli',
      '--key',
      keyFile,
      '--platform',
      url,
      '--platform-cert',
      join(platDir, 'platform-cert.pem'),
      '--public-key-out',
      pub,
    ]);
    assert.equal(r.json.code, '0', r.stdout + r.stderr);
    rmSync(keyFile);
    for (const f of filesUnder(agentDir)) {
      const bytes = readFileSync(f);
      assert.equal(bytes.includes(keyHex), false, f);
      assert.equal(bytes.includes(key.privateKey), false, f);
    }
    const wrong = cli(
      ['platform', 'seals', 'query', '--org-code', ORG, '--data-dir', agentDir, '--json'],
      { UKEY_AGENT_PASSPHRASE: 'wrong' },
    );
    assert.equal(wrong.json.code, '1001');
    assert.match(wrong.json.message, /passphrase/);

    const add = cli([
      'platform',
      'apps',
      'add',
      '--data-dir',
      platDir,
      '--app-id',
      'agent-cli',
      '--public-key',
      pub,
      '--org-code',
      ORG,
      '--json',
    ]);
    assert.equal(add.json.code, '0', add.stdout + add.stderr);
  });

  it('accepts a PKCS #8 key as openssl writes it', () => {
    const pem = join(root, 'sm2.pem');
    const gen = spawnSync('openssl', ['genpkey', '-algorithm', 'SM2', '-out', pem]);
    if (gen.status !== 0) return; // no OpenSSL with SM2 here: the hex form above covers import
    const other = tempDir('cli-platform-pkcs8');
    try {
      const r = cli(
        [
          'platform',
          'identity',
          'import',
          '--app-id',
          'x',
          '--key',
          pem,
          '--data-dir',
          other,
          '--json',
        ],
        { UKEY_AGENT_PASSPHRASE: 'pw' },
      );
      assert.equal(r.json.code, '0', r.stdout + r.stderr);
      const bad = cli(
        [
          'platform',
          'identity',
          'import',
          '--app-id',
          'x',
          '--key',
          passFile,
          '--data-dir',
          other,
          '--json',
        ],
        { UKEY_AGENT_PASSPHRASE: 'pw' },
      );
      assert.equal(bad.json.code, '1001');
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  let cloudSeal = '';
  it('files, queries and changes seals through the outbox', () => {
    const filing = join(root, 'filing.json');
    writeFileSync(
      filing,
      JSON.stringify({
        name: '个人云章',
        sealType: '01',
        possessor: '赵六',
        possessorCertNo: '110101199202021234',
        possessorType: 2,
        bizType: 1,
        certType: 2,
        orgCode: ORG,
        userName: '赵六',
        mobilePhone: '13700000002',
        sealInvalidTime: '2099-12-31 23:59:59',
      }),
    );
    const f = agent(['platform', 'seals', 'file', '--json-file', filing]);
    assert.equal(f.json.code, '0', f.stdout + f.stderr);
    const filed = f.json.data as { sealCode: string; status: string };
    assert.equal(filed.status, 'delivered');
    cloudSeal = filed.sealCode;

    const q = agent(['platform', 'seals', 'query', '--org-code', ORG]);
    assert.equal(q.json.code, '0');
    assert.deepEqual(
      (q.json.data as { sealCode: string }[]).map((s) => s.sealCode),
      [cloudSeal],
    );

    const dup = agent(['platform', 'seals', 'file', '--json-file', filing]);
    assert.equal(dup.json.code, '0', 'no business code: a second seal');
    const second = (dup.json.data as { sealCode: string }).sealCode;
    const s = agent(['platform', 'seals', 'state', '--seal-code', second, '--state', '3']);
    assert.equal(s.json.code, '0', s.stdout);
    const again = agent(['platform', 'seals', 'state', '--seal-code', second, '--state', '3']);
    assert.equal(again.json.code, '1001', 'cancelled is final: a failed outbox item');
    const list = cli([
      'platform',
      'outbox',
      'list',
      '--status',
      'failed',
      '--data-dir',
      agentDir,
      '--json',
    ]);
    assert.equal((list.json.data as unknown[]).length, 1);
  });

  it('verifies a signed PDF on the platform', async () => {
    const pki = await testPki('sm2');
    const ca = join(root, 'ca.pem');
    writeFileSync(ca, derToPem(pki.caCert, 'CERTIFICATE'));
    const trust = cli(['platform', 'ca', 'add', '--data-dir', platDir, '--cert', ca, '--json']);
    assert.equal(trust.json.code, '0', trust.stdout + trust.stderr);
    const pdf = join(root, 'signed.pdf');
    writeFileSync(pdf, (await signPdf(await samplePdf(), pki)).signed);
    const v = agent(['platform', 'verify-doc', pdf]);
    assert.equal(v.json.code, '0', v.stdout + v.stderr);
    const data = v.json.data as {
      signCount: number;
      details: { flowVoList: { status: number }[] }[];
    };
    assert.equal(data.signCount, 1);
    // The signer's seal was never filed: every step passes but the seal-state one.
    assert.deepEqual(
      data.details[0]!.flowVoList.map((s) => s.status),
      [1, 1, 1, 0],
    );
    assert.equal(v.status, 1);
    const txt = join(root, 'note.txt');
    writeFileSync(txt, 'not a pdf');
    assert.equal(agent(['platform', 'verify-doc', txt]).json.code, '1001');
  });

  it('cloud-signs once the holder confirms on the H5 page while the CLI waits', async () => {
    const docHash = sm3(Buffer.from('contract')).toString('base64');
    const child = spawn(
      process.execPath,
      [
        BIN,
        'platform',
        'cloud-sign',
        '--data-dir',
        agentDir,
        '--passphrase-file',
        passFile,
        '--json',
        '--seal-code',
        cloudSeal,
        '--doc-hash',
        docHash,
        '--mobile',
        '13700000002',
        '--credent-no',
        '110101199202021234',
        '--org-code',
        ORG,
        '--poll-ms',
        '100',
        '--timeout',
        '30',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout!.on('data', (c: Buffer) => (out += c.toString('utf8')));
    const authUrl = await new Promise<string>((resolve, reject) => {
      child.stderr!.on('data', (c: Buffer) => {
        err += c.toString('utf8');
        const m = /authUrl: (\S+)/.exec(err);
        if (m) resolve(m[1]!);
      });
      child.on('exit', () => reject(new Error(`cloud-sign exited: ${out}${err}`)));
    });
    const authId = authUrl.split('/').pop()!;
    const page = await fetch(authUrl);
    assert.match(await page.text(), /个人云章/);
    // The reference platform "sends" the code by logging it.
    let code: string | undefined;
    for (let i = 0; i < 50 && !code; i++) {
      code = new RegExp(`auth code (\\d{6}) for authId ${authId}`).exec(serverErr)?.[1];
      if (!code) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(code, serverErr);
    const confirm = await fetch(authUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `code=${code}`,
    });
    assert.equal(confirm.status, 200);
    const status = await new Promise<number | null>((r) => child.on('close', r));
    const env = lastJson(out);
    assert.equal(env.code, '0', out + err);
    assert.equal(status, 0);
    const data = env.data as { type: string; signData: string };
    assert.equal(data.type, 'P7');
    assert.ok(Buffer.from(data.signData, 'base64').length > 500);
  });
});
