// The agent's outbox against the reference platform over real HTTP, including crashes: a child
// process is SIGKILLed after enqueueing, or after the platform answered but before the outbox
// recorded it; a restart delivers the operation exactly once.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import Database from 'better-sqlite3';
import { tempDir } from '../helpers/dev-tokens';
import { startFixture, ukeySealFiling } from '../platform/fixture';
import type { Fixture } from '../platform/fixture';
import type { OutboxChildConfig } from '../platform/outbox-child';
import type { OutboxItem, OutboxOperation } from '../../main/core/platform/outbox';
import { PLATFORM_PATHS } from '../../main/core/platform/types';

const CHILD = join(__dirname, '..', 'platform', 'outbox-child.js');

interface ChildResult {
  signal: NodeJS.Signals | null;
  code: number | null;
  lines: Record<string, unknown>[];
}

let fx: Fixture;
const dirs: string[] = [];
before(async () => {
  fx = await startFixture();
});
after(async () => {
  assert.deepEqual(fx.internalErrors, []);
  await fx.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function runChild(
  agentDir: string,
  mode: OutboxChildConfig['mode'],
  operation?: OutboxOperation,
): Promise<ChildResult> {
  const cfg: OutboxChildConfig = {
    mode,
    agentDir,
    platformUrl: fx.platform.url,
    platformCertPath: join(fx.dir, 'platform', 'platform-cert.pem'),
    appId: fx.sm2.appId,
    keyHex: fx.sm2.key.privateKey.toString('hex'),
    operation,
  };
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD], {
      env: { ...process.env, OUTBOX_CHILD: JSON.stringify(cfg) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code, signal) =>
      resolve({
        code,
        signal,
        lines: out
          .split('\n')
          .filter((l) => l.trim() !== '')
          .map((l) => JSON.parse(l) as Record<string, unknown>),
      }),
    );
  });
}

function platformSeals(code: string): { seal_code: string; state: number }[] {
  const db = new Database(join(fx.dir, 'platform', 'platform.db'), { readonly: true });
  try {
    return db.prepare('SELECT seal_code, state FROM seals WHERE code = ?').all(code) as {
      seal_code: string;
      state: number;
    }[];
  } finally {
    db.close();
  }
}

const itemsOf = (r: ChildResult): OutboxItem[] =>
  (r.lines.find((l) => 'items' in l)?.items as OutboxItem[] | undefined) ?? [];

describe('outbox across crashes', () => {
  it('delivers an operation enqueued by a process killed before sending it', async () => {
    const agentDir = tempDir('outbox-a');
    dirs.push(agentDir);
    const filing = ukeySealFiling();
    const first = await runChild(agentDir, 'kill-after-enqueue', {
      kind: 'seal.filing',
      params: filing,
    });
    assert.equal(first.signal, 'SIGKILL');
    assert.ok(first.lines.some((l) => l.enqueued === 1));
    assert.equal(platformSeals(filing.code!).length, 0, 'nothing was sent before the kill');

    const second = await runChild(agentDir, 'resume');
    assert.equal(second.code, 0);
    const [item] = itemsOf(second);
    assert.equal(item?.status, 'delivered');
    const seals = platformSeals(filing.code!);
    assert.equal(seals.length, 1);
    assert.equal(item?.result, seals[0]!.seal_code);
  });

  it('files once when killed after the platform answered but before recording it', async () => {
    const agentDir = tempDir('outbox-b');
    dirs.push(agentDir);
    const filing = ukeySealFiling();
    const first = await runChild(agentDir, 'kill-after-answer', {
      kind: 'seal.filing',
      params: filing,
    });
    assert.equal(first.signal, 'SIGKILL');
    const filed = platformSeals(filing.code!);
    assert.equal(filed.length, 1, 'the platform did file it');

    const second = await runChild(agentDir, 'resume');
    const [item] = itemsOf(second);
    assert.equal(item?.status, 'delivered');
    assert.equal(item?.attempts, 2, 'it was sent again after the restart');
    assert.equal(item?.result, filed[0]!.seal_code, 'and answered the first answer');
    assert.equal(platformSeals(filing.code!).length, 1, 'still one seal');
  });

  it('changes a state once when killed after the answer (the repeat is not "already suspended")', async () => {
    const agentDir = tempDir('outbox-c');
    dirs.push(agentDir);
    const filing = ukeySealFiling();
    const sealCode = await fx.sm2.client.fileSeal(filing);
    const first = await runChild(agentDir, 'kill-after-answer', {
      kind: 'seal.state',
      params: { sealCode, state: 4 },
    });
    assert.equal(first.signal, 'SIGKILL');
    assert.equal(platformSeals(filing.code!)[0]!.state, 4);
    const second = await runChild(agentDir, 'resume');
    const [item] = itemsOf(second);
    assert.equal(item?.status, 'delivered', JSON.stringify(item));
    assert.equal(item?.errorCode, null);
  });

  it('records a platform refusal as final, with its code', async () => {
    const agentDir = tempDir('outbox-d');
    dirs.push(agentDir);
    const r = await runChild(agentDir, 'resume', {
      kind: 'seal.state',
      params: { sealCode: 'ES20990101ZZZZZZZZZZ', state: 4 },
    });
    const [item] = itemsOf(r);
    assert.equal(item?.status, 'failed');
    assert.equal(item?.errorCode, '2006');
    assert.equal(item?.attempts, 1);
  });
});

describe('requestId on the reference platform', () => {
  it('answers the first answer to the same key and fields, 1001 to other fields', async () => {
    const filing = { ...ukeySealFiling(), requestId: 'req-0001-abcdef' };
    const a = await fx.signedPost(PLATFORM_PATHS.filing, { ...filing });
    const b = await fx.signedPost(PLATFORM_PATHS.filing, { ...filing });
    assert.equal(a.json.code, '0');
    assert.equal(b.json.code, '0');
    assert.equal(b.json.data, a.json.data);
    assert.equal(platformSeals(filing.code!).length, 1);

    const c = await fx.signedPost(PLATFORM_PATHS.filing, { ...filing, name: '另一个名字' });
    assert.equal(c.json.code, '1001');
    assert.match(c.json.message, /requestId/);
    // Another app's key space is its own.
    const d = await fx.signedPost(PLATFORM_PATHS.filing, { ...filing }, fx.rsa.signer);
    assert.equal(d.json.code, '0');
    assert.notEqual(d.json.data, a.json.data);
  });

  it('answers a refusal again to its repeat, and refuses a malformed key', async () => {
    const body = { sealCode: 'ES20990101YYYYYYYYYY', state: 3, requestId: 'req-0002-abcdef' };
    const a = await fx.signedPost(PLATFORM_PATHS.state, body);
    const b = await fx.signedPost(PLATFORM_PATHS.state, body);
    assert.equal(a.json.code, '2006');
    assert.equal(b.json.code, '2006');
    const bad = await fx.signedPost(PLATFORM_PATHS.state, { ...body, requestId: 'x y' });
    assert.equal(bad.json.code, '1001');
    assert.match(bad.json.message, /requestId/);
  });
});
