// Test fixture: a reference platform in a temp dir with a movable clock, an SM2 app and an RSA app,
// clients for both, a demo SM2 certificate for UKey seals, and a raw signed-POST helper.
import { generateKeyPairSync } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSm2KeyPair } from '../../main/core/crypto/sm2';
import type { Sm2KeyPair } from '../../main/core/crypto/sm2';
import { issueCertificate, selfSignedCa, issuerFromCertificate } from '../../main/core/pki/issue';
import { sm2Spki } from '../../main/core/pki/keys';
import { softwareSm2Provider } from '../../main/core/pki/signer';
import { signRequest } from '../../main/core/platform/canonical';
import type { RequestSigner } from '../../main/core/platform/canonical';
import { createPlatformClient } from '../../main/core/platform/platform-client';
import type {
  PlatformClient,
  PlatformClientConfig,
} from '../../main/core/platform/platform-client';
import { rsaRequestSigner, sm2RequestSigner } from '../../main/core/platform/request-signer';
import type { SealFilingParams } from '../../main/core/platform/types';
import { createReferencePlatform } from './reference-platform';
import type { ReferencePlatform, ReferencePlatformOptions } from './reference-platform';

export interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  json: { code: string; message: string; data: unknown };
}

export interface Fixture {
  dir: string;
  platform: ReferencePlatform;
  /** Added to the platform's clock (ms). */
  skew: { ms: number };
  /** Faults the platform reported as 5000; a test run should end with none. */
  internalErrors: unknown[];
  sm2: { appId: string; key: Sm2KeyPair; signer: RequestSigner; client: PlatformClient };
  rsa: { appId: string; key: KeyObject; signer: RequestSigner; client: PlatformClient };
  clientFor(signer: RequestSigner, overrides?: Partial<PlatformClientConfig>): PlatformClient;
  /** POSTs raw bytes (default content type JSON). */
  post(path: string, body: Buffer | string, contentType?: string | null): Promise<RawAnswer>;
  /** Signs `fields` (adding version, appId, time, nonce unless given) and POSTs them. */
  signedPost(
    path: string,
    fields: Record<string, unknown>,
    signer?: RequestSigner,
  ): Promise<RawAnswer>;
  close(): Promise<void>;
}

let nonceCounter = Math.floor(Math.random() * 1_000_000);

export async function startFixture(
  options: Partial<ReferencePlatformOptions> = {},
): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), 'ukey-platform-'));
  const skew = { ms: 0 };
  const internalErrors: unknown[] = [];
  const platform = await createReferencePlatform({
    dataDir: join(dir, 'platform'),
    clock: () => Date.now() + skew.ms,
    onError: (e) => internalErrors.push(e),
    ...options,
  });
  const clientFor = (
    signer: RequestSigner,
    overrides: Partial<PlatformClientConfig> = {},
  ): PlatformClient =>
    createPlatformClient({
      baseUrl: platform.url,
      signer,
      platformKey: platform.platformCertificate,
      retry: { attempts: 3, baseDelayMs: 5, maxDelayMs: 20 },
      ...overrides,
    });

  const sm2Key = generateSm2KeyPair();
  platform.registerApp({
    appId: 'sm2-app',
    publicKey: sm2Spki(sm2Key.publicKey),
    orgCode: '91110000MA00000001',
    platName: '甲印章系统',
    destHost: 'http://127.0.0.1:18788',
  });
  const sm2Signer = sm2RequestSigner('sm2-app', sm2Key);
  const rsaPair = generateKeyPairSync('rsa', { modulusLength: 2048 });
  platform.registerApp({
    appId: 'rsa-app',
    publicKey: rsaPair.publicKey.export({ type: 'spki', format: 'pem' }) as string,
    orgCode: '91310000MA00000002',
  });
  const rsaSigner = rsaRequestSigner('rsa-app', rsaPair.privateKey);

  const post = (
    path: string,
    body: Buffer | string,
    contentType: string | null = 'application/json',
  ) =>
    new Promise<RawAnswer>((resolve, reject) => {
      const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
      const headers: Record<string, string | number> = { 'content-length': bytes.length };
      if (contentType !== null) headers['content-type'] = contentType;
      const req = request(`${platform.url}${path}`, { method: 'POST', headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const b = Buffer.concat(chunks);
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: b,
            json: JSON.parse(b.toString('utf8')) as RawAnswer['json'],
          });
        });
      });
      req.on('error', reject);
      req.end(bytes);
    });

  const signedPost = async (
    path: string,
    fields: Record<string, unknown>,
    signer: RequestSigner = sm2Signer,
  ): Promise<RawAnswer> => {
    const full = {
      version: '1.0',
      appId: signer.appId,
      time: String(Date.now()),
      nonce: nonceCounter++ % 100_000_000,
      ...fields,
    };
    return post(path, JSON.stringify(await signRequest(full, signer)));
  };

  return {
    dir,
    platform,
    skew,
    internalErrors,
    sm2: { appId: 'sm2-app', key: sm2Key, signer: sm2Signer, client: clientFor(sm2Signer) },
    rsa: {
      appId: 'rsa-app',
      key: rsaPair.privateKey,
      signer: rsaSigner,
      client: clientFor(rsaSigner),
    },
    clientFor,
    post,
    signedPost,
    close: async () => {
      await platform.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A signing certificate from a throw-away SM2 demo CA, as a UKey would hold. */
export async function demoSigningCertificate(
  subject = 'CN=张三,O=北京某某科技有限公司,C=CN',
): Promise<{ der: Buffer; serialHex: string; key: Sm2KeyPair }> {
  const caKey = generateSm2KeyPair();
  const caSigner = softwareSm2Provider(caKey);
  const ca = await selfSignedCa({ subject: 'CN=Demo SM2 CA,C=CN', signer: caSigner });
  const key = generateSm2KeyPair();
  const serial = Buffer.from('0a1b2c3d4e5f60718293', 'hex');
  const der = await issueCertificate({
    issuer: issuerFromCertificate(ca, caSigner),
    subject,
    subjectSpki: sm2Spki(key.publicKey),
    serial,
    keyUsage: ['digitalSignature', 'nonRepudiation'],
  });
  return { der, serialHex: serial.toString('hex'), key };
}

/** A complete, valid UKey seal filing (table 1). */
export function ukeySealFiling(over: Partial<SealFilingParams> = {}): SealFilingParams {
  return {
    code: `biz-${Math.random().toString(36).slice(2, 10)}`,
    name: '北京某某科技有限公司合同专用章',
    sealType: '04',
    UKeyId: 'UK-0001',
    certNumber: '0a1b2c3d4e5f60718293',
    possessor: '北京某某科技有限公司',
    possessorCertNo: '91110000MA00000001',
    possessorType: 1,
    bizType: 1,
    certType: 1,
    moulageData: Buffer.from('\x89PNG fake seal image').toString('base64'),
    width: 42,
    height: 42,
    dpiX: 496,
    dpiY: 496,
    sealInvalidTime: '2099-12-31 23:59:59',
    userName: '李四',
    mobilePhone: '13800000000',
    ...over,
  };
}
