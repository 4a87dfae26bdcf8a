import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { tempDir } from '../helpers/dev-tokens';

const BIN = join(__dirname, '..', '..', '..', 'bin', 'ukey-agent.js');

function cli(args: string[]): {
  status: number | null;
  json: { code: string; message: string; data: unknown };
  stdout: string;
  stderr: string;
} {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
  let json = { code: '', message: '', data: null as unknown };
  try {
    json = JSON.parse(r.stdout.trim().split('\n').pop() ?? '');
  } catch {
    /* human output */
  }
  return { status: r.status, json, stdout: r.stdout, stderr: r.stderr };
}

describe('ukey-agent serve --demo (headless agent, no terminal) and demo-call', () => {
  const data = tempDir('serve');
  let agent: ChildProcess;
  let port = 0;
  let seals: Record<string, string> = {};

  before(async () => {
    agent = spawn(
      process.execPath,
      [BIN, 'serve', '--demo', '--data-dir', data, '--port', '0', '--json'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: agent.stdout! }).once('line', resolve);
      agent.once('exit', (c) => reject(new Error(`serve exited ${c}`)));
    });
    const out = JSON.parse(line) as {
      data: { jsapi: string; demo: { seals: Record<string, string> } };
    };
    port = Number(new URL(out.data.jsapi).port);
    seals = out.data.demo.seals;
  });
  after(() => {
    if (agent.exitCode === null) agent.kill('SIGKILL');
  });

  it('listens on 127.0.0.1 only and answers ukey/info for the demo caller', () => {
    assert.ok(port > 0);
    const r = cli([
      'demo-call',
      'info',
      '--ukey-id',
      'SUKDEMO0001',
      '--port',
      String(port),
      '--data-dir',
      data,
      '--json',
    ]);
    assert.equal(r.json.code, '0', r.stdout + r.stderr);
    assert.match(r.stdout, /UKeyId/);
  });

  it('without a terminal, signs only under a standing policy, bounded by its count', () => {
    const sealCode = seals.SUKDEMO0001!;
    const declined = cli([
      'demo-call',
      'sign',
      '--ukey-id',
      'SUKDEMO0001',
      '--text',
      'x',
      '--port',
      String(port),
      '--data-dir',
      data,
      '--json',
    ]);
    assert.equal(
      (declined.json.data as { code: string }).code,
      '2003',
      declined.stdout + declined.stderr,
    );
    const pol = cli([
      'policy',
      'add',
      '--app-id',
      'demo-web',
      '--seal-code',
      sealCode,
      '--max-count',
      '1',
      '--ttl',
      '5m',
      '--data-dir',
      data,
      '--json',
    ]);
    assert.equal(pol.json.code, '0', pol.stdout + pol.stderr);
    // The agent needs the PIN: headless unattended signing takes it from --pin-file only, so this
    // signature fails with 2003 (PIN entry cancelled) unless a PIN file was given.
    const s = cli([
      'demo-call',
      'sign',
      '--ukey-id',
      'SUKDEMO0001',
      '--text',
      '合同',
      '--port',
      String(port),
      '--data-dir',
      data,
      '--json',
    ]);
    assert.equal((s.json.data as { code: string }).code, '2003', s.stdout);
    assert.match((s.json.data as { message: string }).message, /PIN entry was cancelled/);
  });

  it('stops on SIGTERM, sealing the audit log, which verifies', async () => {
    const exited = new Promise<number | null>((resolve) => agent.once('exit', (c) => resolve(c)));
    agent.kill('SIGTERM');
    assert.equal(await exited, 0);
    const v = cli(['audit', 'verify', '--data-dir', data, '--json']);
    assert.equal(v.json.code, '0', v.stdout);
    assert.equal((v.json.data as { ok: boolean }).ok, true);
  });
});

describe('ukey-agent serve --demo --pin-file: unattended signing under a policy', () => {
  const data = tempDir('serve2');
  it('signs with the operator-given PIN, once per policy use', async () => {
    const pinFile = join(data, 'pin');
    writeFileSync(pinFile, '123456', { mode: 0o600 });
    const agent = spawn(
      process.execPath,
      [BIN, 'serve', '--demo', '--data-dir', data, '--port', '0', '--json', '--pin-file', pinFile],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    try {
      const line = await new Promise<string>((resolve) =>
        createInterface({ input: agent.stdout! }).once('line', resolve),
      );
      const out = JSON.parse(line) as {
        data: { jsapi: string; demo: { seals: Record<string, string> } };
      };
      const port = new URL(out.data.jsapi).port;
      cli([
        'policy',
        'add',
        '--app-id',
        'demo-web',
        '--seal-code',
        out.data.demo.seals.SUKDEMO0002!,
        '--max-count',
        '1',
        '--ttl',
        '5m',
        '--data-dir',
        data,
      ]);
      const ok = cli([
        'demo-call',
        'sign',
        '--ukey-id',
        'SUKDEMO0002',
        '--text',
        '合同',
        '--port',
        port,
        '--data-dir',
        data,
        '--json',
      ]);
      assert.equal((ok.json.data as { code: string }).code, '0', ok.stdout + ok.stderr);
      const again = cli([
        'demo-call',
        'sign',
        '--ukey-id',
        'SUKDEMO0002',
        '--text',
        '合同',
        '--port',
        port,
        '--data-dir',
        data,
        '--json',
      ]);
      assert.equal((again.json.data as { code: string }).code, '2003', 'the policy allowed one');
    } finally {
      agent.kill('SIGTERM');
    }
  });
});
