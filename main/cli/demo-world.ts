import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateSm2KeyPair, sm2KeyPairFromPrivate } from '../core/crypto/sm2';
import type { Sm2KeyPair } from '../core/crypto/sm2';
import { sm2Spki } from '../core/pki/keys';
import { AGENT_KEY_SECRET, importAgentIdentity } from '../core/platform/agent-identity';
import { passphraseProtector } from '../core/store/passphrase-protector';
import { demoSealPng } from '../core/demo/seal-image';
import { createPlatformClient } from '../core/platform/platform-client';
import { sm2RequestSigner } from '../core/platform/request-signer';
import { openAgentStore } from '../core/store/agent-store';
import { createReferencePlatform } from '../../test/platform/reference-platform';
import type { ReferencePlatform } from '../../test/platform/reference-platform';
import { provisionDemoPki } from './commands/demo-pki';
import type { DemoPki } from './commands/demo-pki';
import { devTokenDir } from './token-context';
import type { TokenCliOptions } from './token-context';

/** The demo's key store passphrase: a development convenience, printed and documented as such. */
export const DEMO_PASSPHRASE = 'ukey-agent-demo';
export const DEMO_APP_ID = 'demo-web';
export const DEMO_ORG_CODE = '91110000DEMO00001X';
export const DEMO_ORIGINS = ['http://127.0.0.1:18790', 'http://localhost:18790'];

export interface DemoFiles {
  /** The demo caller's server-side key (a web application's key, not the agent's). */
  callerKeyHex: string;
  /** Where the running demo's reference platform listens, and its certificate (Base64 DER). */
  platformUrl?: string;
  platformCert?: string;
  /** sealCode per UKeyId. */
  seals: Record<string, string>;
}

export interface DemoWorld {
  passphrase: string;
  platform: ReferencePlatform;
  pki: DemoPki;
  files: DemoFiles;
  summary: {
    platform: string;
    appId: string;
    origins: string[];
    seals: Record<string, string>;
    pin: string;
  };
  instructions(port: number): string;
  close(): Promise<void>;
}

export const demoDir = (dataDir: string): string => join(dataDir, 'demo');

/** The demo caller's files (read by `demo-call`). */
export function readDemoFiles(dataDir: string): DemoFiles {
  const f = join(demoDir(dataDir), 'demo.json');
  if (!existsSync(f)) throw new Error('no demo here: run `ukey-agent serve --demo` first');
  return JSON.parse(readFileSync(f, 'utf8')) as DemoFiles;
}

/**
 * Everything a user needs to try the agent on one machine: development UKeys with a demo PKI, the
 * reference platform (in this process, on a free port), the agent's platform identity, a demo
 * caller registered with the agent and the platform, and a seal filed for each demo UKey.
 * Idempotent: a second start reuses what the first made.
 */
