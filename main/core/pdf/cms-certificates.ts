// The certificates a P7 carries, as their exact DER (for chain building: intermediates travel in
// the P7). cms.ts keeps its own reader private, so this one reads the same structure.
import { childElements, sequenceElements } from '../pki/asn1';
import { parseCertificate } from '../pki/certificate';
import type { CertificateInfo } from '../pki/certificate';

/** ContentInfo { contentType, [0] SignedData } → SignedData's [0] certificates; [] if unreadable. */
export function cmsCertificates(p7: Buffer): CertificateInfo[] {
  try {
    const [, explicit] = sequenceElements(p7, 'P7');
    const signedData = explicit ? childElements(explicit, 'P7 content')[0] : undefined;
    const set = signedData
      ? sequenceElements(signedData, 'P7 SignedData').find((e) => e[0] === 0xa0)
      : undefined;
    if (!set) return [];
    const out: CertificateInfo[] = [];
    for (const der of childElements(set, 'P7 certificates')) {
      try {
        if (der[0] === 0x30) out.push(parseCertificate(der));
      } catch {
        // an unreadable extra certificate only means one chain fewer to try
      }
    }
    return out;
  } catch {
    return [];
  }
}
