// Trusted JSAPI callers: each app's request-signing public key and the web origins it may call from.
import { badParam, isAgentError } from '../../common/errors';
import { parseSpki } from '../pki/keys';
import type { Database } from './database';
import { normaliseOrigin, tryNormaliseOrigin } from './origins';
import { checkId, checkText } from './validate';

export interface TrustedApp {
  appId: string;
  name?: string;
  /** SPKI DER. */
  publicKey: Buffer;
  keyAlgorithm: 'sm2' | 'rsa';
  origins: string[];
  createdAt: number;
  updatedAt: number;
  /** Set once revoked; a revoked app is unknown to the bridge. */
  revokedAt?: number;
}

export interface AddAppInput {
  appId: string;
  publicKey: Buffer;
  origins: string[];
  name?: string;
  /** Overwrite (and un-revoke) an existing registration instead of refusing it. */
  replace?: boolean;
  now?: number;
}

interface AppRow {
  app_id: string;
  name: string | null;
  public_key: Buffer;
  key_algorithm: 'sm2' | 'rsa';
  created_at: number;
  updated_at: number;
  revoked_at: number | null;
}

const MAX_ORIGINS = 32;
const MIN_RSA_BITS = 2048;

/** The key algorithm of an app's SPKI: SM2, or RSA of at least 2048 bits. */
export function appKeyAlgorithm(spki: unknown): 'sm2' | 'rsa' {
  if (!Buffer.isBuffer(spki) || spki.length === 0)
    throw badParam('publicKey must be a DER SubjectPublicKeyInfo');
  let info;
  try {
    info = parseSpki(spki);
  } catch (e) {
    throw badParam(
      `publicKey is not a usable public key${isAgentError(e) ? `: ${e.message}` : ''}`,
    );
  }
  if (info.algorithm === 'rsa') {
    if ((info.rsa?.bits ?? 0) < MIN_RSA_BITS)
      throw badParam(`publicKey: RSA keys must have at least ${MIN_RSA_BITS} bits`);
    return 'rsa';
  }
  if (info.algorithm !== 'sm2') throw badParam('publicKey must be an SM2 or RSA key');
  return 'sm2';
}

export class AppStore {
  constructor(private readonly db: Database) {}

  add(input: AddAppInput): TrustedApp {
    const appId = checkId(input.appId, 'appId');
    const keyAlgorithm = appKeyAlgorithm(input.publicKey);
    const name = input.name === undefined ? undefined : checkText(input.name, 'name', 128);
    if (!Array.isArray(input.origins) || input.origins.length === 0)
      throw badParam('origins must list at least one origin');
    if (input.origins.length > MAX_ORIGINS)
      throw badParam(`origins may list at most ${MAX_ORIGINS} origins`);
    const origins = [...new Set(input.origins.map((o, i) => normaliseOrigin(o, `origins[${i}]`)))];
    const now = input.now ?? Date.now();

    this.db
      .transaction(() => {
        const existing = this.row(appId);
        if (existing && !input.replace)
          throw badParam(
            `appId ${appId} is already registered${existing.revoked_at !== null ? ' (revoked)' : ''}; use replace to overwrite it`,
          );
        if (existing) {
          this.db
            .prepare(
              `UPDATE apps SET name = ?, public_key = ?, key_algorithm = ?, updated_at = ?, revoked_at = NULL
               WHERE app_id = ?`,
            )
            .run(name ?? null, input.publicKey, keyAlgorithm, now, appId);
          this.db.prepare('DELETE FROM app_origins WHERE app_id = ?').run(appId);
        } else {
          this.db
            .prepare(
              `INSERT INTO apps (app_id, name, public_key, key_algorithm, created_at, updated_at)
               VALUES (?, ?, ?, ?, ?, ?)`,
            )
            .run(appId, name ?? null, input.publicKey, keyAlgorithm, now, now);
        }
        const insert = this.db.prepare('INSERT INTO app_origins (app_id, origin) VALUES (?, ?)');
        for (const o of origins) insert.run(appId, o);
      })
      .immediate();
    return this.toApp(this.row(appId)!);
  }

  /** The app, or undefined if it is unknown or revoked. */
  get(appId: string): TrustedApp | undefined {
    const row = this.row(appId);
    return row && row.revoked_at === null ? this.toApp(row) : undefined;
  }

  /** Every registration, revoked ones included (with revokedAt). */
  list(): TrustedApp[] {
    return this.db
      .prepare<[], AppRow>('SELECT * FROM apps ORDER BY app_id')
      .all()
      .map((r) => this.toApp(r));
  }

  /** Revokes the app and keeps its row (revokedAt); its policies stop matching too. */
  revoke(appId: string, now = Date.now()): TrustedApp {
    checkId(appId, 'appId');
    const row = this.row(appId);
    if (!row) throw badParam(`appId ${appId} is not registered`);
    if (row.revoked_at === null)
      this.db.prepare('UPDATE apps SET revoked_at = ? WHERE app_id = ?').run(now, appId);
    return this.toApp(this.row(appId)!);
  }

  /** Whether a live app may be called from `origin` (exact match after normalisation). */
  isOriginAllowed(appId: string, origin: string): boolean {
    const o = tryNormaliseOrigin(origin);
    if (o === undefined) return false;
    return (
      this.db
        .prepare(
          `SELECT 1 FROM app_origins JOIN apps USING (app_id)
           WHERE app_id = ? AND origin = ? AND revoked_at IS NULL`,
        )
        .get(appId, o) !== undefined
    );
  }

  private row(appId: string): AppRow | undefined {
    return this.db.prepare<[string], AppRow>('SELECT * FROM apps WHERE app_id = ?').get(appId);
  }

  private toApp(r: AppRow): TrustedApp {
    const origins = this.db
      .prepare<[string], { origin: string }>(
        'SELECT origin FROM app_origins WHERE app_id = ? ORDER BY origin',
      )
      .all(r.app_id)
      .map((o) => o.origin);
    return {
      appId: r.app_id,
      ...(r.name !== null ? { name: r.name } : {}),
      publicKey: r.public_key,
      keyAlgorithm: r.key_algorithm,
      origins,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
      ...(r.revoked_at !== null ? { revokedAt: r.revoked_at } : {}),
    };
  }
}
