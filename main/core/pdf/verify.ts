// Document verification (seed §6.4): every signature of a PDF checked in four steps — document
// integrity, signature value, certificate, seal state — answered as tables 26–28.
import { digest, hashFromDigestOid } from '../pki/algorithms';
import { parseCertificate } from '../pki/certificate';
import type { CertificateInfo } from '../pki/certificate';
import { verifyDetachedSignedData } from '../pki/cms';
import type { SignedDataVerification } from '../pki/cms';
import { signedBytes } from './byte-range';
import { certificateProblem } from './chain';
import { cmsCertificates } from './cms-certificates';
import { extractPdfSignatures } from './extract';
import type { PdfSignature } from './extract';
import { chinaTime } from './format';
import { HINT, STEP } from './hints';
import type { DocumentVerifyResult, SealInfo, SignatureDetail, VerifyFlowStep } from './types';

export type { DocumentVerifyResult, SealInfo, SignatureDetail, VerifyFlowStep } from './types';

export interface VerifyPdfOptions {
  /** DER certificates of the CAs whose signers the platform trusts. */
  trustedCertificates: Buffer[];
  /** Stands in for the signing time when neither the P7 nor /M gives one. */
  now?: Date;
  /** Table 26 fileName (the upload's name); '' if not given. */
  fileName?: string;
  /** The platform's record of the seal the signer certificate belongs to. */
  sealInfo?: (signerCert: CertificateInfo) => Promise<SealInfo | undefined>;
}

/** Sub-filters whose /Contents is a detached CMS over the ByteRange bytes. */
const DETACHED = new Set(['adbe.pkcs7.detached', 'ETSI.CAdES.detached']);

const pass = (step: string, hint: string): VerifyFlowStep => ({ step, hint, status: 1 });
const fail = (step: string, hint: string): VerifyFlowStep => ({ step, hint, status: 0 });

/** 1001 if the file is not a PDF; a bad signature is a failed step, never an exception. */
export async function verifyPdf(
  pdf: Uint8Array,
  opts: VerifyPdfOptions,
): Promise<DocumentVerifyResult> {
  const signatures = extractPdfSignatures(pdf);
  const trusted = opts.trustedCertificates.map((der) => parseCertificate(der));
  const details: SignatureDetail[] = [];
  for (let i = 0; i < signatures.length; i++)
    details.push(await verifyOne(pdf, signatures, i, trusted, opts));
  return {
    fileName: opts.fileName ?? '',
    fileSize: pdf.length,
    signCount: signatures.length,
    // No signature vouches for nothing: a PDF without one does not verify.
    verifyResult:
      details.length > 0 && details.every((d) => d.flowVoList.every((s) => s.status === 1)),
    details,
  };
}

async function verifyOne(
  pdf: Uint8Array,
  signatures: PdfSignature[],
  index: number,
  trusted: CertificateInfo[],
  opts: VerifyPdfOptions,
): Promise<SignatureDetail> {
  const sig = signatures[index]!;
  const detail: SignatureDetail = {
    sealType: '',
    signTime: '',
    provider: '',
    certIssuer: '',
    cert0wner: '',
    certSn: '',
    certValidStart: '',
    certValidEnd: '',
    sealPicBase64: '',
    sealCode: '',
    flowVoList: [],
  };
  const supported = sig.subFilter === undefined || DETACHED.has(sig.subFilter);
  let cms: SignedDataVerification | undefined;
  if (supported) {
    try {
      cms = verifyDetachedSignedData(sig.contents);
    } catch {
      cms = undefined; // not a SignedData: reported as unreadable below
    }
  }
  const signingTime = cms?.signingTime ?? sig.signingTime;
  if (signingTime) detail.signTime = chinaTime(signingTime);
  if (!cms) {
    const hint = supported ? HINT.unreadable : HINT.unsupportedFormat(sig.subFilter ?? '');
    detail.flowVoList = [
      fail(STEP.integrity, hint),
      fail(STEP.signature, hint),
      fail(STEP.certificate, HINT.noCertificate),
      fail(STEP.seal, HINT.sealUnknown),
    ];
    return detail;
  }

  const cert = cms.signerCertificate;
  detail.certIssuer = cert.issuer;
  detail.cert0wner = cert.subject;
  detail.certSn = cert.serialNumberHex;
  detail.certValidStart = chinaTime(cert.notBefore);
  detail.certValidEnd = chinaTime(cert.notAfter);

  const problem = certificateProblem(
    cert,
    cmsCertificates(sig.contents),
    trusted,
    signingTime ?? opts.now ?? new Date(),
  );
  const seal = opts.sealInfo ? await opts.sealInfo(cert) : undefined;
  if (seal) {
    detail.sealCode = seal.sealCode;
    detail.sealType = seal.sealType;
    detail.provider = seal.provider ?? '';
    detail.sealPicBase64 = seal.sealPicBase64 ?? '';
  }
  detail.flowVoList = [
    integrityStep(pdf, signatures, index, cms),
    cms.valid
      ? pass(STEP.signature, HINT.signatureValid)
      : fail(STEP.signature, HINT.signatureInvalid),
    problem ? fail(STEP.certificate, problem) : pass(STEP.certificate, HINT.certificateValid),
    sealStep(seal),
  ];
  return detail;
}

/**
 * The CMS messageDigest must be the digest of the ByteRange bytes, and those bytes must be the
 * whole file but /Contents — or, for an earlier signature, its whole revision, when a later
 * signature covers the whole file (a countersigned document: see docs/PDF.md for the limits).
 */
function integrityStep(
  pdf: Uint8Array,
  signatures: PdfSignature[],
  index: number,
  cms: SignedDataVerification,
): VerifyFlowStep {
  const sig = signatures[index]!;
  const hash = hashFromDigestOid(cms.digestAlgorithmOid);
  if (!hash) return fail(STEP.integrity, HINT.unsupportedDigest);
  if (!digest(hash, signedBytes(pdf, sig.byteRange)).equals(cms.messageDigest))
    return fail(STEP.integrity, HINT.changed);
  if (sig.coversWholeFile) return pass(STEP.integrity, HINT.unchanged);
  if (sig.coversRevision && signatures.slice(index + 1).some((s) => s.coversWholeFile))
    return pass(STEP.integrity, HINT.revisionCovered);
  return fail(STEP.integrity, HINT.notWholeDocument);
}

function sealStep(seal: SealInfo | undefined): VerifyFlowStep {
  if (!seal) return fail(STEP.seal, HINT.sealUnknown);
  if (seal.state === 1) return pass(STEP.seal, HINT.sealEnabled);
  if (seal.state === 3) return fail(STEP.seal, HINT.sealCancelled);
  if (seal.state === 4) return fail(STEP.seal, HINT.sealSuspended);
  return fail(STEP.seal, HINT.sealState(seal.state));
}
