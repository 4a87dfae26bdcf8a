import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSm2KeyPair } from '../../main/core/crypto/sm2';
import { sm2Spki } from '../../main/core/pki/keys';
import { openAgentStore } from '../../main/core/store/agent-store';
import { openDatabase } from '../../main/core/store/database';
import { MIGRATIONS } from '../../main/core/store/migrations';

const root = mkdtempSync(join(tmpdir(), 'store-db-'));
after(() => rmSync(root, { recursive: true, force: true }));
const posix = process.platform !== 'win32';

describe('agent database', () => {
  it('creates the data dir 0700 and agent.db 0600, in WAL mode with foreign keys', () => {
    const dir = join(root, 'fresh', 'data');
    const s = openAgentStore(dir);
    try {
      assert.equal(s.file, join(dir, 'agent.db'));
      if (posix) {
        assert.equal(statSync(dir).mode & 0o777, 0o700);
        assert.equal(statSync(s.file).mode & 0o777, 0o600);
      }
      assert.equal(s.db.pragma('journal_mode', { simple: true }), 'wal');
      assert.equal(s.db.pragma('foreign_keys', { simple: true }), 1);
      assert.equal(s.db.pragma('synchronous', { simple: true }), 1); // NORMAL
      assert.ok((s.db.pragma('busy_timeout', { simple: true }) as number) >= 1000);
      assert.equal(s.db.pragma('user_version', { simple: true }), MIGRATIONS.length);
    } finally {
      s.close();
    }
  });

  it('tightens an existing data dir and database file', { skip: !posix }, () => {
    const dir = join(root, 'loose');
    openAgentStore(dir).close();
    chmodSync(dir, 0o755);
    chmodSync(join(dir, 'agent.db'), 0o644);
    openAgentStore(dir).close();
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.equal(statSync(join(dir, 'agent.db')).mode & 0o777, 0o600);
  });

  it('re-opens an existing database, applies only new migrations and keeps the data', () => {
    const dir = join(root, 'migrate');
    const s = openAgentStore(dir);
    s.apps.add({
      appId: 'keep.me',
      publicKey: sm2Spki(generateSm2KeyPair().publicKey),
      origins: ['https://a.example'],
    });
    s.settings.set('jsapiPort', 20000);
    s.close();

    // Same schema again: nothing re-runs (a re-run CREATE TABLE would throw).
    const again = openAgentStore(dir);
    assert.equal(again.apps.get('keep.me')?.origins[0], 'https://a.example');
    again.close();

    const next = [...MIGRATIONS, 'ALTER TABLE apps ADD COLUMN note TEXT'];
    const db = openDatabase(join(dir, 'agent.db'), { migrations: next });
    try {
      assert.equal(db.pragma('user_version', { simple: true }), next.length);
      const row = db.prepare('SELECT app_id, note FROM apps').get() as { app_id: string };
      assert.deepEqual(row, { app_id: 'keep.me', note: null });
      const port = db.prepare("SELECT value FROM settings WHERE key = 'jsapiPort'").get();
      assert.deepEqual(port, { value: '20000' });
    } finally {
      db.close();
    }
  });

  it('refuses a database written by a newer schema, and rolls back a failing migration', () => {
    const file = join(root, 'newer.db');
    openDatabase(file, { migrations: ['CREATE TABLE a (x)', 'CREATE TABLE b (x)'] }).close();
    assert.throws(
      () => openDatabase(file, { migrations: ['CREATE TABLE a (x)'] }),
      (e: Error & { code?: string }) => e.code === '5000' && /newer version/.test(e.message),
    );
    const bad = join(root, 'bad.db');
    assert.throws(() =>
      openDatabase(bad, {
        migrations: ['CREATE TABLE a (x)', 'CREATE TABLE c (x); SELECT * FROM nope'],
      }),
    );
    const db = openDatabase(bad, { migrations: ['CREATE TABLE a (x)'] });
    try {
      assert.equal(db.pragma('user_version', { simple: true }), 1);
      assert.equal(db.prepare("SELECT name FROM sqlite_master WHERE name = 'c'").get(), undefined);
    } finally {
      db.close();
    }
  });
});
