// The optional native SM2 backend (native/sm2-node, an N-API addon over the OpenSSL inside Node).
// Plain Node loads it when it has been built; Electron (BoringSSL, no SM2), a machine without a
// compiler, or UKEY_AGENT_SM2=js get the pure-JS sm-crypto-v2 path, which gives the same answers.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** Opaque OpenSSL objects owned by the addon (freed when collected). */
type Handle = { readonly __sm2Handle: unique symbol };

interface Sm2Addon {
  privateKey(d: Uint8Array): Handle;
  publicKey(point: Uint8Array): Handle;
  publicFromPrivate(d: Uint8Array): Buffer;
  signDigest(key: Handle, e: Uint8Array): Buffer;
  /** The same signature computed on the libuv pool, off the event loop. */
  signDigestAsync(key: Handle, e: Uint8Array): Promise<Buffer>;
  /** r‖s raw; false for a wrong signature, throws only on malformed arguments. */
  verifyDigest(key: Handle, e: Uint8Array, rs: Uint8Array): boolean;
}

export type Sm2Backend = 'native' | 'js';

/** Where the addon is built, from dist/main/core/crypto or main/core/crypto. */
const ADDON_PATHS = [
  join(__dirname, '../../../../native/sm2-node/build/Release/sm2_node.node'),
  join(__dirname, '../../../native/sm2-node/build/Release/sm2_node.node'),
];

let addon: Sm2Addon | null | undefined;
let forced: Sm2Backend | undefined;

function loadAddon(): Sm2Addon | null {
  if (addon !== undefined) return addon;
  addon = null;
  // Electron's BoringSSL lacks SM2: the addon would resolve no OpenSSL symbols there.
  if (process.versions.electron) return addon;
  for (const path of ADDON_PATHS) {
    if (!existsSync(path)) continue;
    try {
      const mod = { exports: {} };
      process.dlopen(mod, path);
      addon = mod.exports as Sm2Addon;
      break;
    } catch {
      // A build for another Node ABI: the JS path still works.
    }
  }
  return addon;
}

/** The addon when it is to be used: not forced off, not UKEY_AGENT_SM2=js, and loadable. */
export function nativeSm2(): Sm2Addon | null {
  const want = forced ?? (process.env.UKEY_AGENT_SM2 === 'js' ? 'js' : 'native');
  return want === 'native' ? loadAddon() : null;
}

export const sm2Backend = (): Sm2Backend => (nativeSm2() ? 'native' : 'js');

/** For tests and benchmarks: pin the backend (undefined restores the default). */
export function setSm2Backend(b: Sm2Backend | undefined): void {
  if (b === 'native' && !loadAddon()) throw new Error('the native SM2 addon is not built');
  forced = b;
}

const MAX_KEYS = 256;
const publicHandles = new Map<string, Handle>();

/** A handle per public key; the addon precomputes a table once a key verifies a second time. */
export function publicHandle(native: Sm2Addon, point: Buffer): Handle {
  const hex = point.toString('hex');
  let h = publicHandles.get(hex);
  if (!h) {
    h = native.publicKey(point);
    if (publicHandles.size >= MAX_KEYS) publicHandles.delete(publicHandles.keys().next().value!);
    publicHandles.set(hex, h);
  }
  return h;
}

// Keyed by the key's own buffer (so no copy of the secret is made here); the fingerprint notices a
// buffer that was overwritten (zeroised, reused) since, and re-imports.
const privateHandles = new WeakMap<Uint8Array, { handle: Handle; fingerprint: Buffer }>();

export function privateHandle(native: Sm2Addon, d: Uint8Array): Handle {
  const fingerprint = createHash('sha256').update(d).digest();
  const cached = privateHandles.get(d);
  if (cached && cached.fingerprint.equals(fingerprint)) return cached.handle;
  const handle = native.privateKey(d);
  privateHandles.set(d, { handle, fingerprint });
  return handle;
}
