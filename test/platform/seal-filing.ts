// POST /api/v1/seals/filing (seed 004 §6.1.2, tables 1 → 2): filing, extension and change.
import { AgentError, badParam } from '../../main/common/errors';
import { ResultCode } from '../../main/common/codes';
import { parseCertificate } from '../../main/core/pki/certificate';
import { SEAL_TYPES } from '../../main/core/platform/types';
import type { Endpoint, RequestContext } from './context';
import {
  SERIAL_HEX,
  checkFields,
  formatCstDateTime,
  isBase64,
  isCstDateTime,
  normaliseSerial,
  parseCstDateTime,
} from './fields';
import type { Checked, Schema } from './fields';
import {
  findLiveSealByCode,
  findSeal,
  insertSeal,
  newSealCode,
  recordEvent,
  updateSeal,
} from './seal-store';
import type { SealAttributes, SealRow } from './seal-store';

const ID = /^[0-9A-Za-z._-]{1,64}$/;
const idHint = 'letters, digits, . _ or -, at most 64 characters';

/** Table 1 plus this project's additions (types.ts SealFilingParams, docs/PLATFORM.md). */
export const FILING_SCHEMA = {
  code: { kind: 'string', maxLength: 64 },
  sealCode: { kind: 'string', pattern: ID, patternHint: idHint },
  name: { kind: 'string', required: true, maxLength: 200 },
  sealType: { kind: 'string', required: true, oneOf: SEAL_TYPES },
  UKeyId: { kind: 'string', maxLength: 128 },
  certNumber: { kind: 'string', pattern: SERIAL_HEX, patternHint: 'the serial number in hex' },
  possessor: { kind: 'string', required: true, maxLength: 200 },
  possessorCertNo: { kind: 'string', required: true, pattern: ID, patternHint: idHint },
  possessorType: { kind: 'integer', required: true, oneOf: [1, 2] },
  bizType: { kind: 'integer', required: true, oneOf: [1, 2, 3] },
  certType: { kind: 'integer', required: true, oneOf: [1, 2] },
  orgCode: { kind: 'string', pattern: ID, patternHint: idHint },
  moulageData: { kind: 'string', check: isBase64 },
  width: { kind: 'integer', min: 1, max: 1000 },
  height: { kind: 'integer', min: 1, max: 1000 },
  dpiX: { kind: 'integer', min: 1, max: 100_000 },
  dpiY: { kind: 'integer', min: 1, max: 100_000 },
  sealData: { kind: 'string', check: isBase64 },
  sealInvalidTime: { kind: 'string', check: isCstDateTime },
  signPublicKey: { kind: 'string', check: isBase64 },
  algorithm: { kind: 'string', oneOf: ['1', '2'] },
  userName: { kind: 'string', maxLength: 100 },
  mobilePhone: {
    kind: 'string',
    pattern: /^\+?[0-9]{5,20}$/,
    patternHint: 'a telephone number (digits, optional leading +)',
  },
} as const satisfies Schema;

type Filing = Checked<typeof FILING_SCHEMA>;

/** Fields an extension may not alter: they identify the seal (a change, bizType 3, may). */
const IDENTITY: readonly [keyof Filing, keyof SealRow][] = [
  ['name', 'name'],
  ['sealType', 'seal_type'],
  ['possessor', 'possessor'],
  ['possessorCertNo', 'possessor_cert_no'],
  ['possessorType', 'possessor_type'],
  ['certType', 'cert_type'],
];

interface CertificateFields {
  cert_number: string;
  algorithm: string;
  sign_public_key: string;
  cert_invalid_time: string;
  subject_cn: string;
}

