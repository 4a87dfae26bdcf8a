import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { tempDir } from '../helpers/dev-tokens';
import { generateSm2KeyPair } from '../../main/core/crypto/sm2';
import { sm2Spki, spkiToPem } from '../../main/core/pki/keys';

const BIN = join(__dirname, '..', '..', '..', 'bin', 'ukey-agent.js');

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  json: { code: string; message: string; data: unknown };
}

function cli(args: string[]): Run {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
  let json = { code: '', message: '', data: null as unknown };
  try {
    json = JSON.parse(r.stdout.trim().split('\n').pop() ?? '');
  } catch {
    /* human output */
  }
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, json };
}

/** Asserts a 1001 envelope whose message names `field`. */
function assertBadParam(r: Run, field: RegExp): void {
  assert.equal(r.json.code, '1001', r.stdout + r.stderr);
  assert.match(r.json.message, field);
  assert.equal(r.status, 2);
}

describe('ukey-agent apps, policy and audit CLI', () => {
  const data = tempDir('cli-store');
  after(() => rmSync(data, { recursive: true, force: true }));
  const common = ['--data-dir', data, '--json'];
  const keyFile = join(data, 'app.pem');
  writeFileSync(keyFile, spkiToPem(sm2Spki(generateSm2KeyPair().publicKey)));

  it('has --help on every command', () => {
    for (const c of [
      ['apps'],
      ['apps', 'add'],
      ['apps', 'list'],
      ['apps', 'revoke'],
      ['policy', 'add'],
      ['policy', 'list'],
      ['policy', 'revoke'],
      ['audit', 'verify'],
      ['audit', 'export'],
    ]) {
      const r = cli([...c, '--help']);
      assert.equal(r.status, 0, c.join(' '));
      assert.match(r.stdout, /Usage: ukey-agent/);
      if (c.length === 2) assert.match(r.stdout, /--data-dir/);
      if (c.length === 2) assert.match(r.stdout, /--json/);
    }
  });

  it('apps add / list / revoke, with bad input answered 1001 naming the field', () => {
    const add = cli([
      'apps',
      'add',
      ...common,
      '--app-id',
      'bank.web',
      '--public-key',
      keyFile,
      '--origin',
      'https://a.example/',
      '--origin',
      'https://a.example:443',
      '--origin',
      'http://localhost:3000',
      '--name',
      'Bank web',
    ]);
    assert.equal(add.status, 0, add.stdout + add.stderr);
    const app = add.json.data as { appId: string; origins: string[]; keyAlgorithm: string };
    assert.deepEqual(app.origins, ['http://localhost:3000', 'https://a.example']);
    assert.equal(app.keyAlgorithm, 'sm2');
    if (process.platform !== 'win32')
      assert.equal(statSync(join(data, 'agent.db')).mode & 0o777, 0o600);

    const base = ['apps', 'add', ...common, '--public-key', keyFile];
    assertBadParam(
      cli([...base, '--app-id', 'bank.web', '--origin', 'https://a.example']),
      /appId bank\.web is already registered/,
    );
    assertBadParam(
      cli([...base, '--app-id', 'x', '--origin', 'http://evil.example']),
      /origins\[0\].*https/,
    );
    assertBadParam(cli([...base, '--app-id', 'x', '--origin', 'null']), /origins\[0\]/);
    assertBadParam(
      cli([...base, '--app-id', 'x', '--origin', 'https://*.example']),
      /origins\[0\].*wildcard/,
    );
    assertBadParam(cli([...base, '--app-id', 'bad id', '--origin', 'https://a.example']), /appId/);
    assertBadParam(
      cli([
        'apps',
        'add',
        ...common,
        '--app-id',
        'x',
        '--public-key',
        join(data, 'missing.pem'),
        '--origin',
        'https://a.example',
      ]),
      /--public-key/,
    );
    writeFileSync(join(data, 'junk.der'), 'junk');
    assertBadParam(
      cli([
        'apps',
        'add',
        ...common,
        '--app-id',
        'x',
        '--public-key',
        join(data, 'junk.der'),
        '--origin',
        'https://a.example',
      ]),
      /publicKey/,
    );

    const replaced = cli([
      ...base,
      '--app-id',
      'bank.web',
      '--origin',
      'https://b.example',
      '--replace',
    ]);
    assert.equal(replaced.json.code, '0', replaced.stdout);
    const list = cli(['apps', 'list', ...common]);
    assert.deepEqual(
      (list.json.data as { appId: string; origins: string[] }[]).map((a) => [a.appId, a.origins]),
      [['bank.web', ['https://b.example']]],
    );

    cli([...base, '--app-id', 'old.app', '--origin', 'https://o.example']);
    const revoked = cli(['apps', 'revoke', ...common, '--app-id', 'old.app']);
    assert.ok((revoked.json.data as { revokedAt?: string }).revokedAt);
    assertBadParam(cli(['apps', 'revoke', ...common, '--app-id', 'never']), /appId never/);
    const human = cli(['apps', 'list', '--data-dir', data]);
    assert.match(human.stdout, /old\.app\tsm2\thttps:\/\/o\.example\tREVOKED/);
  });

  it('policy add / list / revoke, with bad input answered 1001 naming the option', () => {
    const p = cli([
      'policy',
      'add',
      ...common,
      '--app-id',
      'bank.web',
      '--seal-code',
      'ES20250101ABC',
      '--max-count',
      '5',
      '--ttl',
      '10m',
      '--origin',
      'https://b.example',
    ]);
    assert.equal(p.json.code, '0', p.stdout + p.stderr);
    const policy = p.json.data as {
      id: number;
      maxCount: number;
      used: number;
      origin: string;
      active: boolean;
    };
    assert.equal(policy.maxCount, 5);
    assert.equal(policy.origin, 'https://b.example');
    assert.equal(policy.active, true);

    const base = ['policy', 'add', ...common, '--app-id', 'bank.web', '--seal-code', 'ES1'];
    assertBadParam(cli([...base, '--max-count', '5', '--ttl', '10 minutes']), /--ttl/);
    assertBadParam(cli([...base, '--max-count', '5', '--ttl', '31d']), /ttlMs/);
    assertBadParam(cli([...base, '--max-count', '5', '--ttl', '30s']), /ttlMs/);
    assertBadParam(cli([...base, '--max-count', '0', '--ttl', '1h']), /--max-count/);
    assertBadParam(cli([...base, '--max-count', 'many', '--ttl', '1h']), /--max-count/);
    assertBadParam(
      cli([...base, '--max-count', '1', '--ttl', '1h', '--origin', 'https://a.example']),
      /origin/,
    );
    assertBadParam(
      cli([
        'policy',
        'add',
        ...common,
        '--app-id',
        'old.app',
        '--seal-code',
        'ES1',
        '--max-count',
        '1',
        '--ttl',
        '1h',
      ]),
      /appId old\.app/,
    );

    assert.deepEqual(
      (cli(['policy', 'list', ...common]).json.data as { id: number }[]).map((x) => x.id),
      [policy.id],
    );
    const rev = cli(['policy', 'revoke', ...common, '--id', String(policy.id)]);
    assert.equal(rev.json.code, '0');
    assert.deepEqual(cli(['policy', 'list', ...common]).json.data, []);
    const all = cli(['policy', 'list', ...common, '--all']).json.data as { revokedAt?: string }[];
    assert.equal(all.length, 1);
    assert.ok(all[0]!.revokedAt);
    assertBadParam(cli(['policy', 'revoke', ...common, '--id', 'abc']), /--id/);
    assertBadParam(cli(['policy', 'revoke', ...common, '--id', '999']), /id 999/);
  });

  it('audit export writes what the operator did, as jsonl and csv', () => {
    const out = join(data, 'audit.jsonl');
    const r = cli(['audit', 'export', ...common, '--out', out]);
    assert.equal(r.json.code, '0', r.stdout + r.stderr);
    const lines = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal((r.json.data as { entries: number }).entries, lines.length);
    assert.ok(
      lines.some(
        (e) => e.interface === 'apps.add' && e.resultCode === '0' && e.appId === 'bank.web',
      ),
    );
    assert.ok(lines.some((e) => e.interface === 'apps.add' && e.resultCode === '1001'));
    assert.ok(lines.some((e) => e.interface === 'policy.revoke' && e.source === 'operator'));
    if (process.platform !== 'win32') assert.equal(statSync(out).mode & 0o777, 0o600);

    const csv = cli([
      'audit',
      'export',
      '--data-dir',
      data,
      '--format',
      'csv',
      '--from',
      '2000-01-01T00:00:00Z',
    ]);
    assert.equal(csv.status, 0, csv.stderr);
    assert.match(csv.stdout, /^seq,time,source,serialNumber,appId,origin,interface,/);
    assert.match(csv.stdout, /\r\n1,\d{4}-\d\d-\d\dT[\d:.]+Z,operator,,bank\.web,,apps\.add,/);
    const none = cli([
      'audit',
      'export',
      '--data-dir',
      data,
      '--format',
      'csv',
      '--to',
      '2000-01-01T00:00:00Z',
    ]);
    assert.equal(none.stdout.trim().split('\n').length, 1);

    assertBadParam(
      cli(['audit', 'export', ...common, '--format', 'xml', '--out', out]),
      /--format/,
    );
    assertBadParam(
      cli(['audit', 'export', ...common, '--from', 'yesterday', '--out', out]),
      /--from/,
    );
    assertBadParam(cli(['audit', 'export', ...common]), /--out/);
  });

  it('audit verify answers ok, then exit code 1 and the first bad seq once a row is edited', () => {
    const ok = cli(['audit', 'verify', ...common]);
    assert.equal(ok.status, 0, ok.stdout + ok.stderr);
    const good = ok.json.data as { ok: boolean; entries: number };
    assert.equal(good.ok, true);
    assert.ok(good.entries >= 10);

    const db = new Database(join(data, 'agent.db'));
    db.exec('DROP TRIGGER audit_log_no_update');
    db.prepare("UPDATE audit_log SET result_code = '0' WHERE seq = 3").run();
    db.close();

    const bad = cli(['audit', 'verify', ...common, '--public-key', keyFile]);
    assert.equal(bad.status, 1);
    assert.equal(bad.json.code, '0');
    const v = bad.json.data as { ok: boolean; firstBadSeq: number; reason: string };
    assert.equal(v.ok, false);
    assert.equal(v.firstBadSeq, 3);
    const human = cli(['audit', 'verify', '--data-dir', data]);
    assert.equal(human.status, 1);
    assert.match(human.stdout, /TAMPERED at seq 3/);
    assertBadParam(
      cli(['audit', 'verify', ...common, '--public-key', join(data, 'nope.pem')]),
      /--public-key/,
    );
  });

  it('settings list / set / reset: checked per key, audited, nothing stored on bad input', () => {
    const list = cli(['settings', 'list', ...common]);
    assert.equal(list.json.code, '0', list.stdout + list.stderr);
    assert.equal((list.json.data as Record<string, unknown>).relayMaxKiBps, 0);
    assert.equal((list.json.data as Record<string, unknown>).jsapiPort, 18788);

    const set = cli(['settings', 'set', 'relayMaxKiBps', '2048', ...common]);
    assert.equal(set.json.code, '0', set.stdout + set.stderr);
    assert.equal((set.json.data as Record<string, unknown>).relayMaxKiBps, 2048);
    const url = cli(['settings', 'set', 'platformUrl', 'https://seal.example.cn/', ...common]);
    assert.equal(
      (url.json.data as Record<string, unknown>).platformUrl,
      'https://seal.example.cn/',
    );

    assertBadParam(cli(['settings', 'set', 'relayMaxKiBps', '-1', ...common]), /relayMaxKiBps/);
    assertBadParam(cli(['settings', 'set', 'relayMaxKiBps', 'fast', ...common]), /relayMaxKiBps/);
    assertBadParam(cli(['settings', 'set', 'platformUrl', 'ftp://x', ...common]), /platformUrl/);
    assertBadParam(cli(['settings', 'set', 'colour', 'red', ...common]), /colour is not a setting/);
    assertBadParam(cli(['settings', 'reset', 'colour', ...common]), /colour is not a setting/);
    // The refused values left the stored ones alone.
    const kept = cli(['settings', 'list', ...common]).json.data as Record<string, unknown>;
    assert.equal(kept.relayMaxKiBps, 2048);
    assert.equal(kept.platformUrl, 'https://seal.example.cn/');

    const reset = cli(['settings', 'reset', 'relayMaxKiBps', ...common]);
    assert.equal((reset.json.data as Record<string, unknown>).relayMaxKiBps, 0);
    const human = cli(['settings', 'list', '--data-dir', data]);
    assert.match(human.stdout, /^relayMaxKiBps\t0$/m);

    const out = join(data, 'audit-settings.jsonl');
    cli(['audit', 'export', ...common, '--out', out]);
    const entries = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { interface: string; resultCode: string });
    assert.equal(
      entries.filter((e) => e.interface === 'settings.set' && e.resultCode === '0').length,
      2,
    );
    assert.ok(entries.some((e) => e.interface === 'settings.set' && e.resultCode === '1001'));
    assert.ok(entries.some((e) => e.interface === 'settings.reset' && e.resultCode === '0'));
  });
});
