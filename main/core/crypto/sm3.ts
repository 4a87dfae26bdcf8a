import { createHash, getHashes } from 'node:crypto';
import { sm3 as sm3Hex } from 'sm-crypto-v2';
import { Sm3Js } from './sm3-js';

/** Which implementation of the GM algorithms to use. `node` needs OpenSSL's SM3 (absent in Electron). */
export type GmBackend = 'node' | 'js';

export const nodeHasSm3 = (): boolean => getHashes().includes('sm3');

let forced: GmBackend | undefined;

/** The backend in use: `UKEY_AGENT_GM_BACKEND` (tests) or the runtime's best. */
export function gmBackend(): GmBackend {
  if (forced) return forced;
  const env = process.env.UKEY_AGENT_GM_BACKEND;
  if (env === 'js') return 'js';
  if (env === 'node' && !nodeHasSm3()) throw new Error('this runtime has no SM3 in node:crypto');
  return nodeHasSm3() ? 'node' : 'js';
}

/** For tests and benchmarks: pin the backend (undefined restores auto-detection). */
export function setGmBackend(b: GmBackend | undefined): void {
  if (b === 'node' && !nodeHasSm3()) throw new Error('this runtime has no SM3 in node:crypto');
  forced = b;
}

export interface Sm3Hasher {
  update(data: Uint8Array | string): Sm3Hasher;
  digest(): Buffer;
}

/** A streaming SM3 hasher. */
export function createSm3(backend: GmBackend = gmBackend()): Sm3Hasher {
  if (backend === 'node') {
    const h = createHash('sm3');
    const wrapper: Sm3Hasher = {
      update(d) {
        h.update(d);
        return wrapper;
      },
      digest: () => h.digest(),
    };
    return wrapper;
  }
  const h = new Sm3Js();
  const wrapper: Sm3Hasher = {
    update(d) {
      h.update(typeof d === 'string' ? Buffer.from(d, 'utf8') : d);
      return wrapper;
    },
    digest: () => h.digest(),
  };
  return wrapper;
}

/** One-shot SM3 of bytes (strings are UTF-8). */
export function sm3(data: Uint8Array | string, backend: GmBackend = gmBackend()): Buffer {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  if (backend === 'node') return createHash('sm3').update(bytes).digest();
  return Buffer.from(sm3Hex(bytes), 'hex');
}

export const sm3HexOf = (data: Uint8Array | string, backend?: GmBackend): string =>
  sm3(data, backend).toString('hex');
