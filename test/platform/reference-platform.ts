// The reference central platform (CONTRACT §4, seed 004 §6.1): a real HTTP server on loopback with
// its own SQLite database and SM2 key, for the tests and the product's demo. Every answer is the
// contract's envelope, signed in X-Platform-Sign; no answer ever carries a stack trace or a path.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { ResultCode } from '../../main/common/codes';
import { AgentError, toAgentError } from '../../main/common/errors';
import {
  REPLAY_WINDOW_MS,
  canonicalString,
  checkReplay,
  verifyRequestSign,
} from '../../main/core/platform/canonical';
import { SqliteNonceStore } from '../../main/core/platform/nonce-store';
import { PLATFORM_PATHS } from '../../main/core/platform/types';
import { findApp, registerAppIn } from './apps';
import type { AppRecord, AppRegistration } from './apps';
import { H5_PREFIX, cloudAuthApplyEndpoint, cloudAuthResultEndpoint } from './cloud-auth';
import { cloudSignEndpoint } from './cloud-sign';
import type { AuthCodeDelivery, Endpoint, PlatformSettings } from './context';
import { documentsVerifyEndpoint, parseMultipart } from './documents-verify';
import type { UploadedFile } from './documents-verify';
import { handleAuthPage } from './h5-page';
import { maskMobile } from './mask';
import { loadOrCreateCloudCa, trustCaIn } from './trust';
import { openPlatformDatabase } from './database';
import { ENVELOPE_FIELDS, checkFields } from './fields';
import {
  checkContentType,
  envelopeBytes,
  parseJsonObject,
  readBody,
  sendEnvelope,
  statusOf,
  withStatus,
} from './http-io';
import { idempotent } from './idempotency';
import { loadOrCreatePlatformIdentity } from './platform-key';
import { filingEndpoint } from './seal-filing';
import { queryEndpoint } from './seal-query';
import { stateEndpoint } from './seal-state';
import { signIdVerifyEndpoint } from './sign-ids';
import { createRelayHandler, isRelayPath } from './relay-server';
import type { RelayHandler, RelayOptions } from './relay-server';

export interface ReferencePlatformOptions {
  /** Holds platform.db and the platform's key and certificate; created (mode 0700) if absent. */
  dataDir: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1: the reference platform is not meant to face a network. */
  host?: string;
  /** Milliseconds since the epoch; tests move it to expire signIds or age requests. */
  clock?: () => number;
  /** Default 5 minutes. */
  signIdTtlMs?: number;
  /** Default 300 s (CONTRACT §1). */
  replayWindowMs?: number;
  /** Default 1 MiB. */
  maxBodyBytes?: number;
  /** Default platName of seals whose app registered none. */
  platName?: string;
  /** Where internal faults are reported (they reach callers only as 5000 'internal error'). */
  onError?: (error: unknown) => void;
  /** Default 5 minutes: an authId's time to be confirmed, and its authCode's to be used. */
  cloudAuthTtlMs?: number;
  /** Default 20 MiB: the largest document verification upload. */
  maxUploadBytes?: number;
  /**
   * Stands in for the SMS that carries a cloud authorisation's one-time code to the holder.
   * Default: a line on stderr (`reference platform: auth code <code> for authId <id> ...`).
   */
  onAuthCode?: (delivery: AuthCodeDelivery) => void;
  /** The file relay under /api/v1/files/ (files in <dataDir>/files/<appId>/). */
  relay?: RelayOptions;
}

export interface ReferencePlatform {
  url: string;
  port: number;
  /** The platform's SM2 public key, 04‖x‖y (65 bytes). */
  platformPublicKey: Buffer;
  /** Self-signed certificate of that key (DER). */
  platformCertificate: Buffer;
  /** Registers (or re-keys) an app; persisted. */
  registerApp(app: AppRegistration): AppRecord;
  /** Trusts a CA for document verification (PEM or DER); persisted. Answers its SM3 fingerprint. */
  trustCa(certificate: Uint8Array | string): string;
  /** The CA of the platform's cloud keys (DER): trusted for document verification. */
  cloudCaCertificate: Buffer;
  /** Test hook: the one-time code last sent for `authId` (also given to `onAuthCode`). */
  authCodeOf(authId: string): string | undefined;
  /** The file relay's byte counters (tests). */
  relay: RelayHandler;
  close(): Promise<void>;
}

