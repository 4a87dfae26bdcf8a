/**
 * Picks the transport: Electron's preload (`window.operatorApi`) when present, else the loopback
 * console client. Both speak OperatorApiClient; only the console can stage dropped files.
 */
import { createLoopbackClient } from './loopback';
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
  onConnection(listener: (s: ConnectionState) => void): () => void;
  connection(): ConnectionState;
}

export function createUiClient(): UiClient {
  const preload = window.operatorApi;
  if (preload)
    return {
      api: preload,
      kind: 'electron',
      ...(preload.pathOfFile ? { pathOf: (f: File) => preload.pathOfFile!(f) } : {}),
      onConnection: () => () => undefined,
      connection: () => 'open',
    };
  const lb = createLoopbackClient();
  return {
    api: lb,
    kind: 'console',
    stage: lb.stage,
    onConnection: lb.onConnection,
    connection: lb.connection,
  };
}
