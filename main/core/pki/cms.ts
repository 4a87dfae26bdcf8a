// Detached CMS SignedData, the JSAPI's "P7" signature format.
//
// SM2 keys follow GB/T 35275 (SM2 OIDs for the content types, SM3, SM2-with-SM3); RSA keys follow
// RFC 5652. In both, the signer signs the signed attributes (contentType, signingTime,
// messageDigest = the caller's document digest), DER-encoded as a SET OF (RFC 5652 §5.4).
import {
  Attribute,
  CertificateChoices,
  CertificateSet,
  CMSVersion,
  ContentInfo,
  DigestAlgorithmIdentifier,
  DigestAlgorithmIdentifiers,
  EncapsulatedContentInfo,
  IssuerAndSerialNumber,
  SignatureAlgorithmIdentifier,
  SignedData,
  SignerIdentifier,
  SignerInfo,
  SignerInfos,
} from '@peculiar/asn1-cms';
import { ContentType } from '@peculiar/asn1-pkcs9';
import { AsnArray, AsnType, AsnTypeTypes, OctetString } from '@peculiar/asn1-schema';
import { Certificate, Name, Time } from '@peculiar/asn1-x509';
import { badParam } from '../../common/errors';
import { digest, digestAlgorithm, digestLength, hashFromDigestOid } from './algorithms';
import { signatureAlgorithmInfo } from './algorithms';
import {
  childElements,
  integerMagnitude,
  parseDer,
  preEncoded,
  sequenceElements,
  serialize,
  toArrayBuffer,
  toBuffer,
} from './asn1';
import { parseCertificate } from './certificate';
import type { CertificateInfo } from './certificate';
import type { VerifyHashName } from './keys';
import { verifyWithSpki } from './keys';
import { namesEqual } from './names';
import { cmsOids, pkcs9Oids, rsaOids, sm2Oids, sm2SignedDataOids } from './oids';
import type { HashName, SignatureProvider } from './signer';

export { cmsOids, sm2SignedDataOids } from './oids';

/** SET OF Attribute: the encoding the signature covers (the SignerInfo carries it as [0] IMPLICIT). */
class AttributeSet extends AsnArray<Attribute> {
  constructor(items?: Attribute[]) {
    super(items);
    Object.setPrototypeOf(this, AttributeSet.prototype);
  }
}
// The project compiles without experimentalDecorators, so the schema decorator is applied by hand.
AsnType({ type: AsnTypeTypes.Set, itemType: Attribute })(AttributeSet);

export interface DetachedSignedDataOptions {
  /** The digest of the sealed document (the caller's docHash bytes). */
  messageDigest: Buffer;
  /** Digest algorithm that produced messageDigest: sm3 for SM2; sha256/sha1/md5 for RSA. */
  hash: HashName;
  signer: SignatureProvider;
  /** DER, included in certificates (byte-for-byte). */
  signerCertificate: Buffer;
  extraCertificates?: Buffer[];
  signingTime?: Date;
}

/** A DER ContentInfo holding a detached SignedData with one signer. */
export async function buildDetachedSignedData(opts: DetachedSignedDataOptions): Promise<Buffer> {
  const { signer, hash } = opts;
  const sm2 = signer.keyAlgorithm === 'sm2';
  if (sm2 !== (hash === 'sm3')) throw badParam(sm2 ? 'SM2 P7 uses SM3' : 'RSA P7 cannot use SM3');
  if (opts.messageDigest.length !== digestLength[hash])
    throw badParam(`messageDigest must be a ${digestLength[hash]}-byte ${hash} digest`);
  const cert = parseCertificate(opts.signerCertificate);
  if (!cert.spki.equals(signer.spki))
    throw badParam("the signer certificate is not the signing key's certificate");

  const dataOid = sm2 ? sm2SignedDataOids.data : cmsOids.data;
  // DER orders a SET OF by the encodings of its elements (X.690 §11.6).
  const attrs = [
    attribute(pkcs9Oids.contentType, new ContentType(dataOid)),
    attribute(pkcs9Oids.signingTime, new Time(opts.signingTime ?? new Date())),
    attribute(pkcs9Oids.messageDigest, new OctetString(opts.messageDigest)),
  ].sort((a, b) => Buffer.compare(serialize(a), serialize(b)));
  const signature = await signer.sign(serialize(new AttributeSet(attrs)), hash);

  const signerInfo = new SignerInfo({
    version: CMSVersion.v1,
    sid: new SignerIdentifier({
      issuerAndSerialNumber: new IssuerAndSerialNumber({
        issuer: preEncoded(cert.raw.issuerDer, Name, 'certificate issuer'),
        serialNumber: toArrayBuffer(cert.raw.serialNumber),
      }),
    }),
    digestAlgorithm: new DigestAlgorithmIdentifier(digestAlgorithm(hash)),
    signedAttrs: attrs,
    // GB/T 35275 names SM2-with-SM3 here; RFC 5652 (RFC 3370 §3.2) names rsaEncryption.
    signatureAlgorithm: new SignatureAlgorithmIdentifier(
      sm2
        ? { algorithm: sm2Oids.sm2WithSm3 }
        : { algorithm: rsaOids.rsaEncryption, parameters: null },
    ),
    signature: new OctetString(signature),
  });
  const certificates = [opts.signerCertificate, ...(opts.extraCertificates ?? [])].map(
    (der) => new CertificateChoices({ certificate: preEncoded(der, Certificate, 'certificate') }),
  );
  const signedData = new SignedData({
    version: CMSVersion.v1,
    digestAlgorithms: new DigestAlgorithmIdentifiers([
      new DigestAlgorithmIdentifier(digestAlgorithm(hash)),
    ]),
    encapContentInfo: new EncapsulatedContentInfo({ eContentType: dataOid }),
    certificates: new CertificateSet(certificates),
    signerInfos: new SignerInfos([signerInfo]),
  });
  return serialize(
    new ContentInfo({
      contentType: sm2 ? sm2SignedDataOids.signedData : cmsOids.signedData,
      content: toArrayBuffer(serialize(signedData)),
    }),
  );
}