const ROUTES: ReadonlyMap<string, Endpoint> = new Map([
  [PLATFORM_PATHS.filing, idempotent(PLATFORM_PATHS.filing, filingEndpoint)],
  [PLATFORM_PATHS.state, idempotent(PLATFORM_PATHS.state, stateEndpoint)],
  [PLATFORM_PATHS.query, queryEndpoint],
  [PLATFORM_PATHS.signIdVerify, signIdVerifyEndpoint],
  [PLATFORM_PATHS.cloudAuthApply, cloudAuthApplyEndpoint],
  [PLATFORM_PATHS.cloudAuthResult, cloudAuthResultEndpoint],
  [PLATFORM_PATHS.cloudSign, cloudSignEndpoint],
]);

/** Endpoints that take multipart/form-data (one uploaded file) instead of JSON. */
const UPLOAD_ROUTES: ReadonlyMap<string, (file: UploadedFile) => Endpoint> = new Map([
  [PLATFORM_PATHS.documentsVerify, documentsVerifyEndpoint],
]);

const MIB = 1024 * 1024;

const defaultOnError = (error: unknown): void => {
  process.stderr.write(
    `reference platform: internal error: ${error instanceof Error ? error.message : String(error)}\n`,
  );
};

/** Discards a body we will not read, so the client gets our answer rather than a reset. */
async function drain(req: IncomingMessage, limit: number): Promise<void> {
  try {
    await readBody(req, 0, limit);
  } catch {
    // Too large or aborted: the answer goes out regardless.
  }
}

