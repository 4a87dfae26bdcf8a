import { request } from 'node:http';
import { join } from 'node:path';
import WebSocket from 'ws';
import { generateSm2KeyPair } from '../../main/core/crypto/sm2';
import type { Sm2KeyPair } from '../../main/core/crypto/sm2';
import { sm2Spki } from '../../main/core/pki/keys';
import { signRequest } from '../../main/core/platform/canonical';
import type { RequestSigner } from '../../main/core/platform/canonical';
import { createPlatformClient } from '../../main/core/platform/platform-client';
import type { PlatformClient } from '../../main/core/platform/platform-client';
import { sm2RequestSigner } from '../../main/core/platform/request-signer';
import { TokenService } from '../../main/core/token/token-service';
import { softukeyLibrary } from '../../main/cli/commands/softukey';
import { provisionDemoPki } from '../../main/cli/commands/demo-pki';
import type { DemoPki } from '../../main/cli/commands/demo-pki';
import { builtinProfiles, resolveLibraryPath } from '../../main/core/token/vendor-profile';
import type { ApprovalDecision, ApprovalHost, ApprovalRequest } from '../../main/core/host';
import { createReferencePlatform } from '../platform/reference-platform';
import type { ReferencePlatform } from '../platform/reference-platform';
import { ukeySealFiling } from '../platform/fixture';
import { ScriptedHost } from './scripted-host';
import { tempDir } from './dev-tokens';

/** The tests' approval host: decisions from a script; 'hang' never answers (for the timeout). */
export class ScriptedApprovals implements ApprovalHost {
  readonly seen: ApprovalRequest[] = [];
  next: (ApprovalDecision | 'hang')[] = [];
  fallback: ApprovalDecision | 'hang' = 'approved';

  approve(req: ApprovalRequest, signal: AbortSignal): Promise<ApprovalDecision> {
    this.seen.push(req);
    const d = this.next.shift() ?? this.fallback;
    if (d !== 'hang') return Promise.resolve(d);
    return new Promise((_, reject) =>
      signal.addEventListener('abort', () => reject(new Error('aborted'))),
    );
  }
}

export interface World {
  pki: DemoPki;
  platform: ReferencePlatform;
  /** The web application's platform identity (files and queries seals, gets signIds). */
  webapp: { appId: string; key: Sm2KeyPair; signer: RequestSigner; client: PlatformClient };
  /** The agent's platform identity (verifies signIds). */
  agentPlatform: PlatformClient;
  tokens: TokenService;
  pins: ScriptedHost;
  /** sealCode per UKeyId. */
  seals: Record<string, string>;
  close(): Promise<void>;
}

/**
 * A whole world for bridge tests: demo UKeys (SM2 software UKeys + SoftHSM RSA), the reference
 * platform with the web app's seals filed for them, and the agent's token service and client.
 */
export async function startWorld(opts: { pollIntervalMs?: number } = {}): Promise<World> {
  const root = tempDir('world');
  const pki = await provisionDemoPki(join(root, 'dev-tokens'));
  process.env.SOFTUKEY_DIR = pki.dir;
  const platform = await createReferencePlatform({ dataDir: join(root, 'platform') });
  const webKey = generateSm2KeyPair();
  platform.registerApp({
    appId: 'webapp',
    publicKey: sm2Spki(webKey.publicKey),
    orgCode: '91110000MA00000001',
  });
  const agentKey = generateSm2KeyPair();
  platform.registerApp({
    appId: 'ukey-agent',
    publicKey: sm2Spki(agentKey.publicKey),
    orgCode: '91110000MA00000001',
  });
  const webSigner = sm2RequestSigner('webapp', webKey);
  const webClient = createPlatformClient({
    baseUrl: platform.url,
    signer: webSigner,
    platformKey: platform.platformCertificate,
  });
  const agentPlatform = createPlatformClient({
    baseUrl: platform.url,
    signer: sm2RequestSigner('ukey-agent', agentKey),
    platformKey: platform.platformCertificate,
  });
  const seals: Record<string, string> = {};
  for (const k of pki.ukeys) {
    seals[k.ukeyId] = await webClient.fileSeal(
      ukeySealFiling({
        UKeyId: k.ukeyId,
        certNumber: k.signCertSerial,
        name: `${k.label} 合同专用章`,
      }),
    );
  }
  const pins = new ScriptedHost({ user: pki.pin });
  const modules = [
    softukeyLibrary(),
    resolveLibraryPath(builtinProfiles.find((p) => p.id === 'softhsm2')!)!,
  ];
  const tokens = new TokenService({
    modules,
    host: pins,
    pollIntervalMs: opts.pollIntervalMs ?? 100,
    loginIdleMs: 60_000,
  });
  return {
    pki,
    platform,
    webapp: { appId: 'webapp', key: webKey, signer: webSigner, client: webClient },
    agentPlatform,
    tokens,
    pins,
    seals,
    close: async () => {
      tokens.close();
      await platform.close();
    },
  };
}

