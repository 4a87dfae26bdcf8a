// Cloud-certificate signing consent (seed 004 §6.2.2.1–2, tables 10–15): `cloud/auth/apply` opens
// an authorisation and sends the holder a one-time 6-digit code out of band; the holder confirms
// on the platform's own H5 page (authUrl) by typing it; `cloud/auth/result` then answers the
// single-use authCode that `cloud/sign` requires.
import { randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import { AgentError, badParam } from '../../main/common/errors';
import { ResultCode } from '../../main/common/codes';
import { sm3 } from '../../main/core/crypto/sm3';
import type { CloudAuthApplication } from '../../main/core/platform/types';
import type { Endpoint, RequestContext } from './context';
import type { PlatformDb } from './database';
import { checkFields } from './fields';
import type { Schema } from './fields';
import { findSeal, sealExpired } from './seal-store';
import type { SealRow } from './seal-store';

/** Wrong codes allowed before the authorisation is locked. */
export const MAX_CODE_TRIES = 5;

const MOBILE = /^\+?[0-9]{5,20}$/;

export const APPLY_SCHEMA = {
  orgCode: { kind: 'string', maxLength: 64 },
  name: { kind: 'string', maxLength: 100 },
  idCard: { kind: 'string', maxLength: 64 },
  mobile: { kind: 'string', required: true, pattern: MOBILE, patternHint: 'a telephone number' },
  sealCode: { kind: 'string', required: true, maxLength: 64 },
  redirectUrl: {
    kind: 'string',
    maxLength: 2048,
    check: (v: string) =>
      URL.canParse(v) && /^https?:$/.test(new URL(v).protocol)
        ? undefined
        : 'must be an http or https URL',
  },
} as const satisfies Schema;

export const RESULT_SCHEMA = {
  authId: { kind: 'string', required: true, maxLength: 64 },
  sealCode: { kind: 'string', required: true, maxLength: 64 },
} as const satisfies Schema;

export interface AuthRow {
  auth_id: string;
  app_id: string;
  seal_code: string;
  mobile: string;
  name: string | null;
  id_card: string | null;
  org_code: string | null;
  redirect_url: string | null;
  code_hash: Buffer;
  tries: number;
  state: 'pending' | 'confirmed' | 'used' | 'locked';
  auth_code: string | null;
  created_at: number;
  expires_at: number;
  confirmed_at: number | null;
  used_at: number | null;
}

const codeHash = (authId: string, code: string): Buffer =>
  sm3(Buffer.from(`${authId}\n${code}`, 'utf8'));

export const findAuth = (db: PlatformDb, authId: string): AuthRow | undefined =>
  db.prepare('SELECT * FROM cloud_auths WHERE auth_id = ?').get(authId) as AuthRow | undefined;

const refuse = (message: string): AgentError => new AgentError(ResultCode.SIGN_ID_INVALID, message);

/** The seal a cloud signature is asked for: enabled, in validity, a cloud-certificate seal. */
export function cloudSeal(db: PlatformDb, sealCode: string, now: number): SealRow {
  const seal = findSeal(db, sealCode);
  if (!seal) throw new AgentError(ResultCode.SEAL_INVALID, 'seal unknown');
  if (seal.state !== 1)
    throw new AgentError(ResultCode.SEAL_INVALID, `seal is not enabled (state ${seal.state})`);
  if (sealExpired(seal, now))
    throw new AgentError(ResultCode.SEAL_INVALID, 'seal validity has ended');
  if (seal.cert_type !== 2)
    throw badParam('the seal is a UKey seal (certType 1): it signs on its UKey, not in the cloud');
  return seal;
}

/**
 * The authorisation `authId` of this app for this seal, as it stands at `now`; 2005 when it is
 * unknown, another app's or seal's, expired, locked or used.
 */
export function liveAuth(ctx: RequestContext, authId: string, sealCode: string): AuthRow {
  const auth = findAuth(ctx.db, authId);
  if (!auth || auth.app_id !== ctx.app.appId) throw refuse('authId unknown');
  if (auth.seal_code !== sealCode) throw refuse('authId was issued for another seal');
  if (auth.state === 'used') throw refuse('authId was already used');
  if (auth.state === 'locked') throw refuse('authId is locked after too many wrong codes');
  if (auth.expires_at <= ctx.now) throw refuse('authId expired');
  return auth;
}

/** Table 12: authUrl (the platform's H5 page), clientType 'H5', authId. */
export const cloudAuthApplyEndpoint: Endpoint = (body) => {
  const f = checkFields(body, APPLY_SCHEMA);
  return (ctx): CloudAuthApplication => {
    const { authId, code } = ctx.db
      .transaction(() => {
        const seal = cloudSeal(ctx.db, f.sealCode, ctx.now);
        // The code goes to the holder's phone: it must be the phone filed for the seal's user.
        if (seal.mobile_phone !== null && seal.mobile_phone !== f.mobile)
          throw badParam("field mobile is not the seal's authorised user's telephone number");
        if (f.orgCode !== undefined && f.orgCode !== seal.org_code)
          throw badParam("field orgCode is not the seal's organisation");
        ctx.db
          .prepare('DELETE FROM cloud_auths WHERE expires_at < ? AND state <> ?')
          .run(ctx.now - 24 * 3600 * 1000, 'confirmed');
        const id = randomBytes(18).toString('base64url');
        const c = String(randomInt(1_000_000)).padStart(6, '0');
        ctx.db
          .prepare(
            `INSERT INTO cloud_auths (auth_id, app_id, seal_code, mobile, name, id_card, org_code,
               redirect_url, code_hash, state, created_at, expires_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)`,
          )
          .run(
            id,
            ctx.app.appId,
            seal.seal_code,
            f.mobile,
            f.name ?? null,
            f.idCard ?? null,
            f.orgCode ?? null,
            f.redirectUrl ?? null,
            codeHash(id, c),
            ctx.now,
            ctx.now + ctx.settings.cloudAuthTtlMs,
          );
        return { authId: id, code: c };
      })
      .immediate();
    ctx.settings.deliverAuthCode({ authId, sealCode: f.sealCode, mobile: f.mobile, code });
    return {
      authUrl: `${ctx.settings.baseUrl}${H5_PREFIX}${encodeURIComponent(authId)}`,
      clientType: 'H5',
      authId,
    };
  };
};

/** Table 15: `authCode` once confirmed; '' while the holder has not confirmed yet. */
export const cloudAuthResultEndpoint: Endpoint = (body) => {
  const f = checkFields(body, RESULT_SCHEMA);
  return (ctx) => {
    const auth = liveAuth(ctx, f.authId, f.sealCode);
    return { authId: auth.auth_id, authCode: auth.state === 'confirmed' ? auth.auth_code : '' };
  };
};

export const H5_PREFIX = '/h5/auth/';

export type ConfirmOutcome =
  | { ok: true; auth: AuthRow }
  | { ok: false; reason: 'unknown' | 'expired' | 'locked' | 'done' | 'wrong'; triesLeft?: number };

/** The holder typed `code` on the H5 page: confirms the authorisation, or counts a wrong try. */
export function confirmAuth(
  db: PlatformDb,
  authId: string,
  code: string,
  now: number,
  ttlMs: number,
): ConfirmOutcome {
  return db
    .transaction((): ConfirmOutcome => {
      const auth = findAuth(db, authId);
      if (!auth) return { ok: false, reason: 'unknown' };
      if (auth.state === 'locked') return { ok: false, reason: 'locked' };
      if (auth.state !== 'pending') return { ok: false, reason: 'done' };
      if (auth.expires_at <= now) return { ok: false, reason: 'expired' };
      const good = /^\d{6}$/.test(code) && timingSafeEqual(codeHash(authId, code), auth.code_hash);
      if (!good) {
        const tries = auth.tries + 1;
        db.prepare('UPDATE cloud_auths SET tries = ?, state = ? WHERE auth_id = ?').run(
          tries,
          tries >= MAX_CODE_TRIES ? 'locked' : 'pending',
          authId,
        );
        return tries >= MAX_CODE_TRIES
          ? { ok: false, reason: 'locked' }
          : { ok: false, reason: 'wrong', triesLeft: MAX_CODE_TRIES - tries };
      }
      const authCode = randomBytes(24).toString('base64url');
      // The authCode is good for one signature within the lifetime, counted from confirmation.
      db.prepare(
        `UPDATE cloud_auths SET state = 'confirmed', auth_code = ?, confirmed_at = ?, expires_at = ?
         WHERE auth_id = ?`,
      ).run(authCode, now, now + ttlMs, authId);
      return { ok: true, auth: findAuth(db, authId)! };
    })
    .immediate();
}
