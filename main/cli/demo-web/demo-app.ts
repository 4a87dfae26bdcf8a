// The demo web app's server side: it alone holds the app key. It lists the signer's seals from the
// platform, prepares the contract PDF, signs the JSAPI request the page hands to the agent, embeds
// the P7 the agent returns and has the platform verify the sealed file.
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { badParam } from '../../common/errors';
import { sm2KeyPairFromPrivate } from '../../core/crypto/sm2';
import { digestForSignature, embedSignature, preparePdfForSignature } from '../../core/pdf/prepare';
import type { ByteRange } from '../../core/pdf/prepare';
import type { DocumentVerifyResult } from '../../core/pdf/types';
import { signRequest } from '../../core/platform/canonical';
import { createPlatformClient } from '../../core/platform/platform-client';
import type { PlatformClient } from '../../core/platform/platform-client';
import { sm2RequestSigner } from '../../core/platform/request-signer';
import type { RequestSigner } from '../../core/platform/canonical';
import type { SealInfo } from '../../core/platform/types';
import { trustCa } from '../../../test/platform/trust';
import { DEMO_APP_ID, DEMO_ORG_CODE, demoDir, readDemoFiles } from '../demo-world';
import type { DemoPki } from '../commands/demo-pki';
import { buildContractPdf, SEAL_RECT } from './contract-pdf';

/** A seal as the page shows it (no signId: the server asks for a fresh one per signature). */
export interface DemoSeal {
  UKeyId: string;
  sealCode: string;
  sealName: string;
  sealType: string;
  /** The seal image (moulageData), Base64 PNG. */
  image: string;
}

/** What the page passes to `AgentClient.sign`: a table-19 body signed by this server. */
export type SignedJsapiRequest = Record<string, unknown> & { sign: string };

export interface SigningStarted {
  documentId: string;
  fileName: string;
  /** The digest of the PDF's ByteRange, hex (also in the request as Base64 docHash). */
  digestHex: string;
  request: SignedJsapiRequest;
}

export interface SigningFinished {
  documentId: string;
  fileName: string;
  size: number;
  /** The platform's answer to documents/verify (tables 26–28), as it gave it. */
  verdict: DocumentVerifyResult;
}

interface Doc {
  fileName: string;
  prepared: Buffer;
  byteRange: ByteRange;
  signed?: Buffer;
}

export interface DemoApp {
  listSeals(): Promise<DemoSeal[]>;
  startSigning(UKeyId: string, sealCode: string): Promise<SigningStarted>;
  finishSigning(documentId: string, signatureBase64: string): Promise<SigningFinished>;
  /** The sealed PDF, once finishSigning succeeded. */
  signedPdf(documentId: string): { fileName: string; pdf: Buffer } | undefined;
}

// Enough for a demo session; the oldest documents are forgotten first.
const MAX_DOCS = 32;

/**
 * The demo app over the data dir of a running `serve --demo`. Its files (platform URL, app key) are
 * read per call, so a restarted agent (whose platform gets a new port) needs no restart here.
 */