export async function createReferencePlatform(
  options: ReferencePlatformOptions,
): Promise<ReferencePlatform> {
  const clock = options.clock ?? Date.now;
  const host = options.host ?? '127.0.0.1';
  const maxBody = options.maxBodyBytes ?? MIB;
  const windowMs = options.replayWindowMs ?? REPLAY_WINDOW_MS;
  const onError = options.onError ?? defaultOnError;
  const maxUpload = options.maxUploadBytes ?? 20 * MIB;
  const sentCodes = new Map<string, string>();
  const onAuthCode =
    options.onAuthCode ??
    ((d: AuthCodeDelivery): void => {
      process.stderr.write(
        `reference platform: auth code ${d.code} for authId ${d.authId} (seal ${d.sealCode}, sent to ${maskMobile(d.mobile)})\n`,
      );
    });
  const settings: PlatformSettings = {
    signIdTtlMs: options.signIdTtlMs ?? 5 * 60_000,
    platName: options.platName ?? '电子印章互通互认服务平台(参考实现)',
    cloudAuthTtlMs: options.cloudAuthTtlMs ?? 5 * 60_000,
    baseUrl: '',
    deliverAuthCode: (d) => {
      if (sentCodes.size >= 1000) sentCodes.delete(sentCodes.keys().next().value!);
      sentCodes.set(d.authId, d.code);
      onAuthCode(d);
    },
  };

  if (!existsSync(options.dataDir)) mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  const identity = await loadOrCreatePlatformIdentity(options.dataDir, clock());
  const db = openPlatformDatabase(options.dataDir);
  const nonces = new SqliteNonceStore(db);
  let cloudCa;
  try {
    cloudCa = await loadOrCreateCloudCa(db, clock());
  } catch (e) {
    db.close();
    throw e;
  }

  /** The checks every request passes (CONTRACT §1) and the endpoint's own work. */
  async function answer(req: IncomingMessage, res: ServerResponse): Promise<unknown> {
    const path = (req.url ?? '/').split('?')[0]!;
    const upload = UPLOAD_ROUTES.get(path);
    const endpoint = ROUTES.get(path);
    if (!endpoint && !upload) {
      await drain(req, maxBody * 8);
      throw withStatus(404, 'no such endpoint');
    }
    if (req.method !== 'POST') {
      await drain(req, maxBody * 8);
      res.setHeader('Allow', 'POST');
      throw withStatus(405, 'only POST is allowed here');
    }
    let body: Record<string, unknown>;
    let file: UploadedFile | undefined;
    if (upload) {
      const form = await parseMultipart(
        await readBody(req, maxUpload, maxUpload + MIB),
        req.headers['content-type'] ?? '',
      );
      body = form.fields;
      file = form.file;
    } else {
      try {
        checkContentType(req.headers['content-type']);
      } catch (e) {
        await drain(req, maxBody * 8);
        throw e;
      }
      body = parseJsonObject(await readBody(req, maxBody));
    }
    const common = checkFields(body, ENVELOPE_FIELDS);
    const run = upload ? upload(file!)(body) : endpoint!(body);
    canonicalString(body); // 1001 for a nested value in a field the endpoint does not know

    const app = findApp(db, common.appId);
    if (!app) throw new AgentError(ResultCode.APP_NOT_ALLOWED, 'appId is not registered');
    if (!verifyRequestSign(body, common.sign, app.spki))
      throw new AgentError(ResultCode.BAD_SIGN, 'sign does not verify with the app key');
    const now = clock();
    checkReplay(
      { appId: app.appId, time: common.time, nonce: common.nonce },
      nonces,
      now,
      windowMs,
    );
    return run({ db, app, now, settings });
  }

  const relay = await createRelayHandler(
    { root: join(options.dataDir, 'files'), db, nonces, clock, windowMs, onError },
    options.relay,
  ).catch((e: unknown) => {
    db.close();
    throw e;
  });
  const server = createServer((req, res) => {
    if (isRelayPath(req.url ?? '')) return relay.handle(req, res);
    if ((req.url ?? '').startsWith(H5_PREFIX)) {
      handleAuthPage(req, res, db, clock(), settings.cloudAuthTtlMs).catch((e: unknown) => {
        onError(e);
        if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' });
        res.end('internal error');
      });
      return;
    }
    answer(req, res).then(
      (data) =>
        sendEnvelope(res, 200, { code: ResultCode.OK, message: 'success', data }, identity.key),
      (e: unknown) => {
        if (req.destroyed && !req.complete && !(e instanceof AgentError)) return; // client went away
        const err = toAgentError(e);
        if (err.code === ResultCode.INTERNAL) onError(e);
        sendEnvelope(res, statusOf(err), err.toEnvelope(), identity.key);
      },
    );
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.keepAliveTimeout = 5_000;
  server.on('clientError', (_err: Error, socket: Socket) => {
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    const { body, headers } = envelopeBytes(
      { code: ResultCode.BAD_PARAM, message: 'malformed HTTP request', data: null },
      identity.key,
    );
    const head = Object.entries({ ...headers, Connection: 'close' })
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('');
    socket.end(Buffer.concat([Buffer.from(`HTTP/1.1 400 Bad Request\r\n${head}\r\n`), body]));
  });

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (e) {
    db.close();
    throw e;
  }
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  settings.baseUrl = url;

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    platformPublicKey: Buffer.from(identity.key.publicKey),
    platformCertificate: identity.certificate,
    registerApp: (app) => registerAppIn(db, app, clock()),
    trustCa: (certificate) => trustCaIn(db, certificate, clock()),
    cloudCaCertificate: cloudCa.certificate,
    authCodeOf: (authId) => sentCodes.get(authId),
    relay,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        server.close(() => {
          db.close();
          resolve();
        });
        server.closeAllConnections();
      })),
  };
}
