import { randomUUID } from 'node:crypto';
import { AgentError, badParam, toAgentError } from '../../common/errors';
import { ResultCode } from '../../common/codes';
import type { ResultCode as Code } from '../../common/codes';
import type { AgentStatus, UKeyInfo } from '../../common/jsapi';
import { version } from '../../common/version';
import type { ApprovalHost } from '../host';
import { buildDetachedSignedData } from '../pki/cms';
import type { HashName, SignatureProvider } from '../pki/signer';
import { checkReplay, strictBase64, verifyRequestSign } from '../platform/canonical';
import type { NonceStore } from '../platform/canonical';
import type { PlatformClient } from '../platform/platform-client';
import type { TokenService, UKeyInfo as TokenInfo } from '../token/token-service';
import { optEnumInt, optString, refuseForbiddenFields, reqString } from './fields';
import type { Body } from './fields';

/** A registered JSAPI caller (apps add): its request-signing key and the exact origins it may use. */
export interface CallerApp {
  appId: string;
  name?: string;
  /** SPKI DER (SM2 or RSA). */
  publicKey: Buffer;
  origins: string[];
}

export interface CallerRegistry {
  get(appId: string): CallerApp | undefined;
  isOriginAllowed(appId: string, origin: string): boolean;
  /** True when some active app lists this origin (preflights and WebSocket upgrades carry no appId). */
  isKnownOrigin(origin: string): boolean;
}

/** Standing approvals: takes one use of a matching policy, atomically. */
export interface PolicyMatcher {
  consume(q: { appId: string; sealCode: string; origin: string }): { id: string } | undefined;
}

export interface ApprovalRecord {
  requestId: string;
  appId: string;
  origin: string;
  sealCode: string;
  ukeyId: string;
  digestHex: string;
  format: 'P1' | 'P7';
  decision: 'approved' | 'declined' | 'timeout';
  decidedBy: 'signer' | 'policy';
  policyId?: string;
}

export interface AuditRecord {
  source: 'jsapi';
  serialNumber: string;
  appId?: string;
  origin?: string;
  interface: string;
  durationMs: number;
  resultCode: Code;
  message: string;
  normalized: Record<string, unknown>;
  raw: Record<string, unknown>;
}

export interface JsapiDeps {
  tokens: TokenService;
  apps: CallerRegistry;
  platform: Pick<PlatformClient, 'verifySignId'>;
  host: ApprovalHost;
  policies?: PolicyMatcher;
  approvals?: { record(r: ApprovalRecord): void };
  audit?: { append(r: AuditRecord): void };
  /** Replay protection for callers that add `time`/`nonce` (optional in the JSAPI). */
  nonces?: NonceStore;
  approvalTimeoutMs?: number;
  clock?: () => number;
}

export interface CallContext {
  /** The Origin header as the browser sent it (undefined: not a browser). */
  origin?: string;
  transport: 'http' | 'ws';
}

const HASH_OF: Record<1 | 2 | 3 | 4, HashName> = { 1: 'md5', 2: 'sha1', 3: 'sha256', 4: 'sm3' };
const DIGEST_LEN: Record<HashName, number> = { md5: 16, sha1: 20, sha256: 32, sm3: 32 };
const MAX_P1_BYTES = 64 * 1024;

/**
 * The two interfaces of seed 004 §6.3.2 and the status call, independent of HTTP or WebSocket.
 * Every call is checked in the order of CONTRACT §3 and audited with its result.
 */
export class JsapiService {
  private readonly timeoutMs: number;
  private readonly now: () => number;

  constructor(private readonly d: JsapiDeps) {
    this.timeoutMs = d.approvalTimeoutMs ?? 60_000;
    this.now = d.clock ?? Date.now;
  }

  status(): AgentStatus {
    return { version, ukeyCount: this.d.tokens.count };
  }

  async call(method: 'ukey.info' | 'ukey.sign', body: Body, ctx: CallContext): Promise<unknown> {
    const started = this.now();
    const serialNumber = randomUUID();
    let code: Code = ResultCode.OK;
    let message = 'ok';
    const normalized: Record<string, unknown> = {};
    try {
      return method === 'ukey.info'
        ? await this.info(body, ctx, normalized)
        : await this.sign(body, ctx, normalized, serialNumber);
    } catch (e) {
      const err = toAgentError(e);
      code = err.code;
      message = err.message;
      throw err;
    } finally {
      this.d.audit?.append({
        source: 'jsapi',
        serialNumber,
        appId: typeof body.appId === 'string' ? body.appId.slice(0, 64) : undefined,
        origin: ctx.origin?.slice(0, 256),
        interface: method,
        durationMs: this.now() - started,
        resultCode: code,
        message,
        normalized: { ...normalized, transport: ctx.transport },
        raw: rawForAudit(body),
      });
    }
  }