/** What the platform keeps of `signPublicKey`, checked against certNumber and algorithm. */
function certificateFields(f: Filing): CertificateFields | undefined {
  if (f.signPublicKey === undefined) return undefined;
  let cert;
  try {
    cert = parseCertificate(Buffer.from(f.signPublicKey, 'base64'));
  } catch {
    throw badParam('field signPublicKey is not a DER certificate');
  }
  const algorithm = cert.keyAlgorithm === 'sm2' ? '2' : cert.keyAlgorithm === 'rsa' ? '1' : '';
  if (!algorithm) throw badParam('field signPublicKey must hold an SM2 or RSA certificate');
  if (cert.usage === 'encrypt')
    throw badParam('field signPublicKey is an encryption certificate, not a signing one');
  const serial = normaliseSerial(cert.serialNumberHex);
  if (f.certNumber !== undefined && normaliseSerial(f.certNumber) !== serial)
    throw badParam('field certNumber does not match the serial of the signPublicKey certificate');
  if (f.algorithm !== undefined && f.algorithm !== algorithm)
    throw badParam("field algorithm does not match the signPublicKey certificate's key");
  return {
    cert_number: serial,
    algorithm,
    sign_public_key: f.signPublicKey,
    cert_invalid_time: formatCstDateTime(cert.notAfter.getTime()),
    subject_cn: cert.subjectFields.CN ?? '',
  };
}

/** The seal's attributes after this filing: given fields replace, absent optional ones remain. */
function mergedAttributes(f: Filing, before: SealRow | undefined): SealAttributes {
  const cert = certificateFields(f);
  const keep = <T>(given: T | undefined, old: T | null | undefined): T | null =>
    given !== undefined ? given : (old ?? null);
  // A new serial without a new certificate makes the stored certificate someone else's.
  const certChanged =
    cert === undefined &&
    f.certNumber !== undefined &&
    normaliseSerial(f.certNumber) !== before?.cert_number;
  const oldCert = certChanged ? undefined : before;
  const attrs: SealAttributes = {
    code: keep(f.code, before?.code),
    name: f.name,
    seal_type: f.sealType,
    ukey_id: keep(f.UKeyId, before?.ukey_id),
    cert_number:
      cert?.cert_number ??
      (f.certNumber !== undefined ? normaliseSerial(f.certNumber) : (before?.cert_number ?? null)),
    possessor: f.possessor,
    possessor_cert_no: f.possessorCertNo,
    possessor_type: f.possessorType,
    cert_type: f.certType,
    // Whose seal it is, for queries by orgCode: an institution's own code unless told otherwise.
    org_code: f.orgCode ?? before?.org_code ?? f.possessorCertNo,
    moulage_data: keep(f.moulageData, before?.moulage_data),
    width: keep(f.width, before?.width),
    height: keep(f.height, before?.height),
    dpi_x: keep(f.dpiX, before?.dpi_x),
    dpi_y: keep(f.dpiY, before?.dpi_y),
    seal_data: keep(f.sealData, before?.seal_data),
    seal_invalid_time: keep(f.sealInvalidTime, before?.seal_invalid_time),
    algorithm: cert?.algorithm ?? keep(f.algorithm, oldCert?.algorithm),
    sign_public_key: cert?.sign_public_key ?? oldCert?.sign_public_key ?? null,
    cert_invalid_time: cert?.cert_invalid_time ?? oldCert?.cert_invalid_time ?? null,
    subject_cn: cert?.subject_cn ?? oldCert?.subject_cn ?? null,
    user_name: keep(f.userName, before?.user_name),
    mobile_phone: keep(f.mobilePhone, before?.mobile_phone),
  };
  if ((attrs.user_name === null) !== (attrs.mobile_phone === null))
    throw badParam('fields userName and mobilePhone go together: give both or neither');
  if (attrs.cert_type === 1 && attrs.cert_number === null)
    throw badParam('field certNumber (or signPublicKey) is required for a UKey seal (certType 1)');
  return attrs;
}

