// Loads @tus/server and @tus/file-store, which are ESM-only, from this CommonJS build.
import type * as TusServer from '@tus/server';
import type * as TusFileStore from '@tus/file-store';

// tsc with module commonjs rewrites `import()` into `require()`; hiding it in a Function keeps a
// real dynamic import, which loads ESM without Node's require(esm) warning.
const esmImport = new Function('s', 'return import(s)') as <T>(specifier: string) => Promise<T>;

export interface TusModules {
  Server: typeof TusServer.Server;
  FileStore: typeof TusFileStore.FileStore;
}

let loaded: Promise<TusModules> | undefined;

export function loadTus(): Promise<TusModules> {
  return (loaded ??= Promise.all([
    esmImport<typeof TusServer>('@tus/server'),
    esmImport<typeof TusFileStore>('@tus/file-store'),
  ]).then(([server, store]) => ({ Server: server.Server, FileStore: store.FileStore })));
}