export async function startDemo(
  dataDir: string,
  o: TokenCliOptions & { platform?: string },
): Promise<DemoWorld> {
  const pki = await provisionDemoPki(devTokenDir(o));
  const dir = demoDir(dataDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const platform = await createReferencePlatform({ dataDir: join(dir, 'platform') });
  try {
    const passphrase = process.env.UKEY_AGENT_PASSPHRASE ?? DEMO_PASSPHRASE;
    // Reuse the stored identity key when there is one: the platform keeps trusting it.
    const agentKey = (await storedAgentKey(dataDir, passphrase)) ?? generateSm2KeyPair();
    await importAgentIdentity(dataDir, passphrase, {
      appId: 'ukey-agent-demo',
      key: agentKey,
      platformUrl: platform.url,
      platformCert: platform.platformCertificate,
    });
    platform.registerApp({
      appId: 'ukey-agent-demo',
      publicKey: sm2Spki(agentKey.publicKey),
      orgCode: DEMO_ORG_CODE,
    });
    // The platform trusts the demo CAs, so documents sealed with the demo UKeys verify.
    for (const ca of [pki.sm2CaCert, pki.rsaCaCert])
      if (ca) platform.trustCa(readFileSync(ca, 'utf8'));
    o.platform = platform.url;

    const filesPath = join(dir, 'demo.json');
    let files: DemoFiles = existsSync(filesPath)
      ? (JSON.parse(readFileSync(filesPath, 'utf8')) as DemoFiles)
      : { callerKeyHex: generateSm2KeyPair().privateKey.toString('hex'), seals: {} };
    const caller = sm2KeyPairFromPrivate(Buffer.from(files.callerKeyHex, 'hex'));
    platform.registerApp({
      appId: DEMO_APP_ID,
      publicKey: sm2Spki(caller.publicKey),
      orgCode: DEMO_ORG_CODE,
    });
    const store = openAgentStore(dataDir);
    try {
      store.apps.add({
        appId: DEMO_APP_ID,
        name: '演示业务系统 Demo web app',
        publicKey: sm2Spki(caller.publicKey),
        origins: DEMO_ORIGINS,
        replace: true,
      });
    } finally {
      store.close();
    }
    const web = createPlatformClient({
      baseUrl: platform.url,
      signer: sm2RequestSigner(DEMO_APP_ID, caller),
      platformKey: platform.platformCertificate,
    });
    const seals: Record<string, string> = {};
    for (const k of pki.ukeys) {
      const known = files.seals[k.ukeyId];
      const live = known
        ? await web.querySeals({ orgCode: DEMO_ORG_CODE, sealType: '0', UKeyId: k.ukeyId })
        : [];
      seals[k.ukeyId] = live.some((s) => s.sealCode === known)
        ? known!
        : await web.fileSeal({
            code: `demo-${k.ukeyId}`,
            name: `${k.signSubject.replace(/^CN=([^,]+).*/, '$1')} 演示合同专用章`,
            sealType: '04',
            UKeyId: k.ukeyId,
            certNumber: k.signCertSerial,
            possessor: '示例单位',
            possessorCertNo: DEMO_ORG_CODE,
            possessorType: 1,
            bizType: 1,
            certType: 1,
            moulageData: demoSealPng().toString('base64'),
            width: 42,
            height: 42,
            sealInvalidTime: '2099-12-31 23:59:59',
            userName: k.signSubject.replace(/^CN=([^,]+).*/, '$1'),
            mobilePhone: '13800000000',
          } as never);
    }
    files = {
      ...files,
      seals,
      platformUrl: platform.url,
      platformCert: platform.platformCertificate.toString('base64'),
    };
    writeFileSync(filesPath, JSON.stringify(files, null, 2), { mode: 0o600 });

    return {
      passphrase,
      platform,
      pki,
      files,
      summary: {
        platform: platform.url,
        appId: DEMO_APP_ID,
        origins: DEMO_ORIGINS,
        seals,
        pin: pki.pin,
      },
      instructions: (port) =>
        [
          '',
          'Demo ready (development tokens and a reference platform — not for production):',
          `  reference platform   ${platform.url}`,
          `  demo caller          appId ${DEMO_APP_ID}, origins ${DEMO_ORIGINS.join(' ')}`,
          `  UKey PIN             ${pki.pin}`,
          ...Object.entries(seals).map(([u, s]) => `  seal for ${u.padEnd(16)} ${s}`),
          '',
          'Try it from another terminal (acts as the demo web app: gets a signId, signs the JSAPI request):',
          `  ./bin/ukey-agent.js demo-call info --ukey-id ${pki.ukeys[0]?.ukeyId} --port ${port}`,
          `  ./bin/ukey-agent.js demo-call sign --ukey-id ${pki.ukeys[0]?.ukeyId} --text "合同内容" --port ${port}`,
          'then approve here (y) and type the PIN.',
          '',
        ].join('\n'),
      close: () => platform.close(),
    };
  } catch (e) {
    await platform.close();
    throw e;
  }
}

/** The agent's stored platform key, or undefined when there is none (or another passphrase). */
async function storedAgentKey(
  dataDir: string,
  passphrase: string,
): Promise<Sm2KeyPair | undefined> {
  const store = openAgentStore(dataDir);
  try {
    const secrets = await store.openSecrets(passphraseProtector(passphrase));
    try {
      const d = secrets.get(AGENT_KEY_SECRET);
      return d ? sm2KeyPairFromPrivate(d) : undefined;
    } finally {
      secrets.close();
    }
  } catch {
    return undefined;
  } finally {
    store.close();
  }
}
