// signIds (seed 004 table 7): issued with each seal a query answers, valid once, for that seal and
// its certificate, for a short time. Only their SM3 hash is stored.
import { randomBytes } from 'node:crypto';
import { AgentError } from '../../main/common/errors';
import { ResultCode } from '../../main/common/codes';
import { sm3 } from '../../main/core/crypto/sm3';
import type { SignIdVerification, SealType } from '../../main/core/platform/types';
import type { Endpoint } from './context';
import type { PlatformDb } from './database';
import { SERIAL_HEX, checkFields, normaliseSerial } from './fields';
import type { Schema } from './fields';
import { findSeal, sealExpired } from './seal-store';

/** Used and expired signIds are kept this long after expiry (diagnostics), then swept. */
const KEEP_AFTER_EXPIRY_MS = 24 * 3600 * 1000;

const hashOf = (signId: string): Buffer => sm3(Buffer.from(signId, 'utf8'));

/** A fresh signId (192 random bits, Base64url) for `sealCode` and its certificate. */
export function issueSignId(
  db: PlatformDb,
  sealCode: string,
  certNumber: string | null,
  appId: string,
  now: number,
  ttlMs: number,
): string {
  const signId = randomBytes(24).toString('base64url');
  db.prepare(
    `INSERT INTO sign_ids (id_hash, seal_code, cert_number, app_id, issued_at, expires_at)
     VALUES (?, ?, ?, ?, ?, ?)`,
  ).run(hashOf(signId), sealCode, certNumber, appId, now, now + ttlMs);
  return signId;
}

export function pruneSignIds(db: PlatformDb, now: number): void {
  db.prepare('DELETE FROM sign_ids WHERE expires_at < ?').run(now - KEEP_AFTER_EXPIRY_MS);
}

interface SignIdRow {
  seal_code: string;
  cert_number: string | null;
  expires_at: number;
  used_at: number | null;
}

export const VERIFY_SCHEMA = {
  signId: { kind: 'string', required: true, maxLength: 128 },
  sealCode: { kind: 'string', required: true, maxLength: 64 },
  certNumber: {
    kind: 'string',
    required: true,
    pattern: SERIAL_HEX,
    patternHint: 'the serial number in hex',
  },
} as const satisfies Schema;

const refuse = (message: string): AgentError => new AgentError(ResultCode.SIGN_ID_INVALID, message);

/**
 * CONTRACT §4 sign-id/verify: checks and consumes the signId in one transaction. 2005 when it is
 * unknown, used, expired or for another seal or certificate; 2006 when the seal cannot sign now.
 * A refused signId is not consumed: it still belongs to whoever holds it.
 */
export const signIdVerifyEndpoint: Endpoint = (body) => {
  const f = checkFields(body, VERIFY_SCHEMA);
  const certNumber = normaliseSerial(f.certNumber);
  return (ctx): SignIdVerification =>
    ctx.db
      .transaction((): SignIdVerification => {
        const hash = hashOf(f.signId);
        const row = ctx.db
          .prepare(
            'SELECT seal_code, cert_number, expires_at, used_at FROM sign_ids WHERE id_hash = ?',
          )
          .get(hash) as SignIdRow | undefined;
        if (!row) throw refuse('signId unknown');
        if (row.used_at !== null) throw refuse('signId already used');
        if (row.seal_code !== f.sealCode) throw refuse('signId was issued for another seal');
        if (row.cert_number !== certNumber)
          throw refuse('signId was issued for another certificate');
        const seal = findSeal(ctx.db, f.sealCode);
        if (!seal) throw new AgentError(ResultCode.SEAL_INVALID, 'seal unknown');
        // The seal's state first: a suspended seal's signIds were expired when it left service.
        if (seal.state !== 1)
          throw new AgentError(
            ResultCode.SEAL_INVALID,
            `seal is not enabled (state ${seal.state})`,
          );
        if (row.expires_at <= ctx.now) throw refuse('signId expired');
        if (sealExpired(seal, ctx.now))
          throw new AgentError(ResultCode.SEAL_INVALID, 'seal validity has ended');
        if (seal.cert_number !== certNumber)
          throw refuse("the certificate is no longer the seal's certificate");
        const used = ctx.db
          .prepare('UPDATE sign_ids SET used_at = ? WHERE id_hash = ? AND used_at IS NULL')
          .run(ctx.now, hash);
        if (used.changes !== 1) throw refuse('signId already used');
        return {
          valid: true,
          sealCode: seal.seal_code,
          sealName: seal.name,
          sealType: seal.seal_type as SealType,
          certNumber,
          moulageData: seal.moulage_data ?? '',
        };
      })
      .immediate();
};
