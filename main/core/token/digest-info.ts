import { AgentError } from '../../common/errors';
import { ResultCode } from '../../common/codes';
import { digest } from '../pki/algorithms';
import type { HashName } from '../pki/signer';

/** DER DigestInfo prefixes for RSASSA-PKCS1-v1_5 (RFC 8017 §9.2 note 1). */
const DIGEST_INFO_PREFIX: Record<Exclude<HashName, 'sm3'>, string> = {
  md5: '3020300c06082a864886f70d020505000410',
  sha1: '3021300906052b0e03021a05000414',
  sha256: '3031300d060960864801650304020105000420',
};

export { digest };

export function rsaDigestInfo(hash: HashName, data: Uint8Array): Buffer {
  if (hash === 'sm3') {
    throw new AgentError(
      ResultCode.UNSUPPORTED_ALG,
      'RSA keys sign with MD5, SHA-1 or SHA-256, not SM3',
    );
  }
  return Buffer.concat([Buffer.from(DIGEST_INFO_PREFIX[hash], 'hex'), digest(hash, data)]);
}