function checkValidity(f: Filing, before: SealRow | undefined, now: number): void {
  if (f.sealInvalidTime === undefined) {
    if (f.bizType === 2) throw badParam('field sealInvalidTime is required for an extension');
    return;
  }
  const until = parseCstDateTime(f.sealInvalidTime)!;
  if (until <= now) throw badParam('field sealInvalidTime is in the past');
  const old = before?.seal_invalid_time ? parseCstDateTime(before.seal_invalid_time) : undefined;
  if (f.bizType === 2 && old !== undefined && until <= old)
    throw badParam(
      'field sealInvalidTime must be later than the current validity for an extension',
    );
}

function ownedSeal(ctx: RequestContext, sealCode: string): SealRow {
  const seal = findSeal(ctx.db, sealCode);
  if (!seal) throw new AgentError(ResultCode.SEAL_INVALID, 'seal unknown');
  if (seal.app_id !== ctx.app.appId)
    throw new AgentError(ResultCode.APP_NOT_ALLOWED, 'the seal was filed by another app');
  if (seal.state === 3) throw new AgentError(ResultCode.SEAL_INVALID, 'the seal is cancelled');
  return seal;
}

function checkCodeFree(ctx: RequestContext, code: string | null, sealCode?: string): void {
  if (code === null) return;
  const other = findLiveSealByCode(ctx.db, ctx.app.appId, code);
  if (other && other.seal_code !== sealCode)
    throw badParam(`code ${code} is already filed as sealCode ${other.seal_code}`);
}

function fileNew(f: Filing, ctx: RequestContext): string {
  if (f.sealCode !== undefined)
    throw badParam(
      'field sealCode must be absent for a filing (bizType 1): the platform assigns it',
    );
  checkValidity(f, undefined, ctx.now);
  const attrs = mergedAttributes(f, undefined);
  checkCodeFree(ctx, attrs.code);
  for (;;) {
    const sealCode = newSealCode(ctx.now);
    if (findSeal(ctx.db, sealCode)) continue; // 50 random bits a day: practically never
    // A newly made seal is in use: the seed files seals once they are made (§5.1 b).
    insertSeal(ctx.db, {
      seal_code: sealCode,
      app_id: ctx.app.appId,
      ...attrs,
      state: 1,
      downloaded: 0,
      filed_at: ctx.now,
      updated_at: ctx.now,
    });
    recordEvent(ctx.db, sealCode, ctx.app.appId, 'filing', 1, ctx.now);
    return sealCode;
  }
}

function amend(f: Filing, ctx: RequestContext): string {
  if (f.sealCode === undefined)
    throw badParam('field sealCode is required for an extension or change (bizType 2 or 3)');
  const seal = ownedSeal(ctx, f.sealCode);
  if (f.bizType === 2)
    for (const [field, column] of IDENTITY)
      if (f[field] !== seal[column])
        throw badParam(`field ${field} differs from the filed seal: use bizType 3 to change it`);
  checkValidity(f, seal, ctx.now);
  const attrs = mergedAttributes(f, seal);
  checkCodeFree(ctx, attrs.code, seal.seal_code);
  updateSeal(ctx.db, seal.seal_code, attrs, ctx.now);
  if (attrs.cert_number !== seal.cert_number)
    // signIds already handed out name the old certificate; none of them may sign any more.
    ctx.db
      .prepare('DELETE FROM sign_ids WHERE seal_code = ? AND used_at IS NULL')
      .run(seal.seal_code);
  recordEvent(
    ctx.db,
    seal.seal_code,
    ctx.app.appId,
    f.bizType === 2 ? 'extension' : 'change',
    seal.state,
    ctx.now,
  );
  return seal.seal_code;
}

/** Answers table 2's data: the seal's unique code. */
export const filingEndpoint: Endpoint = (body) => {
  const f = checkFields(body, FILING_SCHEMA);
  return (ctx) =>
    ctx.db.transaction(() => (f.bizType === 1 ? fileNew(f, ctx) : amend(f, ctx))).immediate();
};
