// A small CA for the demo PKI and tests: X.509 v3 certificates signed through a SignatureProvider.
import { createHash, randomBytes } from 'node:crypto';
import {
  AuthorityKeyIdentifier,
  BasicConstraints,
  Certificate,
  ExtendedKeyUsage,
  Extension,
  GeneralName,
  Extensions,
  KeyIdentifier,
  KeyUsage,
  KeyUsageFlags,
  Name,
  SubjectAlternativeName,
  SubjectKeyIdentifier,
  SubjectPublicKeyInfo,
  TBSCertificate,
  Validity,
  Version,
} from '@peculiar/asn1-x509';
import { OctetString } from '@peculiar/asn1-schema';
import { badParam } from '../../common/errors';
import { signatureAlgorithm } from './algorithms';
import { parseDer, preEncoded, serialize, toArrayBuffer, toBuffer, unsignedInteger } from './asn1';
import { parseCertificate } from './certificate';
import type { CertificateInfo, KeyUsageName } from './certificate';
import { parseCsr, verifyCsr } from './csr';
import { toName } from './names';
import { extKeyUsageOids, extensionOids } from './oids';
import type { HashName, SignatureProvider } from './signer';

export type { KeyUsageName } from './certificate';

export interface IssuerRef {
  /** The issuer's Name (exactly the CA certificate's subject: see `issuerFromCertificate`). */
  name: string | Name;
  signer: SignatureProvider;
  /** The issuer's SPKI, for the AuthorityKeyIdentifier; defaults to signer.spki. */
  spki?: Buffer;
  /** AuthorityKeyIdentifier value; defaults to `keyIdentifier(spki)`. */
  keyIdentifier?: Buffer;
}

export interface IssueOptions {
  issuer: IssuerRef;
  subject: string | Name;
  subjectSpki: Buffer;
  /** Unsigned big-endian; default a random positive 16-byte number. */
  serial?: Buffer;
  /** Default: 5 minutes ago (tolerates clock skew between issuer and verifier). */
  notBefore?: Date;
  /** Default: 10 years after notBefore for a CA, 1 year otherwise. */
  notAfter?: Date;
  keyUsage: KeyUsageName[];
  isCa?: boolean;
  pathLenConstraint?: number;
  /** Purpose names (serverAuth, clientAuth, …) or dotted OIDs. */
  extKeyUsage?: string[];
  /** RSA issuers: the signature hash (default sha256). SM2 issuers always use SM3. */
  hash?: HashName;
  /** SubjectAlternativeName: DNS names and IP addresses (TLS server certificates need them). */
  subjectAltNames?: { dns?: string[]; ip?: string[] };
}

/** RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey BIT STRING's value. */
export function keyIdentifier(spki: Uint8Array): Buffer {
  const key = parseDer(spki, SubjectPublicKeyInfo, 'public key').subjectPublicKey;
  return createHash('sha1').update(toBuffer(key)).digest();
}

/** A random positive serial of exactly `bytes` octets (top bit clear, next bit set). */
export function randomSerial(bytes = 16): Buffer {
  const b = randomBytes(bytes);
  b[0] = (b[0]! & 0x7f) | 0x40;
  return b;
}

/**
 * An X.509 v3 certificate (DER) with SubjectKeyIdentifier, AuthorityKeyIdentifier,
 * BasicConstraints (critical for a CA) and KeyUsage (critical), plus ExtendedKeyUsage if asked.
 */
