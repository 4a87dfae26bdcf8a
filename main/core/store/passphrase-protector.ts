// A KeyProtector for headless use: scrypt(passphrase) → AES-256-GCM key-encryption key.
// Blob: version 0x01 ‖ salt (16) ‖ nonce (12) ‖ tag (16) ‖ ciphertext.
import { createCipheriv, createDecipheriv, randomBytes, scrypt } from 'node:crypto';
import { AgentError, badParam } from '../../common/errors';
import { ResultCode } from '../../common/codes';
import type { KeyProtector } from './key-protector';

const VERSION = 0x01;
const SALT = 16;
const NONCE = 12;
const TAG = 16;
// N=2^15, r=8 needs 128·N·r = 32 MiB, exactly node's default maxmem: raise the cap.
const SCRYPT = { N: 1 << 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };
const AAD = Buffer.from('ukey-agent secret-store data key v1');

const kek = (passphrase: Buffer, salt: Buffer): Promise<Buffer> =>
  new Promise((resolve, reject) =>
    scrypt(passphrase, salt, 32, SCRYPT, (err, key) => (err ? reject(err) : resolve(key))),
  );

export function passphraseProtector(passphrase: string | Buffer): KeyProtector {
  if (passphrase.length === 0) throw badParam('passphrase must not be empty');
  // Our own copy, so it can be zeroed; a JS string cannot be.
  const secret = Buffer.from(passphrase);
  return {
    id: 'passphrase-scrypt-v1',
    async wrap(key) {
      const salt = randomBytes(SALT);
      const nonce = randomBytes(NONCE);
      const k = await kek(secret, salt);
      try {
        const c = createCipheriv('aes-256-gcm', k, nonce);
        c.setAAD(AAD);
        const ct = Buffer.concat([c.update(key), c.final()]);
        return Buffer.concat([Buffer.from([VERSION]), salt, nonce, c.getAuthTag(), ct]);
      } finally {
        k.fill(0);
      }
    },
    async unwrap(blob) {
      if (blob.length <= 1 + SALT + NONCE + TAG || blob[0] !== VERSION)
        throw new AgentError(ResultCode.INTERNAL, 'the key store data key is damaged');
      const salt = blob.subarray(1, 1 + SALT);
      const nonce = blob.subarray(1 + SALT, 1 + SALT + NONCE);
      const tag = blob.subarray(1 + SALT + NONCE, 1 + SALT + NONCE + TAG);
      const ct = blob.subarray(1 + SALT + NONCE + TAG);
      const k = await kek(secret, salt);
      try {
        const d = createDecipheriv('aes-256-gcm', k, nonce);
        d.setAAD(AAD);
        d.setAuthTag(tag);
        return Buffer.concat([d.update(ct), d.final()]);
      } catch {
        throw badParam('the key store passphrase is wrong');
      } finally {
        k.fill(0);
      }
    },
  };
}