function attribute(type: string, value: unknown): Attribute {
  return new Attribute({ attrType: type, attrValues: [toArrayBuffer(serialize(value))] });
}

export interface SignedDataVerification {
  /** Signature good and, if a digest or content was given (or attached), the digest matches. */
  valid: boolean;
  signerCertificate: CertificateInfo;
  signingTime?: Date;
  digestAlgorithmOid: string;
  /** The messageDigest signed attribute. */
  messageDigest: Buffer;
  /** False when neither opts nor the P7 gave the content or its digest to compare against. */
  contentChecked: boolean;
  errors: string[];
}

/**
 * Verifies the first SignerInfo of a (detached) SignedData: the messageDigest attribute against
 * `opts.messageDigest` (or the digest of `opts.content`), the contentType attribute against
 * eContentType, and the signature over the signed attributes with the signer certificate's key.
 * Does not check the certificate's chain or validity period. Problems come back in `errors`;
 * input that is not a SignedData throws BAD_PARAM.
 */
export function verifyDetachedSignedData(
  p7: Buffer,
  opts: { messageDigest?: Buffer; content?: Buffer } = {},
): SignedDataVerification {
  const ci = parseDer(p7, ContentInfo, 'P7 signature');
  if (ci.contentType !== sm2SignedDataOids.signedData && ci.contentType !== cmsOids.signedData)
    throw badParam(`P7 content type ${ci.contentType} is not SignedData`);
  const sdDer = toBuffer(ci.content);
  const sd = parseDer(sdDer, SignedData, 'P7 SignedData');
  const si = sd.signerInfos[0];
  if (!si) throw badParam('P7 has no signer');

  const cert = findSignerCertificate(signedDataCertificates(sdDer), si.sid);
  if (!cert) throw badParam("P7 does not carry the signer's certificate");

  const errors: string[] = [];
  const digestAlgorithmOid = si.digestAlgorithm.algorithm;
  const hash = hashFromDigestOid(digestAlgorithmOid);
  if (!hash) errors.push(`unsupported digest algorithm ${digestAlgorithmOid}`);
  if (!absentOrNull(si.digestAlgorithm.parameters))
    errors.push('digest algorithm parameters must be absent or NULL');

  const attrs = si.signedAttrs ?? [];
  const attrValue = (oid: string): Buffer | undefined => {
    const found = attrs.filter((a) => a.attrType === oid);
    if (found.length > 1 || (found[0] && found[0].attrValues.length !== 1)) {
      errors.push(`signed attribute ${oid} must occur once with one value`);
      return undefined;
    }
    const v = found[0]?.attrValues[0];
    return v ? toBuffer(v) : undefined;
  };
  const signedAttrsDer = firstSignedAttributes(sdDer);
  if (!si.signedAttrs || !signedAttrsDer) errors.push('P7 has no signed attributes');

  const mdDer = attrValue(pkcs9Oids.messageDigest);
  const messageDigest = mdDer
    ? toBuffer(parseDer(mdDer, OctetString, 'messageDigest attribute').buffer)
    : Buffer.alloc(0);
  if (!mdDer) errors.push('messageDigest attribute missing');

  const ctDer = attrValue(pkcs9Oids.contentType);
  const eContentType = sd.encapContentInfo.eContentType;
  if (!ctDer) errors.push('contentType attribute missing');
  else if (parseDer(ctDer, ContentType, 'contentType attribute').value !== eContentType)
    errors.push('contentType attribute does not match eContentType');

  const stDer = attrValue(pkcs9Oids.signingTime);
  const signingTime = stDer ? parseDer(stDer, Time, 'signingTime attribute').getTime() : undefined;

  // The expected digest: given, or computed from the given (or attached) content.
  const attached = sd.encapContentInfo.eContent?.single;
  const content = opts.content ?? (attached ? toBuffer(attached.buffer) : undefined);
  let expected = opts.messageDigest;
  if (!expected && content && hash) expected = digest(hash, content);
  if (expected && mdDer && !expected.equals(messageDigest))
    errors.push('messageDigest does not match the document digest');

  const sigHash = signatureHash(si.signatureAlgorithm.algorithm, hash, cert);
  if (sigHash.startsWith('!')) errors.push(sigHash.slice(1));
  else if (signedAttrsDer && hash) {
    // The signature covers the attributes as a SET OF (tag 0x31), not the [0] IMPLICIT (0xA0) sent.
    const signed = Buffer.from(signedAttrsDer);
    signed[0] = 0x31;
    let ok = false;
    try {
      ok = verifyWithSpki(
        cert.spki,
        signed,
        toBuffer(si.signature.buffer),
        sigHash as VerifyHashName,
      );
    } catch {
      ok = false;
    }
    if (!ok) errors.push('signature does not verify with the signer certificate');
  }

  const result: SignedDataVerification = {
    valid: errors.length === 0,
    signerCertificate: cert,
    digestAlgorithmOid,
    messageDigest,
    contentChecked: expected !== undefined,
    errors,
  };
  if (signingTime) result.signingTime = signingTime;
  return result;
}

