/**
 * Wraps the secret store's data key for storage. Implementations: a passphrase (headless), the
 * OS keychain through Electron safeStorage (desktop shell). `unwrap` of a blob wrapped under other
 * key material must fail with 1001, never answer wrong bytes.
 */
export interface KeyProtector {
  /** Names the kind of protection; stored next to the wrapped key. */
  readonly id: string;
  wrap(key: Buffer): Promise<Buffer>;
  unwrap(blob: Buffer): Promise<Buffer>;
}