  /** Verifies the caller: origin allowed for the app, `sign` over the canonical string, replay fields. */
  private authenticate(body: Body, ctx: CallContext): CallerApp {
    refuseForbiddenFields(body);
    reqString(body, 'version', 16);
    const appId = reqString(body, 'appId', 64);
    const sign = reqString(body, 'sign', 2048);
    const app = this.d.apps.get(appId);
    if (!app)
      throw new AgentError(
        ResultCode.APP_NOT_ALLOWED,
        `appId ${appId} is not registered with this agent`,
      );
    if (ctx.origin === undefined || ctx.origin === 'null') {
      throw new AgentError(
        ResultCode.APP_NOT_ALLOWED,
        'requests must come from a web origin registered for the app',
      );
    }
    if (!this.d.apps.isOriginAllowed(appId, ctx.origin)) {
      throw new AgentError(
        ResultCode.APP_NOT_ALLOWED,
        `origin ${ctx.origin} is not allowed for appId ${appId}`,
      );
    }
    let ok: boolean;
    try {
      ok = verifyRequestSign(body, sign, app.publicKey);
    } catch (e) {
      throw e instanceof AgentError ? e : badParam('the request cannot be verified');
    }
    if (!ok) throw new AgentError(ResultCode.BAD_SIGN, 'sign does not verify with the app key');
    if (body.time !== undefined || body.nonce !== undefined) {
      if (!this.d.nonces) throw badParam('this agent does not accept time/nonce fields');
      checkReplay({ appId, time: body.time, nonce: body.nonce }, this.d.nonces, this.now());
    }
    return app;
  }

  /** The key a request is for: UKeyId when given, else the only key plugged in. */
  private pickKey(body: Body): TokenInfo {
    const wanted = optString(body, 'UKeyId', 64);
    const keys = this.d.tokens.list().filter((k) => k.tokenInitialized);
    if (wanted) {
      const k = keys.find((x) => x.ukeyId === wanted);
      if (!k) throw new AgentError(ResultCode.NO_UKEY, `UKey ${wanted} is not plugged in`);
      return k;
    }
    if (keys.length === 0) throw new AgentError(ResultCode.NO_UKEY, 'no UKey is plugged in');
    if (keys.length > 1) throw badParam('several UKeys are plugged in: name one with UKeyId');
    return keys[0]!;
  }

  private async info(
    body: Body,
    ctx: CallContext,
    norm: Record<string, unknown>,
  ): Promise<UKeyInfo> {
    const type = optEnumInt(body, 'type', [1, 2] as const);
    if (type === undefined)
      throw badParam('type is required: "1" signing certificate, "2" encryption certificate');
    this.authenticate(body, ctx);
    const key = this.pickKey(body);
    norm.ukeyId = key.ukeyId;
    norm.type = type;
    const cert = await this.d.tokens.certificateFor(key.ukeyId, type === 1 ? 'sign' : 'encrypt');
    norm.certSerial = cert.info.serialNumberHex;
    return { UKeyId: key.ukeyId, certData: cert.der.toString('base64') };
  }

