// Idempotency keys for state-changing endpoints (this project's extension, docs/PLATFORM.md): a
// request carrying `requestId` is answered once; the same key with the same fields answers that
// first answer again, the same key with other fields is 1001. The answer is recorded in the same
// transaction as the change, so a lost answer never leads to a second filing.
import { AgentError, badParam } from '../../main/common/errors';
import { ResultCode } from '../../main/common/codes';
import { sm3 } from '../../main/core/crypto/sm3';
import { canonicalString } from '../../main/core/platform/canonical';
import type { Endpoint, RequestContext } from './context';
import type { PlatformDb } from './database';

const REQUEST_ID = /^[0-9A-Za-z._:-]{8,64}$/;
/** Keys are remembered this long: far longer than any outbox keeps retrying in practice. */
const KEEP_MS = 30 * 24 * 3600 * 1000;
/** Envelope fields change with every attempt; the key covers the request's own fields. */
const ENVELOPE = new Set(['version', 'appId', 'time', 'nonce', 'sign']);

interface Stored {
  path: string;
  fields_hash: Buffer;
  code: string;
  message: string;
  data: string | null;
}

function fieldsHash(body: Record<string, unknown>): Buffer {
  const own = Object.fromEntries(Object.entries(body).filter(([k]) => !ENVELOPE.has(k)));
  return sm3(Buffer.from(canonicalString(own), 'utf8'));
}

function replay(stored: Stored, path: string, hash: Buffer): unknown {
  if (stored.path !== path || !stored.fields_hash.equals(hash))
    throw badParam('requestId was already used for a different request');
  if (stored.code !== ResultCode.OK)
    throw new AgentError(stored.code as ResultCode, stored.message);
  return stored.data === null ? null : (JSON.parse(stored.data) as unknown);
}

function record(
  db: PlatformDb,
  ctx: RequestContext,
  key: string,
  path: string,
  hash: Buffer,
  code: string,
  message: string,
  data: unknown,
): void {
  db.prepare(
    `INSERT INTO request_ids (app_id, request_id, path, fields_hash, code, message, data, at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    ctx.app.appId,
    key,
    path,
    hash,
    code,
    message,
    data === undefined ? null : JSON.stringify(data),
    ctx.now,
  );
}

/** `endpoint` at `path` made idempotent for requests that carry a `requestId`. */
export function idempotent(path: string, endpoint: Endpoint): Endpoint {
  return (body) => {
    const raw = body.requestId;
    const key = raw === undefined || raw === null || raw === '' ? undefined : raw;
    if (key !== undefined && (typeof key !== 'string' || !REQUEST_ID.test(key)))
      throw badParam('field requestId must be 8 to 64 letters, digits, . _ : or -');
    const run = endpoint(body);
    if (key === undefined) return run;
    const hash = fieldsHash(body);
    return (ctx) => {
      const find = (): Stored | undefined =>
        ctx.db
          .prepare<[string, string], Stored>(
            'SELECT path, fields_hash, code, message, data FROM request_ids WHERE app_id = ? AND request_id = ?',
          )
          .get(ctx.app.appId, key);
      try {
        return ctx.db
          .transaction(() => {
            ctx.db.prepare('DELETE FROM request_ids WHERE at < ?').run(ctx.now - KEEP_MS);
            const stored = find();
            if (stored) return replay(stored, path, hash);
            const data = run(ctx);
            record(ctx.db, ctx, key, path, hash, ResultCode.OK, 'success', data);
            return data;
          })
          .immediate();
      } catch (e) {
        // A refusal is the answer too (a repeat must not succeed where the first did not), but
        // a fault of ours is not: the caller may try again.
        if (!(e instanceof AgentError) || e.code === ResultCode.INTERNAL) throw e;
        ctx.db
          .transaction(() => {
            if (!find()) record(ctx.db, ctx, key, path, hash, e.code, e.message, null);
          })
          .immediate();
        throw e;
      }
    };
  };
}
