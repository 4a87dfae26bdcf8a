// The agent's client of the central platform (CONTRACT §4): signs each request with the app's key,
// verifies each answer's X-Platform-Sign, and turns every failure into an AgentError.
import { randomBytes, randomInt } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import type { IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import { ResultCode, httpStatusOf } from '../../common/codes';
import { AgentError, badParam } from '../../common/errors';
import { NONCE_LIMIT, signRequest } from './canonical';
import type { RequestSigner } from './canonical';
import { PLATFORM_SIGN_HEADER, platformPublicPoint, verifyResponseBody } from './response-sign';
import type { PlatformTrust } from './response-sign';
import { sm3HexOf } from '../crypto/sm3';
import type { DocumentVerifyResult } from '../pdf/types';
import { normaliseSerial } from './serial';
import { PLATFORM_PATHS } from './types';
import type {
  CloudAuthApplication,
  CloudAuthApplyParams,
  CloudAuthResult,
  CloudAuthResultParams,
  CloudSignParams,
  CloudSignResult,
  SealFilingParams,
  SealFilingResult,
  SealInfo,
  SealQueryParams,
  SealStateParams,
  SignIdVerification,
  SignIdVerifyParams,
} from './types';

export interface RetryPolicy {
  /** Tries in all, including the first (default 3). */
  attempts?: number;
  /** First back-off (default 200 ms); doubles each time, with full jitter. */
  baseDelayMs?: number;
  maxDelayMs?: number;
}

export interface PlatformClientConfig {
  /** e.g. `https://platform.example.cn`; paths of CONTRACT §4 are appended. */
  baseUrl: string;
  signer: RequestSigner;
  /** The platform's SM2 key: point, SPKI or certificate (DER or PEM). */
  platformKey: PlatformTrust;
  /** Interface version sent as `version` (default '1.0'). */
  version?: string;
  /** Per attempt, default 10 s. */
  timeoutMs?: number;
  /** Answers larger than this are refused (default 16 MiB: queries carry seal images). */
  maxResponseBytes?: number;
  /** Used for the query only: the other calls change state and are never repeated. */
  retry?: RetryPolicy;
  clock?: () => number;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_RESPONSE = 16 * 1024 * 1024;
const KNOWN_CODES = new Set<string>(Object.values(ResultCode));

const unavailable = (message: string, retryable: boolean, detail?: Record<string, unknown>) =>
  new AgentError(ResultCode.PLATFORM_UNAVAILABLE, message, { ...detail, retryable });

interface RawAnswer {
  status: number;
  signature: string | undefined;
  body: Buffer;
}

/** One POST; network trouble of any kind becomes 3001 without naming the host. */
function post(
  url: URL,
  body: Buffer,
  contentType: string,
  timeoutMs: number,
  maxBytes: number,
): Promise<RawAnswer> {
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<RawAnswer>((resolve, reject) => {
    let settled = false;
    const fail = (e: AgentError): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      reject(e);
    };
    const req = send(url, {
      method: 'POST',
      headers: {
        'content-type': contentType,
        'content-length': body.length,
        accept: 'application/json',
      },
    });
    const timer = setTimeout(
      () =>
        fail(
          unavailable(`the platform did not answer within ${Math.ceil(timeoutMs / 1000)} s`, true),
        ),
      timeoutMs,
    );
    req.on('error', (e: NodeJS.ErrnoException) =>
      fail(unavailable('the platform could not be reached', true, { errno: e.code })),
    );
    req.on('response', (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBytes) fail(unavailable('the platform answer is too large', false));
        else chunks.push(chunk);
      });
      res.on('error', () => fail(unavailable('the platform answer was cut off', true)));
      res.on('aborted', () => fail(unavailable('the platform answer was cut off', true)));
      res.on('end', () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        const header = res.headers[PLATFORM_SIGN_HEADER.toLowerCase()];
        resolve({
          status: res.statusCode ?? 0,
          signature: Array.isArray(header) ? undefined : header,
          body: Buffer.concat(chunks),
        });
      });
    });
    req.end(body);
  });
}

