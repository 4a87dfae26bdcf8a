// The agent's view of a private key it cannot see: a UKey key behind PKCS #11, or a software key
// (demo CA, tests). Everything that signs in the PKI layer goes through this interface.
import { constants, createPublicKey, sign as nodeSign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { badParam } from '../../common/errors';
import { sm2Sign } from '../crypto/sm2';
import type { Sm2KeyPair } from '../crypto/sm2';
import { sm2Spki } from './keys';

export type HashName = 'sm3' | 'sha256' | 'sha1' | 'md5';

export interface SignatureProvider {
  readonly keyAlgorithm: 'sm2' | 'rsa';
  /** DER SubjectPublicKeyInfo of the key. */
  readonly spki: Buffer;
  /**
   * SM2: SM2-with-SM3 over message with the default ID 1234567812345678 (hash must be 'sm3'),
   * DER SEQUENCE{r,s}. RSA: RSASSA-PKCS1-v1_5 with the named hash over message.
   */
  sign(message: Buffer, hash: HashName): Promise<Buffer>;
}

export function softwareSm2Provider(key: Sm2KeyPair): SignatureProvider {
  return {
    keyAlgorithm: 'sm2',
    spki: sm2Spki(key.publicKey),
    sign: async (message, hash) => {
      if (hash !== 'sm3') throw badParam('SM2 keys sign with SM3 only');
      return sm2Sign(key, message);
    },
  };
}

export function softwareRsaProvider(privateKey: KeyObject): SignatureProvider {
  if (privateKey.type !== 'private' || privateKey.asymmetricKeyType !== 'rsa')
    throw badParam('an RSA private key is required');
  const spki = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  return {
    keyAlgorithm: 'rsa',
    spki,
    sign: async (message, hash) => {
      if (hash === 'sm3') throw badParam('RSA keys do not sign with SM3 here');
      return nodeSign(hash, message, { key: privateKey, padding: constants.RSA_PKCS1_PADDING });
    },
  };
}
