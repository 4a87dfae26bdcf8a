import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentError } from '../../main/common/errors';
import { openAgentStore } from '../../main/core/store/agent-store';
import { passphraseProtector } from '../../main/core/store/secret-store';
import type { KeyProtector } from '../../main/core/store/secret-store';

const root = mkdtempSync(join(tmpdir(), 'store-secrets-'));
after(() => rmSync(root, { recursive: true, force: true }));

const secret = Buffer.from(
  '3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8',
  'hex',
);

describe('SecretStore', () => {
  it('round-trips a secret across re-opens, and never stores it in plain', async () => {
    const dir = join(root, 'rt');
    const s = openAgentStore(dir);
    const secrets = await s.openSecrets(passphraseProtector('correct horse'));
    secrets.put('platform/app-key', secret);
    secrets.put('other', Buffer.from('x'));
    assert.deepEqual(secrets.list(), ['other', 'platform/app-key']);
    secrets.close();
    assert.throws(() => secrets.get('platform/app-key'), /closed/);
    s.close();

    for (const f of readdirSync(dir))
      assert.equal(readFileSync(join(dir, f)).indexOf(secret), -1, `plaintext key in ${f}`);

    const s2 = openAgentStore(dir);
    const again = await s2.openSecrets(passphraseProtector(Buffer.from('correct horse')));
    assert.ok(again.get('platform/app-key')?.equals(secret));
    assert.equal(again.get('missing'), undefined);
    assert.equal(again.delete('other'), true);
    assert.equal(again.has('other'), false);
    again.close();
    s2.close();
  });

  it('refuses a wrong passphrase with 1001', async () => {
    const s = openAgentStore(join(root, 'wrong'));
    try {
      (await s.openSecrets(passphraseProtector('right'))).put('k', secret);
      await assert.rejects(
        s.openSecrets(passphraseProtector('wrong')),
        (e: unknown) =>
          e instanceof AgentError &&
          e.code === '1001' &&
          e.message === 'the key store passphrase is wrong',
      );
    } finally {
      s.close();
    }
  });

  it('binds each ciphertext to its name and re-wraps under a new passphrase', async () => {
    const s = openAgentStore(join(root, 'swap'));
    try {
      const secrets = await s.openSecrets(passphraseProtector('one'));
      secrets.put('a', Buffer.from('alpha'));
      secrets.put('b', Buffer.from('bravo'));
      // Moving b's ciphertext under the name a must not decrypt as a.
      s.db.prepare("DELETE FROM secrets WHERE name = 'a'").run();
      s.db.prepare("UPDATE secrets SET name = 'a' WHERE name = 'b'").run();
      assert.throws(
        () => secrets.get('a'),
        (e: unknown) => e instanceof AgentError && e.code === '5000',
      );
      secrets.put('c', Buffer.from('charlie'));
      await secrets.rewrap(passphraseProtector('two'));
      await assert.rejects(s.openSecrets(passphraseProtector('one')), /passphrase is wrong/);
      const reopened = await s.openSecrets(passphraseProtector('two'));
      assert.equal(reopened.get('c')?.toString(), 'charlie');
      assert.throws(() => reopened.put('bad name!', Buffer.from('x')), /name must be/);
    } finally {
      s.close();
    }
  });

  it('refuses a store made under another kind of protector', async () => {
    const other: KeyProtector = {
      id: 'test-identity',
      wrap: async (k) => Buffer.from(k),
      unwrap: async (b) => Buffer.from(b),
    };
    const s = openAgentStore(join(root, 'kind'));
    try {
      await s.openSecrets(other);
      await assert.rejects(
        s.openSecrets(passphraseProtector('x')),
        (e: unknown) =>
          e instanceof AgentError && e.code === '1001' && /test-identity/.test(e.message),
      );
    } finally {
      s.close();
    }
  });
});
