/**
 * Picks the transport: Electron's preload (`window.operatorApi`) when present, else the loopback
 * console client with the page's session (api/session.ts). Both speak OperatorApiClient; only the
 * console stages dropped files and fetches finished downloads.
 */
import { createLoopbackClient } from './loopback';
import type { DownloadLink, LoopbackOptions } from './loopback';
import type { ConnectionState, OperatorApiClient, StagedFile } from './types';

declare global {
  interface Window {
    operatorApi?: OperatorApiClient;
  }
}

export interface UiClient {
  api: OperatorApiClient;
  kind: 'electron' | 'console';
  /** Only in the console: upload a dropped file to the agent's staging area. */
  stage?: (file: File, onProgress?: (sent: number, total: number) => void) => Promise<StagedFile>;
  /** Only in Electron: where a dropped file is on this machine ('' when it has no path). */
  pathOf?: (file: File) => string;
  /** Only in the console: a finished relay download's file (GET /operator/download/<jobId>). */
  download?: (jobId: number) => Promise<DownloadLink>;
  onConnection(listener: (s: ConnectionState) => void): () => void;
  connection(): ConnectionState;
}

/** Electron's preload, if this page runs in the desktop window. */
export const inElectron = (): boolean => window.operatorApi !== undefined;

/** The console's session is needed unless the preload is there (then it is ignored). */
export function createUiClient(session?: Omit<LoopbackOptions, 'base'>): UiClient {
  const preload = window.operatorApi;
  if (preload)
    return {
      api: preload,
      kind: 'electron',
      ...(preload.pathOfFile ? { pathOf: (f: File) => preload.pathOfFile!(f) } : {}),
      onConnection: () => () => undefined,
      connection: () => 'open',
    };
  if (!session) throw new Error('the console needs a session');
  const lb = createLoopbackClient(session);
  return {
    api: lb,
    kind: 'console',
    stage: lb.stage,
    download: lb.download,
    onConnection: lb.onConnection,
    connection: lb.connection,
  };
}
