// Pairing (docs/JSAPI.md "Pairing", an extension of the contract): a web app the agent does not
// trust yet asks, from the browser, to be trusted for its origin. The agent shows the operator the
// Origin header exactly as the browser sent it, the app id and a fingerprint of the app's
// request-signing key; only the operator's approval adds the app (or the origin to it).
import { createHash, randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { ResultCode } from '../../common/codes';
import { AgentError, badParam, toAgentError } from '../../common/errors';
import type { PairingView } from '../../common/operator-api';
import type { AuditInput } from '../audit/audit-log';
import { checkReplay, strictBase64, verifyRequestSign } from '../platform/canonical';
import type { NonceStore } from '../platform/canonical';
import { appKeyAlgorithm } from '../store/apps';
import type { AppStore, TrustedApp } from '../store/apps';
import { tryNormaliseOrigin } from '../store/origins';
import { checkId } from '../store/validate';

/** At most this many pairings wait at once (one per origin): a page cannot flood the operator. */
const MAX_PENDING = 5;
const FIELDS = new Set(['version', 'appId', 'appName', 'publicKey', 'time', 'nonce', 'sign']);

export interface PairingDeps {
  apps: Pick<AppStore, 'get' | 'add'>;
  /** Replay protection: a pairing request carries time and nonce like any signed request. */
  nonces: NonceStore;
  audit?: { append(r: AuditInput): void };
  /** How long the operator has to answer before the page gets 2004. Default 2 minutes. */
  timeoutMs?: number;
  clock?: () => number;
}

export interface PairingEvents {
  requested: [PairingView];
  resolved: [{ pairingId: string; outcome: 'approved' | 'declined' | 'timeout' }];
}

interface Pending {
  view: PairingView;
  publicKey: Buffer;
  settle(outcome: 'approved' | 'declined' | 'timeout', app?: TrustedApp): void;
}

/** The answer the page gets once the operator approved. */
export interface PairingResult {
  appId: string;
  origin: string;
  paired: true;
}

const fingerprintOf = (spki: Buffer): string =>
  createHash('sha256').update(spki).digest('hex').match(/.{4}/g)!.join(' ');

export class PairingService extends EventEmitter<PairingEvents> {
  private readonly pending = new Map<string, Pending>();
  private readonly timeoutMs: number;
  private readonly now: () => number;

  constructor(private readonly d: PairingDeps) {
    super();
    this.timeoutMs = d.timeoutMs ?? 120_000;
    this.now = d.clock ?? Date.now;
  }

  /** Waiting requests, oldest first. */
  list(): PairingView[] {
    return [...this.pending.values()].map((p) => p.view);
  }

  /**
   * A page's pairing request: checked (origin, fields, proof of the key, replay), then held until
   * the operator decides or the time runs out. Audited with its outcome.
   */
  async request(body: unknown, origin: string | undefined): Promise<PairingResult> {
    const started = this.now();
    let code: string = ResultCode.OK;
    let message = 'ok';
    const b = (body && typeof body === 'object' && !Array.isArray(body) ? body : {}) as Record<
      string,
      unknown
    >;
    try {
      return await this.handle(body, origin);
    } catch (e) {
      const err = toAgentError(e);
      code = err.code;
      message = err.message;
      throw err;
    } finally {
      this.d.audit?.append({
        source: 'jsapi',
        appId: typeof b.appId === 'string' ? b.appId.slice(0, 64) : undefined,
        origin: origin?.slice(0, 256),
        interface: 'pair',
        durationMs: this.now() - started,
        resultCode: code,
        message,
        raw: {
          appId: b.appId,
          appName: b.appName,
          publicKey: typeof b.publicKey === 'string' ? b.publicKey.slice(0, 1024) : undefined,
        },
      });
    }
  }

  /** The operator's answer: approved trusts the app for that origin. */
  decide(pairingId: string, decision: 'approved' | 'declined'): TrustedApp | null {
    const p = this.pending.get(pairingId);
    if (!p) throw badParam('no pairing request with this id is waiting (answered or expired)');
    if (decision === 'declined') {
      p.settle('declined');
      return null;
    }
    const { appId, appName, origin } = p.view;
    const known = this.d.apps.get(appId);
    const app =
      known && !known.revokedAt && known.publicKey.equals(p.publicKey)
        ? this.d.apps.add({
            appId,
            publicKey: p.publicKey,
            origins: [...known.origins, origin],
            name: known.name ?? appName,
            replace: true,
          })
        : this.d.apps.add({
            appId,
            publicKey: p.publicKey,
            origins: [origin],
            name: appName,
            replace: known !== undefined, // a revoked registration is replaced
          });
    p.settle('approved', app);
    return app;
  }

  private async handle(body: unknown, origin: string | undefined): Promise<PairingResult> {
    if (origin === undefined || origin === 'null')
      throw new AgentError(
        ResultCode.APP_NOT_ALLOWED,
        'pairing needs the Origin header a browser sends',
      );
    const normal = tryNormaliseOrigin(origin);
    if (normal === undefined || normal !== origin)
      throw new AgentError(ResultCode.APP_NOT_ALLOWED, 'the Origin header is not a web origin');
    if (!body || typeof body !== 'object' || Array.isArray(body))
      throw badParam('the body must be a JSON object');
    const b = body as Record<string, unknown>;
    for (const k of Object.keys(b))
      if (!FIELDS.has(k)) throw badParam(`${k} is not a pairing field`);
    if (typeof b.version !== 'string' || b.version.length > 16)
      throw badParam('version is required');
    const appId = checkId(b.appId, 'appId');
    let appName: string | undefined;
    if (b.appName !== undefined) {
      if (typeof b.appName !== 'string' || b.appName.length === 0 || b.appName.length > 128)
        throw badParam('appName must be 1 to 128 characters');
      appName = b.appName;
    }
    const spki = typeof b.publicKey === 'string' ? strictBase64(b.publicKey) : undefined;
    if (!spki) throw badParam('publicKey must be the base64 DER SubjectPublicKeyInfo');
    const keyAlgorithm = appKeyAlgorithm(spki);
    if (typeof b.sign !== 'string' || b.sign.length > 2048) throw badParam('sign is required');
    const { sign, ...fields } = b;
    // Possession of the key: the request is signed with it (CONTRACT §1 canonical string).
    if (!verifyRequestSign(fields, sign as string, spki))
      throw new AgentError(ResultCode.BAD_SIGN, 'sign does not verify with publicKey');
    checkReplay({ appId, time: b.time, nonce: b.nonce }, this.d.nonces, this.now());

    const known = this.d.apps.get(appId);
    let effect: PairingView['effect'] = 'new';
    if (known && !known.revokedAt) {
      if (!known.publicKey.equals(spki))
        throw new AgentError(
          ResultCode.APP_NOT_ALLOWED,
          `appId ${appId} is trusted with another key: the operator must change it in the agent`,
        );
      if (known.origins.includes(origin)) return { appId, origin, paired: true };
      effect = 'add-origin';
    }
    for (const p of this.pending.values())
      if (p.view.origin === origin)
        throw new AgentError(
          ResultCode.RATE_LIMITED,
          'a pairing request from this origin is already waiting',
        );
    if (this.pending.size >= MAX_PENDING)
      throw new AgentError(ResultCode.RATE_LIMITED, 'too many pairing requests are waiting');

    const now = this.now();
    const view: PairingView = {
      pairingId: randomBytes(16).toString('hex'),
      origin,
      appId,
      ...(appName !== undefined ? { appName } : {}),
      keyAlgorithm,
      fingerprint: fingerprintOf(spki),
      effect,
      receivedAt: now,
      expiresAt: now + this.timeoutMs,
    };
    return new Promise<PairingResult>((resolve, reject) => {
      const timer = setTimeout(() => settle('timeout'), this.timeoutMs);
      const settle = (outcome: 'approved' | 'declined' | 'timeout'): void => {
        if (!this.pending.delete(view.pairingId)) return;
        clearTimeout(timer);
        this.emit('resolved', { pairingId: view.pairingId, outcome });
        if (outcome === 'approved') resolve({ appId, origin, paired: true });
        else if (outcome === 'declined')
          reject(new AgentError(ResultCode.DECLINED, 'the operator declined the pairing'));
        else
          reject(
            new AgentError(ResultCode.APPROVAL_TIMEOUT, 'the operator did not answer in time'),
          );
      };
      this.pending.set(view.pairingId, { view, publicKey: spki, settle });
      this.emit('requested', view);
    });
  }

  /** Declines every waiting request (the agent is stopping). */
  close(): void {
    for (const p of [...this.pending.values()]) p.settle('declined');
  }
}
