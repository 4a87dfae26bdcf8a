// PKCS #10 certificate requests, signed through a SignatureProvider (so a UKey key can request its
// own certificate without the private key leaving the token).
import { Attributes, CertificationRequest, CertificationRequestInfo } from '@peculiar/asn1-csr';
import { SubjectPublicKeyInfo } from '@peculiar/asn1-x509';
import type { Name } from '@peculiar/asn1-x509';
import { badParam } from '../../common/errors';
import { signatureAlgorithm, signatureAlgorithmInfo } from './algorithms';
import { parseDer, sequenceElements, serialize, toArrayBuffer, toBuffer } from './asn1';
import { pemToDer, spkiInfo, verifyWithSpki } from './keys';
import type { KeyAlgorithm, SpkiInfo } from './keys';
import { formatName, nameFields, toName } from './names';
import type { SignatureProvider } from './signer';

export interface CsrInfo {
  der: Buffer;
  subject: string;
  subjectFields: Record<string, string>;
  subjectName: Name;
  /** Exact encoding of the subject Name. */
  subjectDer: Buffer;
  /** DER SubjectPublicKeyInfo, exactly as in the request. */
  spki: Buffer;
  keyAlgorithm: KeyAlgorithm;
  publicKey: SpkiInfo;
  signatureAlgorithmOid: string;
}

/**
 * A DER PKCS #10 request for `subject` (see names.ts for the text form) over the signer's key.
 * SM2: signature SM2-with-SM3 (1.2.156.10197.1.501, no parameters, GM/T 0015) with the default ID;
 * RSA: sha256WithRSAEncryption with NULL parameters.
 */
export async function buildCsr(opts: {
  subject: string | Name;
  signer: SignatureProvider;
}): Promise<Buffer> {
  const { signer } = opts;
  const hash = signer.keyAlgorithm === 'sm2' ? 'sm3' : 'sha256';
  const info = new CertificationRequestInfo({
    version: 0,
    subject: toName(opts.subject),
    subjectPKInfo: parseDer(signer.spki, SubjectPublicKeyInfo, 'signer public key'),
    attributes: new Attributes(),
  });
  const tbs = serialize(info);
  const signature = await signer.sign(tbs, hash);
  return serialize(
    new CertificationRequest({
      certificationRequestInfo: info,
      signatureAlgorithm: signatureAlgorithm(signer.keyAlgorithm, hash),
      signature: toArrayBuffer(signature),
    }),
  );
}

function decode(der: Uint8Array): { req: CertificationRequest; info: CsrInfo } {
  const bytes = Buffer.from(der);
  const req = parseDer(bytes, CertificationRequest, 'certificate request');
  const cri = req.certificationRequestInfo;
  const publicKey = spkiInfo(cri.subjectPKInfo);
  if (!req.certificationRequestInfoRaw) throw badParam('certificate request is malformed');
  // version subject subjectPKInfo attributes, as encoded
  const [, subjectDer, spkiDer] = sequenceElements(
    toBuffer(req.certificationRequestInfoRaw),
    'certificate request',
  );
  if (!subjectDer || !spkiDer) throw badParam('certificate request is malformed');
  return {
    req,
    info: {
      der: bytes,
      subject: formatName(cri.subject),
      subjectFields: nameFields(cri.subject),
      subjectName: cri.subject,
      subjectDer,
      spki: spkiDer,
      keyAlgorithm: publicKey.algorithm,
      publicKey,
      signatureAlgorithmOid: req.signatureAlgorithm.algorithm,
    },
  };
}

/** DER or PEM (`CERTIFICATE REQUEST`, or the old `NEW CERTIFICATE REQUEST`). */
export function parseCsr(input: Uint8Array | string): CsrInfo {
  return decode(csrBytes(input)).info;
}

/** Whether the request's self-signature holds over its exact certificationRequestInfo bytes. */
export function verifyCsr(input: Uint8Array | string): boolean {
  const { req, info } = decode(csrBytes(input));
  const alg = signatureAlgorithmInfo(info.signatureAlgorithmOid);
  if (!alg || alg.key !== info.keyAlgorithm || !req.certificationRequestInfoRaw) return false;
  try {
    return verifyWithSpki(
      info.spki,
      toBuffer(req.certificationRequestInfoRaw),
      toBuffer(req.signature),
      alg.hash,
    );
  } catch {
    return false;
  }
}

function csrBytes(input: Uint8Array | string): Buffer {
  const text =
    typeof input === 'string' ? input : Buffer.from(input).subarray(0, 64).toString('latin1');
  if (!text.includes('-----BEGIN')) {
    if (typeof input === 'string') throw badParam('certificate request text is not PEM');
    return Buffer.from(input);
  }
  const pem = typeof input === 'string' ? input : Buffer.from(input).toString('latin1');
  return pem.includes('-----BEGIN NEW CERTIFICATE REQUEST-----')
    ? pemToDer(pem, 'NEW CERTIFICATE REQUEST')
    : pemToDer(pem, 'CERTIFICATE REQUEST');
}
