// POST /api/v1/seals/query (seed 004 §6.1.4, tables 5 → 6, 7, 8, 9): an organisation's seals that
// can sign now, each with a fresh single-use signId.
import { SEAL_TYPES } from '../../main/core/platform/types';
import type { SealInfo, SealType } from '../../main/core/platform/types';
import type { Endpoint, RequestContext } from './context';
import { SERIAL_HEX, checkFields, normaliseSerial } from './fields';
import type { Checked, Schema } from './fields';
import { sealExpired } from './seal-store';
import type { SealRow } from './seal-store';
import { issueSignId, pruneSignIds } from './sign-ids';

export const QUERY_SCHEMA = {
  deviceId: { kind: 'string', maxLength: 128 },
  idCard: { kind: 'string', maxLength: 64 },
  orgCode: { kind: 'string', required: true, maxLength: 64 },
  sealType: { kind: 'string', required: true, oneOf: ['0', ...SEAL_TYPES] },
  certType: { kind: 'integer', oneOf: [0, 1, 2] },
  certNumber: { kind: 'string', pattern: SERIAL_HEX, patternHint: 'the serial number in hex' },
  UKeyId: { kind: 'string', maxLength: 128 },
} as const satisfies Schema;

type Query = Checked<typeof QUERY_SCHEMA>;

type Row = SealRow & { plat_name: string | null; dest_host: string | null };

function selectSeals(ctx: RequestContext, q: Query): Row[] {
  const where = ['s.org_code = @orgCode', 's.state = 1'];
  const params: Record<string, string | number> = { orgCode: q.orgCode };
  if (q.sealType !== '0') {
    where.push('s.seal_type = @sealType');
    params.sealType = q.sealType;
  }
  if (q.certType !== undefined && q.certType !== 0) {
    where.push('s.cert_type = @certType');
    params.certType = q.certType;
  }
  if (q.certNumber !== undefined) {
    where.push('s.cert_number = @certNumber');
    params.certNumber = normaliseSerial(q.certNumber);
  }
  if (q.UKeyId !== undefined) {
    where.push('s.ukey_id = @UKeyId');
    params.UKeyId = q.UKeyId;
  }
  // A phone shield names its user: only that person's seals.
  if (q.idCard !== undefined) {
    where.push('s.possessor_cert_no = @idCard');
    params.idCard = q.idCard;
  }
  return ctx.db
    .prepare(
      `SELECT s.*, a.plat_name, a.dest_host FROM seals s JOIN apps a ON a.app_id = s.app_id
       WHERE ${where.join(' AND ')} ORDER BY s.filed_at, s.seal_code`,
    )
    .all(params) as Row[];
}

function sealInfo(row: Row, signId: string, ctx: RequestContext): SealInfo {
  return {
    signId,
    sealType: row.seal_type as SealType,
    sealRelateType: row.possessor_type === 1 ? '1' : '2',
    sealCode: row.seal_code,
    sealName: row.name,
    moulageData: row.moulage_data ?? '',
    width: row.width,
    height: row.height,
    dpiX: row.dpi_x,
    dpiY: row.dpi_y,
    sealData: row.seal_data ?? '',
    sealInvalidTime: row.seal_invalid_time ?? '',
    certType: row.cert_type === 1 ? 1 : 2,
    destHost: row.cert_type === 1 ? (row.dest_host ?? '') : '',
    platName: row.plat_name ?? ctx.settings.platName,
    UKeyId: row.ukey_id ?? '',
    algorithm: row.algorithm === '1' || row.algorithm === '2' ? row.algorithm : '',
    certList:
      row.sign_public_key !== null && row.cert_number !== null
        ? [
            {
              algorithm: row.algorithm === '1' ? 1 : 2,
              certCode: row.cert_number,
              invalidTime: row.cert_invalid_time ?? '',
              signPublicKey: row.sign_public_key,
              subjectCn: row.subject_cn ?? '',
            },
          ]
        : [],
    state: row.downloaded ? 2 : 1,
    userList:
      row.user_name !== null && row.mobile_phone !== null
        ? [{ userName: row.user_name, mobilePhone: row.mobile_phone }]
        : [],
  };
}

/** Answers table 6's data: the seals (table 7), oldest filing first. */
export const queryEndpoint: Endpoint = (body) => {
  const q = checkFields(body, QUERY_SCHEMA);
  return (ctx) =>
    ctx.db
      .transaction((): SealInfo[] => {
        pruneSignIds(ctx.db, ctx.now);
        const rows = selectSeals(ctx, q).filter((r) => !sealExpired(r, ctx.now));
        const markDownloaded = ctx.db.prepare(
          'UPDATE seals SET downloaded = 1 WHERE seal_code = ?',
        );
        return rows.map((row) => {
          const signId = issueSignId(
            ctx.db,
            row.seal_code,
            row.cert_number,
            ctx.app.appId,
            ctx.now,
            ctx.settings.signIdTtlMs,
          );
          if (!row.downloaded) markDownloaded.run(row.seal_code);
          return sealInfo(row, signId, ctx);
        });
      })
      .immediate();
};