const absentOrNull = (p: ArrayBuffer | null | undefined): boolean =>
  p === undefined || p === null || (p.byteLength === 2 && toBuffer(p).equals(Buffer.from([5, 0])));

/** The hash to verify with, or '!reason' when the algorithm does not fit the key/digest. */
function signatureHash(
  oid: string,
  hash: VerifyHashName | undefined,
  cert: CertificateInfo,
): VerifyHashName | `!${string}` {
  if (oid === sm2Oids.sm2WithSm3 || oid === sm2Oids.sm2Sign) {
    if (cert.keyAlgorithm !== 'sm2') return '!SM2 signature algorithm with a non-SM2 certificate';
    if (hash !== 'sm3') return '!SM2 signer infos must use SM3';
    return 'sm3';
  }
  if (oid === rsaOids.rsaEncryption) {
    if (cert.keyAlgorithm !== 'rsa') return '!RSA signature algorithm with a non-RSA certificate';
    if (!hash || hash === 'sm3') return '!unsupported digest for RSA';
    return hash;
  }
  const info = signatureAlgorithmInfo(oid);
  if (!info) return `!unsupported signature algorithm ${oid}`;
  if (info.key !== cert.keyAlgorithm)
    return '!signature algorithm does not match the certificate key';
  if (info.hash !== hash) return '!signature algorithm hash differs from the digest algorithm';
  return info.hash;
}

/**
 * The first SignerInfo's signedAttrs exactly as received (@peculiar/asn1-cms 2.x does not fill
 * signedAttrsRaw for this repeated field, and re-encoding could change what was signed).
 */
function firstSignedAttributes(sdDer: Buffer): Buffer | undefined {
  const signerInfos = sequenceElements(sdDer, 'P7 SignedData').at(-1);
  const first = signerInfos ? childElements(signerInfos, 'P7 signerInfos')[0] : undefined;
  return first ? sequenceElements(first, 'P7 SignerInfo').find((e) => e[0] === 0xa0) : undefined;
}

/** The certificates of a SignedData as their exact DER (re-encoding could alter their bytes). */
function signedDataCertificates(sdDer: Buffer): CertificateInfo[] {
  const set = sequenceElements(sdDer, 'P7 SignedData').find((e) => e[0] === 0xa0);
  if (!set) return [];
  const out: CertificateInfo[] = [];
  for (const der of childElements(set, 'P7 certificates')) {
    if (der[0] !== 0x30) continue; // attribute or other certificate formats
    try {
      out.push(parseCertificate(der));
    } catch {
      // an unreadable extra certificate does not stop us finding the signer's
    }
  }
  return out;
}

function findSignerCertificate(
  certs: CertificateInfo[],
  sid: SignerIdentifier,
): CertificateInfo | undefined {
  const ias = sid.issuerAndSerialNumber;
  if (ias) {
    const serial = integerMagnitude(ias.serialNumber);
    return certs.find(
      (c) =>
        integerMagnitude(c.raw.serialNumber).equals(serial) && namesEqual(c.raw.issuer, ias.issuer),
    );
  }
  const ski = sid.subjectKeyIdentifier;
  if (ski) {
    const hex = toBuffer(ski.buffer).toString('hex');
    return certs.find((c) => c.subjectKeyIdentifier === hex);
  }
  return undefined;
}