export function createDemoApp(dataDir: string, clock: () => Date = () => new Date()): DemoApp {
  const docs = new Map<string, Doc>();
  let trustedFor: string | undefined;

  const connect = (): { platform: PlatformClient; signer: RequestSigner } => {
    const files = readDemoFiles(dataDir);
    if (!files.platformUrl || !files.platformCert)
      throw badParam('the demo is not running: start `ukey-agent serve --demo` first');
    const signer = sm2RequestSigner(
      DEMO_APP_ID,
      sm2KeyPairFromPrivate(Buffer.from(files.callerKeyHex, 'hex')),
    );
    if (trustedFor !== files.platformUrl) {
      trustDemoCa(dataDir);
      trustedFor = files.platformUrl;
    }
    const platform = createPlatformClient({
      baseUrl: files.platformUrl,
      signer,
      platformKey: Buffer.from(files.platformCert, 'base64'),
    });
    return { platform, signer };
  };

  /** The demo's UKey seals (each query also mints a fresh single-use signId per seal). */
  const query = async (platform: PlatformClient): Promise<SealInfo[]> => {
    const ukeys = Object.keys(readDemoFiles(dataDir).seals);
    const all = await Promise.all(
      ukeys.map((UKeyId) => platform.querySeals({ orgCode: DEMO_ORG_CODE, sealType: '0', UKeyId })),
    );
    return all.flat().filter((s) => s.UKeyId !== '');
  };

  return {
    async listSeals() {
      const seals = await query(connect().platform);
      return seals.map((s) => ({
        UKeyId: s.UKeyId,
        sealCode: s.sealCode,
        sealName: s.sealName,
        sealType: s.sealType,
        image: s.moulageData,
      }));
    },

    async startSigning(UKeyId, sealCode) {
      const { platform, signer } = connect();
      const seal = (await query(platform)).find(
        (s) => s.sealCode === sealCode && s.UKeyId === UKeyId,
      );
      if (!seal)
        throw badParam(`seal ${sealCode} of UKey ${UKeyId} is not enabled on the platform`);
      const now = clock();
      const number = `DEMO-${now.toISOString().slice(0, 10).replace(/-/g, '')}-${randomUUID().slice(0, 6).toUpperCase()}`;
      const pdf = await buildContractPdf({ number, sealCode, ukeyId: UKeyId, createdAt: now });
      const prepared = await preparePdfForSignature(pdf, {
        sealImagePng: Buffer.from(seal.moulageData, 'base64'),
        rect: SEAL_RECT,
        reason: 'Contract sealing (demo)',
        location: 'ukey-agent demo web app',
        signingTime: now,
      });
      // SM2 seals sign SM3 (hashType 4); the demo's RSA UKey signs SHA-256 (hashType 3).
      const rsa = readDemoPki(dataDir)?.ukeys.find((k) => k.ukeyId === UKeyId)?.algorithm === 'rsa';
      const digest = digestForSignature(prepared.pdf, prepared.byteRange, rsa ? 'sha256' : 'sm3');
      const documentId = randomUUID();
      const fileName = `contract-${number}.pdf`;
      remember(docs, documentId, {
        fileName,
        prepared: prepared.pdf,
        byteRange: prepared.byteRange,
      });
      // Table 19, signed with the app key: the page cannot change a field without breaking `sign`.
      const request = (await signRequest(
        {
          version: '1.0',
          appId: DEMO_APP_ID,
          signId: seal.signId,
          sealCode,
          UKeyId,
          hashType: rsa ? 3 : 4,
          signFormat: 2,
          docHash: digest.toString('base64'),
          time: String(now.getTime()),
          nonce: randomNonce(),
        },
        signer,
      )) as SignedJsapiRequest;
      return { documentId, fileName, digestHex: digest.toString('hex'), request };
    },

    async finishSigning(documentId, signatureBase64) {
      const doc = docs.get(documentId);
      if (!doc) throw badParam('unknown document: prepare it again');
      const cms = Buffer.from(signatureBase64, 'base64');
      if (cms.length === 0 || cms.toString('base64') !== signatureBase64.replace(/\s/g, ''))
        throw badParam('the signature is not Base64');
      const signed = embedSignature(doc.prepared, doc.byteRange, cms);
      const verdict = await connect().platform.verifyDocument(signed, doc.fileName);
      doc.signed = signed;
      return { documentId, fileName: doc.fileName, size: signed.length, verdict };
    },

    signedPdf(documentId) {
      const doc = docs.get(documentId);
      return doc?.signed && { fileName: doc.fileName, pdf: doc.signed };
    },
  };
}

function remember(docs: Map<string, Doc>, id: string, doc: Doc): void {
  docs.set(id, doc);
  for (const key of docs.keys()) {
    if (docs.size <= MAX_DOCS) break;
    docs.delete(key);
  }
}

/** The JSAPI's optional replay guard: an integer in [0, 100000000). */
const randomNonce = (): number => Math.floor(Math.random() * 100_000_000);

/** The demo PKI's summary (`provisionDemoPki`): key algorithms and CA files. */
function readDemoPki(dataDir: string): DemoPki | undefined {
  const f = join(process.env.SOFTUKEY_DIR ?? join(dataDir, 'dev-tokens'), 'demo-pki.json');
  return existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as DemoPki) : undefined;
}

/**
 * The demo's reference platform checks certificate chains against the CAs it trusts; the demo
 * PKI's CAs are ones an operator would add with `platform ca add`. Idempotent.
 */
function trustDemoCa(dataDir: string): void {
  const pki = readDemoPki(dataDir);
  for (const ca of [pki?.sm2CaCert, pki?.rsaCaCert]) {
    if (ca && existsSync(ca)) trustCa(join(demoDir(dataDir), 'platform'), readFileSync(ca, 'utf8'));
  }
}