/** A fresh single-use signId for a key's seal, as the web app gets it from the platform. */
export async function freshSignId(
  w: World,
  ukeyId: string,
): Promise<{ signId: string; sealCode: string }> {
  const seals = await w.webapp.client.querySeals({
    orgCode: '91110000MA00000001',
    sealType: '0',
    UKeyId: ukeyId,
  } as never);
  const s = seals.find((x) => x.sealCode === w.seals[ukeyId]);
  if (!s) throw new Error(`no seal for ${ukeyId}`);
  return { signId: (s as unknown as { signId: string }).signId, sealCode: s.sealCode };
}

export interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: { code: string; message: string; data: unknown };
}

/** A raw HTTP call with full control of Host, Origin and Content-Type (fetch forbids setting them). */
export function http(
  port: number,
  method: string,
  path: string,
  opts: { body?: string | Buffer; headers?: Record<string, string> } = {},
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const body = opts.body === undefined ? undefined : Buffer.from(opts.body);
    const headers: Record<string, string | number> = { host: `127.0.0.1:${port}`, ...opts.headers };
    if (body) headers['content-length'] = body.length;
    const req = request({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json = { code: '', message: '', data: null as unknown };
        try {
          json = JSON.parse(text);
        } catch {
          /* not JSON */
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Signs a JSAPI body with the caller app's key, as the web app's server would. */
export async function signed(
  signer: RequestSigner,
  fields: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  return signRequest({ version: '1.0', appId: signer.appId, ...fields }, signer);
}

export function postJson(
  port: number,
  path: string,
  body: unknown,
  origin: string | null,
  extra: Record<string, string> = {},
): Promise<HttpAnswer> {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...extra };
  if (origin !== null) headers.origin = origin;
  return http(port, 'POST', path, { body: JSON.stringify(body), headers });
}

/** A WebSocket client with a queue of received frames. */
export async function wsConnect(
  port: number,
  origin: string,
): Promise<{
  ws: WebSocket;
  frames: unknown[];
  next(
    pred?: (f: Record<string, unknown>) => boolean,
    ms?: number,
  ): Promise<Record<string, unknown>>;
}> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/api/v1/ws`, { headers: { origin } });
  const frames: Record<string, unknown>[] = [];
  const waiters: {
    pred: (f: Record<string, unknown>) => boolean;
    resolve: (f: Record<string, unknown>) => void;
  }[] = [];
  ws.on('message', (d) => {
    const f = JSON.parse(d.toString()) as Record<string, unknown>;
    const i = waiters.findIndex((w) => w.pred(f));
    if (i >= 0) waiters.splice(i, 1)[0]!.resolve(f);
    else frames.push(f);
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) =>
      reject(new Error(`upgrade refused: ${res.statusCode}`)),
    );
  });
  return {
    ws,
    frames,
    next: (pred = () => true, ms = 5000) => {
      const i = frames.findIndex(pred);
      if (i >= 0) return Promise.resolve(frames.splice(i, 1)[0]!);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('no matching frame in time')), ms);
        waiters.push({ pred, resolve: (f) => (clearTimeout(t), resolve(f)) });
      });
    },
  };
}
