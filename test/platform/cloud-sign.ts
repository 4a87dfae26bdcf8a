// POST /api/v1/cloud/sign (seed 004 §6.2.2.3, tables 16 → 17, 18): the platform signs docHash with
// the seal's platform-held cloud SM2 key, only with a confirmed, unexpired, unused authId and its
// authCode, and a signId from the seal query. All three are consumed in one transaction.
import { timingSafeEqual } from 'node:crypto';
import { AgentError, badParam } from '../../main/common/errors';
import { ResultCode } from '../../main/common/codes';
import { sm2Sign } from '../../main/core/crypto/sm2';
import { sm3 } from '../../main/core/crypto/sm3';
import { buildDetachedSignedData } from '../../main/core/pki/cms';
import { softwareSm2Provider } from '../../main/core/pki/signer';
import type { CloudSignResult } from '../../main/core/platform/types';
import { cloudSeal, liveAuth } from './cloud-auth';
import type { Endpoint } from './context';
import { checkFields, isBase64 } from './fields';
import type { Schema } from './fields';
import { cloudKeyFor, loadOrCreateCloudCa } from './trust';

export const CLOUD_SIGN_SCHEMA = {
  sealCode: { kind: 'string', required: true, maxLength: 64 },
  authId: { kind: 'string', required: true, maxLength: 64 },
  authCode: { kind: 'string', required: true, maxLength: 128 },
  type: { kind: 'string', required: true, oneOf: ['P1', 'P7'] },
  docHash: { kind: 'string', required: true, maxLength: 8192, check: isBase64 },
  credentNo: { kind: 'string', required: true, maxLength: 64 },
  orgCode: { kind: 'string', maxLength: 64 },
  signId: { kind: 'string', required: true, maxLength: 128 },
  hashType: { kind: 'integer', required: true, oneOf: [1, 2, 3, 4] },
} as const satisfies Schema;

const refuse = (message: string): AgentError => new AgentError(ResultCode.SIGN_ID_INVALID, message);

const sameText = (a: string, b: string): boolean => {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
};

/** Table 18: `type` and `signData` (Base64 DER). */
export const cloudSignEndpoint: Endpoint = (body) => {
  const f = checkFields(body, CLOUD_SIGN_SCHEMA);
  if (f.hashType !== 4)
    throw new AgentError(
      ResultCode.UNSUPPORTED_ALG,
      'cloud SM2 keys sign with SM3 only (hashType 4)',
    );
  const docHash = Buffer.from(f.docHash, 'base64');
  if (docHash.length === 0) throw badParam('field docHash is empty');
  if (f.type === 'P7' && docHash.length !== 32)
    throw badParam('field docHash must be the 32-byte SM3 digest of the document for P7');
  return async (ctx): Promise<CloudSignResult> => {
    const seal = cloudSeal(ctx.db, f.sealCode, ctx.now);
    const ca = await loadOrCreateCloudCa(ctx.db, ctx.now);
    const cloud = await cloudKeyFor(ctx.db, ca, seal, ctx.now);
    ctx.db
      .transaction(() => {
        // Checked again inside the transaction: the seal may have changed while we awaited.
        cloudSeal(ctx.db, f.sealCode, ctx.now);
        const auth = liveAuth(ctx, f.authId, f.sealCode);
        if (auth.state !== 'confirmed' || auth.auth_code === null)
          throw refuse('the holder has not confirmed this authId');
        if (!sameText(f.authCode, auth.auth_code)) throw refuse('authCode does not match authId');
        if (
          auth.id_card !== null
            ? f.credentNo !== auth.id_card
            : seal.possessor_type === 2 && f.credentNo !== seal.possessor_cert_no
        )
          throw badParam('field credentNo is not the ID number of the holder who authorised');
        if (f.orgCode !== undefined && f.orgCode !== seal.org_code)
          throw badParam("field orgCode is not the seal's organisation");
        const signId = ctx.db
          .prepare('SELECT seal_code, expires_at, used_at FROM sign_ids WHERE id_hash = ?')
          .get(sm3(Buffer.from(f.signId, 'utf8'))) as
          { seal_code: string; expires_at: number; used_at: number | null } | undefined;
        if (!signId) throw refuse('signId unknown');
        if (signId.used_at !== null) throw refuse('signId already used');
        if (signId.seal_code !== f.sealCode) throw refuse('signId was issued for another seal');
        if (signId.expires_at <= ctx.now) throw refuse('signId expired');
        ctx.db
          .prepare('UPDATE sign_ids SET used_at = ? WHERE id_hash = ? AND used_at IS NULL')
          .run(ctx.now, sm3(Buffer.from(f.signId, 'utf8')));
        const used = ctx.db
          .prepare(
            "UPDATE cloud_auths SET state = 'used', used_at = ? WHERE auth_id = ? AND state = 'confirmed'",
          )
          .run(ctx.now, auth.auth_id);
        if (used.changes !== 1) throw refuse('authId was already used');
      })
      .immediate();
    // P1 as CONTRACT §3: docHash's bytes are the message (e = SM3(Z ‖ docHash)).
    const signData =
      f.type === 'P1'
        ? sm2Sign(cloud.key, docHash)
        : await buildDetachedSignedData({
            messageDigest: docHash,
            hash: 'sm3',
            signer: softwareSm2Provider(cloud.key),
            signerCertificate: cloud.certificate,
            extraCertificates: [ca.certificate],
            signingTime: new Date(ctx.now),
          });
    return { type: f.type as CloudSignResult['type'], signData: signData.toString('base64') };
  };
};