/** The envelope's `data` once the answer is verified and says success; AgentError otherwise. */
function openAnswer(answer: RawAnswer, platformPoint: Buffer): unknown {
  if (!verifyResponseBody(answer.body, answer.signature, platformPoint)) {
    // An unsigned 5xx is a proxy or load balancer in trouble; anything else unsigned is refused.
    if (answer.status >= 500)
      throw unavailable(`the platform is unavailable (HTTP ${answer.status})`, true);
    throw unavailable('the platform answer failed signature verification', false, {
      status: answer.status,
    });
  }
  let envelope: unknown;
  try {
    envelope = JSON.parse(answer.body.toString('utf8'));
  } catch {
    throw unavailable('the platform answer is not JSON', false);
  }
  if (
    typeof envelope !== 'object' ||
    envelope === null ||
    typeof (envelope as { code?: unknown }).code !== 'string' ||
    typeof (envelope as { message?: unknown }).message !== 'string'
  )
    throw unavailable('the platform answer is not a result envelope', false);
  const { code, message, data } = envelope as { code: string; message: string; data?: unknown };
  if (code === ResultCode.OK) return data ?? null;
  if (!KNOWN_CODES.has(code))
    throw unavailable(`the platform answered code ${code}: ${message}`, false, { code });
  const rc = code as ResultCode;
  // A platform fault may pass; a refusal of this request will not.
  const retryable = httpStatusOf[rc] >= 500;
  throw new AgentError(rc, message, { platformStatus: answer.status, retryable });
}

/**
 * Request nonces: a sequence from a random start, not a fresh random number each time. Random
 * nonces in [0, 10^8) repeat within the platform's 300 s window with probability ≈ n²/2·10^8 —
 * about 1 in 5 over five minutes at 20 requests/s — and the platform rightly refuses a repeat
 * (1004). A sequence never repeats within a process; two processes of one app (serve and a CLI)
 * collide only if their ranges meet, ≈ (n1 + n2) / 10^8.
 */
let lastNonce = randomInt(NONCE_LIMIT);
export const nextNonce = (): number => (lastNonce = (lastNonce + 1) % NONCE_LIMIT);

const isRetryable = (e: unknown): boolean =>
  e instanceof AgentError && e.detail?.retryable === true;

