// Named secrets at rest (e.g. the agent's platform app SM2 private key): AES-256-GCM under a random
// data key, which is stored only wrapped by a KeyProtector. The secret's name is the GCM AAD, so
// rows cannot be swapped between names.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { AgentError, badParam } from '../../common/errors';
import { ResultCode } from '../../common/codes';
import type { Database } from './database';
import type { KeyProtector } from './key-protector';

export type { KeyProtector } from './key-protector';
export { passphraseProtector } from './passphrase-protector';

const NAME = /^[A-Za-z0-9._:/-]{1,128}$/;
const NONCE = 12;

interface SecretRow {
  nonce: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
}

const checkName = (name: unknown): string => {
  if (typeof name !== 'string' || !NAME.test(name))
    throw badParam('name must be 1..128 characters of A-Z a-z 0-9 . _ : / -');
  return name;
};

export class SecretStore {
  private dataKey: Buffer | undefined;

  private constructor(
    private readonly db: Database,
    dataKey: Buffer,
  ) {
    this.dataKey = dataKey;
  }

  /**
   * Opens the store, creating its data key under `protector` on first use. A store created under
   * another kind of protector, or a wrong passphrase, is refused (1001).
   */
  static async open(db: Database, protector: KeyProtector): Promise<SecretStore> {
    const row = db
      .prepare<[], { protector: string; wrapped: Buffer }>(
        'SELECT protector, wrapped FROM secret_data_key WHERE id = 1',
      )
      .get();
    if (row) {
      if (row.protector !== protector.id)
        throw badParam(
          `the key store is protected by ${row.protector}, not ${protector.id}: unlock it with that`,
        );
      return new SecretStore(db, await protector.unwrap(row.wrapped));
    }
    const key = randomBytes(32);
    const wrapped = await protector.wrap(key);
    // Another process may have created it while we were wrapping: the first one wins.
    const inserted = db
      .prepare(
        `INSERT INTO secret_data_key (id, protector, wrapped, created_at) VALUES (1, ?, ?, ?)
         ON CONFLICT (id) DO NOTHING`,
      )
      .run(protector.id, wrapped, Date.now());
    if (inserted.changes === 0) {
      key.fill(0);
      return SecretStore.open(db, protector);
    }
    return new SecretStore(db, key);
  }

  put(name: string, value: Buffer, now = Date.now()): void {
    checkName(name);
    if (!Buffer.isBuffer(value) || value.length === 0)
      throw badParam('value must be non-empty bytes');
    const nonce = randomBytes(NONCE);
    const c = createCipheriv('aes-256-gcm', this.key(), nonce);
    c.setAAD(Buffer.from(name, 'utf8'));
    const ct = Buffer.concat([c.update(value), c.final()]);
    this.db
      .prepare(
        `INSERT INTO secrets (name, nonce, ciphertext, tag, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET nonce = excluded.nonce, ciphertext = excluded.ciphertext,
           tag = excluded.tag, updated_at = excluded.updated_at`,
      )
      .run(name, nonce, ct, c.getAuthTag(), now, now);
  }

  /** The secret's bytes (the caller should zero them when done), or undefined. */
  get(name: string): Buffer | undefined {
    checkName(name);
    const row = this.db
      .prepare<[string], SecretRow>('SELECT nonce, ciphertext, tag FROM secrets WHERE name = ?')
      .get(name);
    if (!row) return undefined;
    const key = this.key();
    try {
      const d = createDecipheriv('aes-256-gcm', key, row.nonce);
      d.setAAD(Buffer.from(name, 'utf8'));
      d.setAuthTag(row.tag);
      return Buffer.concat([d.update(row.ciphertext), d.final()]);
    } catch {
      throw new AgentError(ResultCode.INTERNAL, `secret ${name} is damaged`);
    }
  }

  has(name: string): boolean {
    return (
      this.db.prepare('SELECT 1 FROM secrets WHERE name = ?').get(checkName(name)) !== undefined
    );
  }

  delete(name: string): boolean {
    return this.db.prepare('DELETE FROM secrets WHERE name = ?').run(checkName(name)).changes > 0;
  }

  list(): string[] {
    return this.db
      .prepare<[], { name: string }>('SELECT name FROM secrets ORDER BY name')
      .all()
      .map((r) => r.name);
  }

  /** Re-wraps the data key under another protector (e.g. a new passphrase); secrets are untouched. */
  async rewrap(protector: KeyProtector): Promise<void> {
    const wrapped = await protector.wrap(this.key());
    this.db
      .prepare('UPDATE secret_data_key SET protector = ?, wrapped = ? WHERE id = 1')
      .run(protector.id, wrapped);
  }

  /** Forgets the data key (zeroed); the store is unusable afterwards. */
  close(): void {
    this.dataKey?.fill(0);
    this.dataKey = undefined;
  }

  private key(): Buffer {
    if (!this.dataKey) throw new AgentError(ResultCode.INTERNAL, 'the secret store is closed');
    return this.dataKey;
  }
}
