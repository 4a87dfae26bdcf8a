// The certificate step of document verification: the signer certificate was valid at the signing
// time, may sign, and chains (through CA certificates the P7 carries) to a trusted certificate.
// Revocation (CRL/OCSP) is not checked: the platform has no revocation source yet.
import type { CertificateInfo } from '../pki/certificate';
import { verifyCertificateSignature } from '../pki/certificate';
import { namesEqual } from '../pki/names';
import { HINT } from './hints';

// Root → intermediates → signer: more than this is junk, not a real e-seal PKI.
const MAX_DEPTH = 6;

const validAt = (c: CertificateInfo, at: Date): boolean =>
  c.notBefore.getTime() <= at.getTime() && at.getTime() <= c.notAfter.getTime();

const maySignCertificates = (c: CertificateInfo): boolean =>
  c.isCa && (!c.keyUsagePresent || c.keyUsage.keyCertSign);

const issued = (cert: CertificateInfo, ca: CertificateInfo): boolean =>
  namesEqual(cert.raw.issuer, ca.raw.subject) &&
  maySignCertificates(ca) &&
  verifyCertificateSignature(cert, ca.spki);

function chainsTo(
  cert: CertificateInfo,
  pool: CertificateInfo[],
  trusted: CertificateInfo[],
  at: Date,
  depth: number,
): boolean {
  if (trusted.some((t) => t.der.equals(cert.der))) return true;
  if (trusted.some((t) => validAt(t, at) && issued(cert, t))) return true;
  if (depth >= MAX_DEPTH) return false;
  return pool.some(
    (ca) =>
      !ca.der.equals(cert.der) &&
      validAt(ca, at) &&
      issued(cert, ca) &&
      chainsTo(ca, pool, trusted, at, depth + 1),
  );
}

/** `undefined` when the certificate passes; otherwise the hint saying why not. */
export function certificateProblem(
  signer: CertificateInfo,
  carried: CertificateInfo[],
  trusted: CertificateInfo[],
  at: Date,
): string | undefined {
  if (!validAt(signer, at)) return HINT.outsideValidity;
  // No KeyUsage extension means no restriction (RFC 5280 §4.2.1.3).
  if (
    signer.keyUsagePresent &&
    !signer.keyUsage.digitalSignature &&
    !signer.keyUsage.nonRepudiation
  )
    return HINT.usageNotSigning;
  if (!chainsTo(signer, carried, trusted, at, 0)) return HINT.untrusted;
  return undefined;
}