  private async sign(
    body: Body,
    ctx: CallContext,
    norm: Record<string, unknown>,
    requestId: string,
  ): Promise<string> {
    const signId = reqString(body, 'signId', 128);
    const sealCode = reqString(body, 'sealCode', 128);
    const hashType = optEnumInt(body, 'hashType', [1, 2, 3, 4] as const);
    const signFormat = optEnumInt(body, 'signFormat', [1, 2] as const) ?? 1;
    const docHashText = reqString(body, 'docHash', 2 * MAX_P1_BYTES);
    const docHash = strictBase64(docHashText);
    if (!docHash || docHash.length === 0) throw badParam('docHash must be standard Base64');
    if (docHash.length > MAX_P1_BYTES)
      throw badParam(`docHash may hold at most ${MAX_P1_BYTES} bytes`);
    const app = this.authenticate(body, ctx);
    const origin = ctx.origin!;

    const key = this.pickKey(body);
    const cert = await this.d.tokens.certificateFor(key.ukeyId, 'sign');
    const alg = cert.info.keyAlgorithm;
    const hash = pickHash(alg, hashType);
    if (signFormat === 2 && docHash.length !== DIGEST_LEN[hash]) {
      throw badParam(
        `for P7, docHash must be the ${DIGEST_LEN[hash]}-byte ${hash.toUpperCase()} digest of the document`,
      );
    }
    const format = signFormat === 2 ? 'P7' : 'P1';
    Object.assign(norm, {
      ukeyId: key.ukeyId,
      sealCode,
      format,
      hash,
      certSerial: cert.info.serialNumberHex,
    });

    // Fail closed: the platform must confirm this signId for this seal and this key's certificate.
    const seal = await this.d.platform.verifySignId({
      signId,
      sealCode,
      certNumber: cert.info.serialNumberHex,
    });
    norm.sealName = seal.sealName;

    const digestHex = docHash.toString('hex');
    const base = {
      requestId,
      appId: app.appId,
      origin,
      sealCode,
      ukeyId: key.ukeyId,
      digestHex,
      format,
    } as const;
    const policy = this.d.policies?.consume({ appId: app.appId, sealCode, origin });
    if (policy) {
      norm.approvedBy = `policy ${policy.id}`;
      this.d.approvals?.record({
        ...base,
        decision: 'approved',
        decidedBy: 'policy',
        policyId: policy.id,
      });
    } else {
      const decision = await this.askSigner({
        ...base,
        appName: app.name,
        sealName: seal.sealName,
        sealType: seal.sealType,
        moulageData: seal.moulageData,
        tokenLabel: key.label,
        development: key.development,
        certSubject: cert.info.subject,
        hashName: hash,
      });
      this.d.approvals?.record({ ...base, decision, decidedBy: 'signer' });
      if (decision === 'timeout')
        throw new AgentError(ResultCode.APPROVAL_TIMEOUT, 'the signer did not answer in time');
      if (decision !== 'approved') throw new AgentError(ResultCode.DECLINED, 'the signer declined');
      norm.approvedBy = 'signer';
    }

    const reason = `sign for ${origin} with seal ${seal.sealName}`;
    const purpose = { action: 'sign', origin, seal: seal.sealName } as const;
    const keyRef = { certSerial: cert.info.serialNumberHex };
    if (format === 'P1') {
      const r = await this.d.tokens.sign({
        ukeyId: key.ukeyId,
        key: keyRef,
        message: docHash,
        hash,
        reason,
        purpose,
      });
      return r.signature.toString('base64');
    }
    const signer: SignatureProvider = {
      keyAlgorithm: alg === 'sm2' ? 'sm2' : 'rsa',
      spki: cert.info.spki,
      sign: async (message, h) =>
        (
          await this.d.tokens.sign({
            ukeyId: key.ukeyId,
            key: keyRef,
            message,
            hash: h,
            reason,
            purpose,
          })
        ).signature,
    };
    const p7 = await buildDetachedSignedData({
      messageDigest: docHash,
      hash,
      signer,
      signerCertificate: cert.der,
    });
    return p7.toString('base64');
  }

  private async askSigner(
    req: Parameters<ApprovalHost['approve']>[0],
  ): Promise<'approved' | 'declined' | 'timeout'> {
    const ac = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => {
        ac.abort();
        resolve('timeout');
      }, this.timeoutMs);
    });
    try {
      return await Promise.race([
        this.d.host
          .approve({ ...req, expiresAt: this.now() + this.timeoutMs }, ac.signal)
          .catch(() => 'declined' as const),
        timeout,
      ]);
    } finally {
      clearTimeout(timer);
    }
  }
}

function pickHash(alg: string, hashType: 1 | 2 | 3 | 4 | undefined): HashName {
  if (alg === 'sm2') {
    if (hashType !== undefined && hashType !== 4) {
      throw new AgentError(
        ResultCode.UNSUPPORTED_ALG,
        'SM2 keys sign with SM3 only: hashType must be 4 or absent',
      );
    }
    return 'sm3';
  }
  if (alg === 'rsa') {
    if (hashType === 4)
      throw new AgentError(
        ResultCode.UNSUPPORTED_ALG,
        'RSA keys sign with MD5, SHA-1 or SHA-256 (hashType 1, 2 or 3)',
      );
    return HASH_OF[hashType ?? 3];
  }
  throw new AgentError(ResultCode.UNSUPPORTED_ALG, 'this key type cannot sign JSAPI requests');
}

/** The request as received, for the raw audit entry: bounded, and the signature shortened. */
function rawForAudit(body: Body): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body).slice(0, 32)) {
    const key = k.slice(0, 64);
    if (/^(pin|userpin|sopin|password|passwd|pwd)$/i.test(k)) out[key] = '[refused]';
    else if (typeof v === 'string')
      out[key] = v.length > 512 ? `${v.slice(0, 512)}…(${v.length})` : v;
    else if (typeof v === 'number' || typeof v === 'boolean' || v === null) out[key] = v;
    else out[key] = `[${typeof v}]`;
  }
  return out;
}