export async function issueCertificate(opts: IssueOptions): Promise<Buffer> {
  const { issuer, isCa = false } = opts;
  const signer = issuer.signer;
  if (opts.keyUsage.length === 0) throw badParam('keyUsage must name at least one usage');
  if (isCa && !opts.keyUsage.includes('keyCertSign'))
    throw badParam('a CA certificate needs the keyCertSign key usage');
  if (issuer.spki && !issuer.spki.equals(signer.spki))
    throw badParam("the issuer's public key does not match its signer");
  const hash: HashName = signer.keyAlgorithm === 'sm2' ? 'sm3' : (opts.hash ?? 'sha256');
  const sigAlg = signatureAlgorithm(signer.keyAlgorithm, hash);

  const notBefore = opts.notBefore ?? new Date(Date.now() - 5 * 60_000);
  const notAfter =
    opts.notAfter ?? new Date(notBefore.getTime() + (isCa ? 3650 : 365) * 86_400_000);
  if (notAfter <= notBefore) throw badParam('notAfter must be later than notBefore');

  const bc = new BasicConstraints({ cA: isCa });
  if (isCa && opts.pathLenConstraint !== undefined) bc.pathLenConstraint = opts.pathLenConstraint;
  let flags = 0;
  for (const u of opts.keyUsage) flags |= KeyUsageFlags[u];
  const extensions = [
    ext(extensionOids.basicConstraints, isCa, bc),
    ext(extensionOids.keyUsage, true, new KeyUsage(flags)),
  ];
  if (opts.extKeyUsage?.length) {
    const oids = opts.extKeyUsage.map((p) => {
      const oid = extKeyUsageOids[p] ?? p;
      if (!/^\d+(\.\d+)+$/.test(oid)) throw badParam(`unknown extended key usage ${p}`);
      return oid;
    });
    extensions.push(ext(extensionOids.extKeyUsage, false, new ExtendedKeyUsage(oids)));
  }
  const san = opts.subjectAltNames;
  if (san && (san.dns?.length || san.ip?.length)) {
    const names = [
      ...(san.dns ?? []).map((d) => new GeneralName({ dNSName: d })),
      ...(san.ip ?? []).map((ip) => new GeneralName({ iPAddress: ip })),
    ];
    extensions.push(ext(extensionOids.subjectAltName, false, new SubjectAlternativeName(names)));
  }
  const ski = keyIdentifier(opts.subjectSpki);
  const aki = issuer.keyIdentifier ?? keyIdentifier(issuer.spki ?? signer.spki);
  extensions.push(
    ext(extensionOids.subjectKeyIdentifier, false, new SubjectKeyIdentifier(ski)),
    ext(
      extensionOids.authorityKeyIdentifier,
      false,
      new AuthorityKeyIdentifier({ keyIdentifier: new KeyIdentifier(aki) }),
    ),
  );

  const tbs = new TBSCertificate({
    version: Version.v3,
    serialNumber: unsignedInteger(opts.serial ?? randomSerial()),
    signature: sigAlg,
    issuer: toName(issuer.name),
    validity: new Validity({ notBefore, notAfter }),
    subject: toName(opts.subject),
    subjectPublicKeyInfo: preEncoded(opts.subjectSpki, SubjectPublicKeyInfo, 'subject public key'),
    extensions: new Extensions(extensions),
  });
  const tbsDer = serialize(tbs);
  const signature = await signer.sign(tbsDer, hash);
  return serialize(
    new Certificate({
      tbsCertificate: tbs,
      signatureAlgorithm: sigAlg,
      signatureValue: toArrayBuffer(signature),
    }),
  );
}

function ext(oid: string, critical: boolean, value: unknown): Extension {
  return new Extension({ extnID: oid, critical, extnValue: new OctetString(serialize(value)) });
}

/** A self-signed CA certificate (keyCertSign, cRLSign and digitalSignature by default). */
export function selfSignedCa(opts: {
  subject: string | Name;
  signer: SignatureProvider;
  serial?: Buffer;
  notBefore?: Date;
  notAfter?: Date;
  keyUsage?: KeyUsageName[];
  pathLenConstraint?: number;
  hash?: HashName;
}): Promise<Buffer> {
  const subject = toName(opts.subject);
  const issued: IssueOptions = {
    issuer: { name: subject, signer: opts.signer },
    subject,
    subjectSpki: opts.signer.spki,
    keyUsage: opts.keyUsage ?? ['keyCertSign', 'cRLSign', 'digitalSignature'],
    isCa: true,
  };
  if (opts.serial) issued.serial = opts.serial;
  if (opts.notBefore) issued.notBefore = opts.notBefore;
  if (opts.notAfter) issued.notAfter = opts.notAfter;
  if (opts.pathLenConstraint !== undefined) issued.pathLenConstraint = opts.pathLenConstraint;
  if (opts.hash) issued.hash = opts.hash;
  return issueCertificate(issued);
}

/**
 * The IssuerRef for a CA certificate and the signer holding its key: the Name as encoded in the
 * certificate, its SPKI, and its SubjectKeyIdentifier for the AuthorityKeyIdentifier.
 */
export function issuerFromCertificate(
  caCertificate: Uint8Array | CertificateInfo,
  signer: SignatureProvider,
): IssuerRef {
  const ca = caCertificate instanceof Uint8Array ? parseCertificate(caCertificate) : caCertificate;
  if (!ca.spki.equals(signer.spki))
    throw badParam("the signer's key is not the CA certificate's key");
  const ref: IssuerRef = {
    name: preEncoded(ca.raw.subjectDer, Name, 'CA name'),
    signer,
    spki: ca.spki,
  };
  if (ca.subjectKeyIdentifier) ref.keyIdentifier = Buffer.from(ca.subjectKeyIdentifier, 'hex');
  return ref;
}

/**
 * Issues a certificate for a PKCS #10 request after checking its self-signature (BAD_PARAM if it
 * does not verify). The subject and key are taken from the request byte-for-byte.
 */
export async function certificateFromCsr(
  csr: Uint8Array | string,
  ca: IssuerRef,
  opts: Omit<IssueOptions, 'issuer' | 'subject' | 'subjectSpki'>,
): Promise<Buffer> {
  if (!verifyCsr(csr)) throw badParam('the certificate request signature does not verify');
  const req = parseCsr(csr);
  return issueCertificate({
    ...opts,
    issuer: ca,
    subject: preEncoded(req.subjectDer, Name, 'request subject'),
    subjectSpki: req.spki,
  });
}
