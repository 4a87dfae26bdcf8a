import { demoSealPng } from '../../main/core/demo/seal-image';
// Test material for the PDF signing tests: a small PDF, a seal image, a test PKI (SM2 or RSA), and
// the whole sign flow (prepare → digest → P7 → embed) as the agent runs it.
import { generateKeyPairSync } from 'node:crypto';
import { PDFDocument, StandardFonts } from '@cantoo/pdf-lib';
import { generateSm2KeyPair } from '../../main/core/crypto/sm2';
import {
  digestForSignature,
  embedSignature,
  preparePdfForSignature,
} from '../../main/core/pdf/prepare';
import type { PrepareOptions, PreparedPdf } from '../../main/core/pdf/prepare';
import { buildDetachedSignedData } from '../../main/core/pki/cms';
import { issueCertificate, issuerFromCertificate, selfSignedCa } from '../../main/core/pki/issue';
import type { KeyUsageName } from '../../main/core/pki/issue';
import { softwareRsaProvider, softwareSm2Provider } from '../../main/core/pki/signer';
import type { HashName, SignatureProvider } from '../../main/core/pki/signer';

/** A PDF saved by pdf-lib with its defaults (object streams), `pages` pages of text. */
export async function samplePdf(pages = 1): Promise<Buffer> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  for (let i = 1; i <= pages; i++) {
    const page = doc.addPage([595, 842]);
    page.drawText(`Contract page ${i}: the parties agree to the terms below.`, {
      x: 50,
      y: 780,
      size: 12,
      font,
    });
  }
  return Buffer.from(await doc.save());
}

/** A seal image stand-in: the demo seal (a red ring and star on transparency). */
export const sealPng = (size = 64): Buffer => demoSealPng(size);

export interface TestPki {
  caCert: Buffer;
  /** Intermediate CA certificates between the root and the signer (carried in the P7). */
  intermediates: Buffer[];
  cert: Buffer;
  signer: SignatureProvider;
  hash: HashName;
}

export interface TestPkiOptions {
  /** For every certificate of the PKI (the CAs' default is 5 minutes ago). */
  notBefore?: Date;
  /** The signer certificate's. */
  notAfter?: Date;
  keyUsage?: KeyUsageName[];
  /** Issue the signer from an intermediate CA rather than the root. */
  intermediate?: boolean;
}

const provider = (kind: 'sm2' | 'rsa'): SignatureProvider =>
  kind === 'sm2'
    ? softwareSm2Provider(generateSm2KeyPair())
    : softwareRsaProvider(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey);

/** A root CA and a signer certificate (CN=测试签章人) of one key algorithm. */
export async function testPki(kind: 'sm2' | 'rsa', opts: TestPkiOptions = {}): Promise<TestPki> {
  const root = provider(kind);
  const since = opts.notBefore && { notBefore: opts.notBefore };
  const caCert = await selfSignedCa({
    subject: `CN=测试${kind} CA,O=测试机构,C=CN`,
    signer: root,
    ...since,
  });
  let issuer = issuerFromCertificate(caCert, root);
  const intermediates: Buffer[] = [];
  if (opts.intermediate) {
    const sub = provider(kind);
    const subCert = await issueCertificate({
      issuer,
      subject: `CN=测试${kind} 二级 CA,O=测试机构,C=CN`,
      subjectSpki: sub.spki,
      keyUsage: ['keyCertSign', 'cRLSign'],
      isCa: true,
      ...since,
    });
    intermediates.push(subCert);
    issuer = issuerFromCertificate(subCert, sub);
  }
  const signer = provider(kind);
  const cert = await issueCertificate({
    issuer,
    subject: 'CN=测试签章人,O=测试机构,C=CN',
    subjectSpki: signer.spki,
    keyUsage: opts.keyUsage ?? ['digitalSignature', 'nonRepudiation'],
    ...since,
    ...(opts.notAfter && { notAfter: opts.notAfter }),
  });
  return { caCert, intermediates, cert, signer, hash: kind === 'sm2' ? 'sm3' : 'sha256' };
}

/** The agent's flow: prepare, digest the ByteRange, make the P7 with the key, embed it. */
export async function signPdf(
  pdf: Uint8Array,
  pki: TestPki,
  opts: PrepareOptions = {},
): Promise<{ signed: Buffer; prepared: PreparedPdf; cms: Buffer }> {
  const prepared = await preparePdfForSignature(pdf, opts);
  const cms = await buildDetachedSignedData({
    messageDigest: digestForSignature(prepared.pdf, prepared.byteRange, pki.hash),
    hash: pki.hash,
    signer: pki.signer,
    signerCertificate: pki.cert,
    extraCertificates: pki.intermediates,
    ...(opts.signingTime && { signingTime: opts.signingTime }),
  });
  return { signed: embedSignature(prepared.pdf, prepared.byteRange, cms), prepared, cms };
}
