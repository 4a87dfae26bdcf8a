// RequestSigners for the usual key holders: a software SM2 key, a software RSA key, or any
// SignatureProvider (a UKey key behind PKCS #11).
import type { KeyObject } from 'node:crypto';
import { sm2SignAsync } from '../crypto/sm2';
import type { Sm2KeyPair } from '../crypto/sm2';
import { softwareRsaProvider } from '../pki/signer';
import type { SignatureProvider } from '../pki/signer';
import type { RequestSigner } from './canonical';

/** Signs with the provider's key: SM2-with-SM3 for SM2 keys, SHA-256 for RSA keys (CONTRACT §1). */
export function requestSignerFromProvider(
  appId: string,
  provider: SignatureProvider,
): RequestSigner {
  const hash = provider.keyAlgorithm === 'sm2' ? 'sm3' : 'sha256';
  return { appId, sign: (canonical) => provider.sign(canonical, hash) };
}

export function sm2RequestSigner(appId: string, key: Sm2KeyPair): RequestSigner {
  // Off the event loop: the bridge signs one platform request per JSAPI signature.
  return { appId, sign: (canonical) => sm2SignAsync(key, canonical) };
}

export function rsaRequestSigner(appId: string, privateKey: KeyObject): RequestSigner {
  return requestSignerFromProvider(appId, softwareRsaProvider(privateKey));
}
