// POST /api/v1/documents/verify (seed 004 §6.4, tables 24 → 25–28): multipart/form-data with the
// PDF in `file`. The signed canonical string takes the file field as the lowercase hex SM3 of its
// bytes (CONTRACT §1). Verification is verifyPdf's, with the platform's trusted CAs and its seals.
import { badParam } from '../../main/common/errors';
import { AgentError } from '../../main/common/errors';
import { sm3HexOf } from '../../main/core/crypto/sm3';
import { verifyPdf } from '../../main/core/pdf/verify';
import type { SealInfo } from '../../main/core/pdf/types';
import type { Endpoint } from './context';
import type { PlatformDb } from './database';
import { trustedCertificates, sealOfCertificate } from './trust';

export interface UploadedFile {
  bytes: Buffer;
  filename: string;
}

export interface MultipartRequest {
  /** The text fields, `nonce` as a number when it is one, and `file` as its SM3 hex. */
  fields: Record<string, unknown>;
  file: UploadedFile;
}

/**
 * Parses a multipart/form-data body with the platform's (undici's) parser. Anything it cannot
 * read, a repeated field, a text `file` or a missing one is 1001.
 */
export async function parseMultipart(body: Buffer, contentType: string): Promise<MultipartRequest> {
  if (!/^multipart\/form-data\s*;.*boundary=/i.test(contentType))
    throw badParam('Content-Type must be multipart/form-data with a boundary');
  let form: FormData;
  try {
    form = await new Request('http://platform.invalid/', {
      method: 'POST',
      headers: { 'content-type': contentType },
      body,
    }).formData();
  } catch {
    throw badParam('the multipart/form-data body cannot be parsed');
  }
  const fields: Record<string, unknown> = {};
  let file: UploadedFile | undefined;
  for (const [name, value] of form) {
    if (name in fields) throw badParam(`field ${name} is given more than once`);
    if (name === 'file') {
      if (typeof value === 'string') throw badParam('field file must be a file part');
      file = { bytes: Buffer.from(await value.arrayBuffer()), filename: value.name };
      fields.file = sm3HexOf(file.bytes);
      continue;
    }
    if (typeof value !== 'string') throw badParam(`field ${name} must be text, not a file`);
    // A form field is text; the table's Integer nonce is signed as the same digits either way.
    fields[name] = name === 'nonce' && /^\d{1,9}$/.test(value) ? Number(value) : value;
  }
  if (!file) throw badParam('field file is required');
  if (file.bytes.length === 0) throw badParam('field file is empty');
  return { fields, file };
}

function sealInfoOf(db: PlatformDb, serial: string, der: Buffer): SealInfo | undefined {
  const seal = sealOfCertificate(db, serial, der);
  if (!seal) return undefined;
  const app = db.prepare('SELECT plat_name FROM apps WHERE app_id = ?').get(seal.app_id) as
    { plat_name: string | null } | undefined;
  return {
    sealCode: seal.seal_code,
    sealName: seal.name,
    sealType: seal.seal_type,
    state: seal.state,
    provider: app?.plat_name ?? seal.app_id,
    ...(seal.moulage_data ? { sealPicBase64: seal.moulage_data } : {}),
  };
}

/** The endpoint for one uploaded file: answers table 26. */
export const documentsVerifyEndpoint =
  (file: UploadedFile): Endpoint =>
  () =>
  async (ctx) => {
    try {
      return await verifyPdf(file.bytes, {
        trustedCertificates: trustedCertificates(ctx.db),
        fileName: file.filename,
        now: new Date(ctx.now),
        sealInfo: async (cert) => sealInfoOf(ctx.db, cert.serialNumberHex, cert.der),
      });
    } catch (e) {
      if (e instanceof AgentError) throw e;
      // Whatever a hostile file does to the reader, the caller gets a 1001, not a 500.
      throw badParam('the file could not be read as a PDF');
    }
  };
