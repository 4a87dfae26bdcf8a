// HTTP plumbing of the reference platform: bounded JSON bodies in, signed envelopes out.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AgentError, badParam } from '../../main/common/errors';
import { ResultCode } from '../../main/common/codes';
import type { Envelope } from '../../main/common/codes';
import type { Sm2KeyPair } from '../../main/core/crypto/sm2';
import { PLATFORM_SIGN_HEADER, signResponseBody } from '../../main/core/platform/response-sign';

/** A refusal answered with an HTTP status other than its code's (404, 405, 413). */
export const withStatus = (status: number, message: string): AgentError =>
  new AgentError(ResultCode.BAD_PARAM, message, { httpStatus: status });

export function statusOf(e: AgentError): number {
  const s = e.detail?.httpStatus;
  return typeof s === 'number' ? s : e.httpStatus;
}

/** Refuses anything but `application/json` (UTF-8, the only charset JSON has: RFC 8259 §8.1). */
export function checkContentType(header: string | undefined): void {
  const [type, ...params] = (header ?? '').split(';').map((p) => p.trim().toLowerCase());
  const charset = params
    .find((p) => p.startsWith('charset='))
    ?.slice(8)
    .replace(/"/g, '');
  if (type !== 'application/json' || (charset !== undefined && charset !== 'utf-8'))
    throw badParam('Content-Type must be application/json (UTF-8)');
}

/**
 * The body, at most `limit` bytes (413 beyond). A too-large body is still read to its end, up to
 * `drainLimit` bytes, so the client sees the answer instead of a reset; past that the connection
 * is dropped.
 */
export function readBody(
  req: IncomingMessage,
  limit: number,
  drainLimit = limit * 8,
): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? NaN);
    const tooLarge = (): AgentError =>
      withStatus(413, `request body is larger than ${limit} bytes`);
    if (declared > drainLimit) {
      req.destroy();
      reject(tooLarge());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
      else if (size > drainLimit) {
        req.destroy();
        reject(tooLarge());
      }
    });
    req.on('end', () => (size > limit ? reject(tooLarge()) : resolve(Buffer.concat(chunks))));
    req.on('error', reject);
    req.on('close', () => {
      if (!req.complete) reject(new Error('request aborted'));
    });
  });
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The body as a JSON object; 1001 for anything else. */
export function parseJsonObject(body: Buffer): Record<string, unknown> {
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    throw badParam('request body is not UTF-8');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw badParam('request body is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw badParam('request body must be a JSON object');
  return value as Record<string, unknown>;
}

/** The envelope's bytes and the headers that go with them, signed with the platform key. */
export function envelopeBytes(
  envelope: Envelope,
  key: Sm2KeyPair,
): { body: Buffer; headers: Record<string, string | number> } {
  const body = Buffer.from(JSON.stringify(envelope), 'utf8');
  return {
    body,
    headers: {
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': body.length,
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
      [PLATFORM_SIGN_HEADER]: signResponseBody(body, key),
    },
  };
}

export function sendEnvelope(
  res: ServerResponse,
  status: number,
  envelope: Envelope,
  key: Sm2KeyPair,
): void {
  if (res.headersSent || res.destroyed) return;
  const { body, headers } = envelopeBytes(envelope, key);
  res.writeHead(status, headers);
  res.end(body);
}