/** `path` under the base URL (which may itself have a path); 1001 unless it is http(s). */
function endpointUrl(baseUrl: string, path: string): URL {
  let url: URL;
  try {
    url = new URL(path.replace(/^\//, ''), baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
  } catch {
    throw badParam('the platform base URL is not a valid URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw badParam('the platform base URL must be http or https');
  return url;
}

/** A request's bytes once its fields are signed. */
type Encoder = (signed: Record<string, unknown>) => { body: Buffer; contentType: string };

const jsonEncoder: Encoder = (signed) => ({
  body: Buffer.from(JSON.stringify(signed), 'utf8'),
  contentType: 'application/json; charset=utf-8',
});

/** Signs and sends one request to `path`; answers the verified `data`. */
async function call(
  config: PlatformClientConfig,
  path: string,
  params: object,
  repeatable: boolean,
  encode: Encoder = jsonEncoder,
): Promise<unknown> {
  const url = endpointUrl(config.baseUrl, path);
  const platformPoint = platformPublicPoint(config.platformKey);
  const clock = config.clock ?? Date.now;
  const timeoutMs = config.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxBytes = config.maxResponseBytes ?? DEFAULT_MAX_RESPONSE;
  const attempts = repeatable ? Math.max(1, config.retry?.attempts ?? 3) : 1;
  const baseDelay = config.retry?.baseDelayMs ?? 200;
  const maxDelay = config.retry?.maxDelayMs ?? 5_000;

  let nonceRetried = false;
  for (let attempt = 1; ; attempt++) {
    // Each attempt is a new request: fresh time and nonce, fresh signature.
    const fields = {
      ...params,
      version: config.version ?? '1.0',
      appId: config.signer.appId,
      time: String(clock()),
      nonce: nextNonce(),
    } as Record<string, unknown>;
    const signed = await signRequest(fields, config.signer);
    const { body, contentType } = encode(signed);
    try {
      return openAnswer(await post(url, body, contentType, timeoutMs, maxBytes), platformPoint);
    } catch (e) {
      // A nonce another process of this app used meanwhile: refused before anything was done,
      // so even a filing may go again, once, with the next nonce.
      if (e instanceof AgentError && e.code === ResultCode.NONCE_REUSED && !nonceRetried) {
        nonceRetried = true;
        attempt--;
        continue;
      }
      if (attempt >= attempts || !isRetryable(e)) throw e;
      const ceiling = Math.min(maxDelay, baseDelay * 2 ** (attempt - 1));
      await sleep(Math.floor(Math.random() * ceiling));
    }
  }
}

const malformed = (what: string): AgentError =>
  unavailable(`the platform answered a malformed ${what}`, false);

/** Tables 1 → 2: files, extends or changes a seal; answers its sealCode. Never repeated. */
export async function fileSeal(
  config: PlatformClientConfig,
  params: SealFilingParams,
): Promise<SealFilingResult> {
  const data = await call(config, PLATFORM_PATHS.filing, params, false);
  if (typeof data !== 'string' || data.length === 0) throw malformed('filing answer');
  return data;
}

/** Tables 3 → 4: enables (1), suspends (4) or cancels (3) a seal. Never repeated. */
export async function setSealState(
  config: PlatformClientConfig,
  params: SealStateParams,
): Promise<void> {
  await call(config, PLATFORM_PATHS.state, params, false);
}

/** Tables 5 → 6–9: the seals of an organisation, each with a fresh signId. Retried when safe. */
export async function querySeals(
  config: PlatformClientConfig,
  params: SealQueryParams,
): Promise<SealInfo[]> {
  const data = await call(config, PLATFORM_PATHS.query, params, true);
  if (!Array.isArray(data)) throw malformed('query answer');
  for (const seal of data as unknown[]) {
    const s = seal as Partial<SealInfo> | null;
    if (
      typeof s !== 'object' ||
      s === null ||
      typeof s.sealCode !== 'string' ||
      typeof s.signId !== 'string' ||
      !Array.isArray(s.certList)
    )
      throw malformed('seal in the query answer');
  }
  return data as SealInfo[];
}

/**
 * CONTRACT §4: asks whether `signId` lets this seal sign with this certificate, consuming it.
 * Never repeated (a lost answer means the signId is spent; the caller fails closed).
 */
export async function verifySignId(
  config: PlatformClientConfig,
  params: SignIdVerifyParams,
): Promise<SignIdVerification> {
  const data = (await call(config, PLATFORM_PATHS.signIdVerify, params, false)) as
    Partial<SignIdVerification> | null | undefined;
  if (typeof data !== 'object' || data === null) throw malformed('sign-id answer');
  // The answer must be about what we asked: anything else fails closed.
  if (
    data.valid !== true ||
    data.sealCode !== params.sealCode ||
    typeof data.certNumber !== 'string' ||
    normaliseSerial(data.certNumber) !== normaliseSerial(params.certNumber)
  )
    throw new AgentError(ResultCode.SIGN_ID_INVALID, 'the platform did not confirm the signId');
  return data as SignIdVerification;
}

const isString = (v: unknown): v is string => typeof v === 'string';

/** Tables 10 → 11, 12: starts the holder's confirmation; answers where they confirm. */
export async function applyCloudAuth(
  config: PlatformClientConfig,
  params: CloudAuthApplyParams,
): Promise<CloudAuthApplication> {
  const d = (await call(config, PLATFORM_PATHS.cloudAuthApply, params, false)) as Record<
    string,
    unknown
  > | null;
  if (!d || !isString(d.authUrl) || !isString(d.authId) || !isString(d.clientType))
    throw malformed('auth application answer');
  return { authUrl: d.authUrl, clientType: d.clientType, authId: d.authId };
}

/** Tables 13 → 14, 15: the authCode once the holder confirmed, `status: 'pending'` before. */
export async function cloudAuthResult(
  config: PlatformClientConfig,
  params: CloudAuthResultParams,
): Promise<CloudAuthResult> {
  const d = (await call(config, PLATFORM_PATHS.cloudAuthResult, params, true)) as Record<
    string,
    unknown
  > | null;
  if (!d || !isString(d.authCode) || d.authId !== params.authId)
    throw malformed('auth result answer');
  return {
    authId: d.authId,
    authCode: d.authCode,
    status: d.authCode === '' ? 'pending' : 'confirmed',
  };
}

/** Tables 16 → 17, 18: the platform signs docHash with the seal's cloud key. Never repeated. */
export async function cloudSign(
  config: PlatformClientConfig,
  params: CloudSignParams,
): Promise<CloudSignResult> {
  const d = (await call(config, PLATFORM_PATHS.cloudSign, params, false)) as Record<
    string,
    unknown
  > | null;
  if (!d || d.type !== params.type || !isString(d.signData) || d.signData === '')
    throw malformed('cloud signature answer');
  return { type: params.type, signData: d.signData };
}

/** Bytes allowed in a filename's quoted-string: no quote, backslash or control characters. */
const safeFilename = (name: string): string =>
  name.replace(/[\x00-\x1f\x7f"\\]/g, '_').slice(0, 200) || 'document.pdf';

/**
 * Tables 24 → 25–28: the platform verifies the document's signatures. Sent as
 * multipart/form-data with the file in `file`; its signed value is the file's SM3, lowercase hex
 * (CONTRACT §1). Retried when safe: verification changes nothing.
 */
export async function verifyDocument(
  config: PlatformClientConfig,
  file: Buffer,
  filename: string,
): Promise<DocumentVerifyResult> {
  const encode: Encoder = (signed) => {
    const boundary = `----ukey-agent-${randomBytes(16).toString('hex')}`;
    const parts: Buffer[] = [];
    for (const [k, v] of Object.entries(signed)) {
      if (k === 'file') continue;
      parts.push(
        Buffer.from(
          `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${String(v)}\r\n`,
          'utf8',
        ),
      );
    }
    parts.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${safeFilename(filename)}"\r\n` +
          'Content-Type: application/pdf\r\n\r\n',
        'utf8',
      ),
      file,
      Buffer.from(`\r\n--${boundary}--\r\n`, 'utf8'),
    );
    return { body: Buffer.concat(parts), contentType: `multipart/form-data; boundary=${boundary}` };
  };
  const d = (await call(
    config,
    PLATFORM_PATHS.documentsVerify,
    { file: sm3HexOf(file) },
    true,
    encode,
  )) as Partial<DocumentVerifyResult> | null;
  if (
    !d ||
    typeof d.verifyResult !== 'boolean' ||
    typeof d.signCount !== 'number' ||
    !Array.isArray(d.details)
  )
    throw malformed('document verification answer');
  return d as DocumentVerifyResult;
}

export interface PlatformClient {
  fileSeal(params: SealFilingParams): Promise<SealFilingResult>;
  setSealState(params: SealStateParams): Promise<void>;
  querySeals(params: SealQueryParams): Promise<SealInfo[]>;
  verifySignId(params: SignIdVerifyParams): Promise<SignIdVerification>;
  applyCloudAuth(params: CloudAuthApplyParams): Promise<CloudAuthApplication>;
  cloudAuthResult(params: CloudAuthResultParams): Promise<CloudAuthResult>;
  cloudSign(params: CloudSignParams): Promise<CloudSignResult>;
  verifyDocument(file: Buffer, filename: string): Promise<DocumentVerifyResult>;
}

/** The four calls bound to one configuration (its URL and platform key are checked here). */
export function createPlatformClient(config: PlatformClientConfig): PlatformClient {
  endpointUrl(config.baseUrl, '/');
  platformPublicPoint(config.platformKey);
  return {
    fileSeal: (p) => fileSeal(config, p),
    setSealState: (p) => setSealState(config, p),
    querySeals: (p) => querySeals(config, p),
    verifySignId: (p) => verifySignId(config, p),
    applyCloudAuth: (p) => applyCloudAuth(config, p),
    cloudAuthResult: (p) => cloudAuthResult(config, p),
    cloudSign: (p) => cloudSign(config, p),
    verifyDocument: (file, filename) => verifyDocument(config, file, filename),
  };
}
