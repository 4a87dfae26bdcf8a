/**
 * The preload: exposes `window.operatorApi` and nothing else. It runs sandboxed, where `require`
 * reaches only 'electron' (and no bundler is used), so this file imports types only and keeps its
 * own copy of the channel allowlist; the `satisfies` checks below fail the build if the copy and
 * the contract (main/common/operator-api.ts) drift apart, and a unit test compares it with
 * main/common/ipc-channels.ts. The main process validates every payload again regardless.
 */
import type {
  OperatorApiClient,
  OperatorEvent,
  OperatorEvents,
  OperatorMethod,
  OperatorMethods,
} from '../common/operator-api';

/** Structural stand-ins for Electron's contextBridge and ipcRenderer (see desktop/electron-types.ts). */
export interface ContextBridgeLike {
  exposeInMainWorld(apiKey: string, api: unknown): void;
}
/** Electron's webUtils (the path of a dropped File; `File.path` is gone since Electron 32). */
export interface WebUtilsLike {
  getPathForFile(file: unknown): string;
}
export interface IpcRendererLike {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>;
  on(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown;
  removeListener(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown;
}

const METHODS: { [K in OperatorMethod]: true } = {
  'keys.list': true,
  'keys.certificates': true,
  'keys.pairs': true,
  'keys.generate': true,
  'keys.csr': true,
  'keys.importCert': true,
  'keys.delete': true,
  'keys.exportCert': true,
  'keys.changePin': true,
  'keys.unblockPin': true,
  'pins.pending': true,
  'pins.answer': true,
  'seals.query': true,
  'seals.file': true,
  'seals.setState': true,
  'outbox.list': true,
  'approvals.pending': true,
  'approvals.decide': true,
  'approvals.list': true,
  'policies.list': true,
  'policies.add': true,
  'policies.revoke': true,
  'apps.list': true,
  'apps.add': true,
  'apps.revoke': true,
  'apps.pairings': true,
  'apps.pairingDecide': true,
  'relay.list': true,
  'relay.upload': true,
  'relay.download': true,
  'relay.pause': true,
  'relay.resume': true,
  'relay.cancel': true,
  'documents.verify': true,
  'cloud.apply': true,
  'cloud.result': true,
  'cloud.sign': true,
  'audit.search': true,
  'audit.verify': true,
  'audit.export': true,
  'settings.get': true,
  'settings.set': true,
  'settings.modules': true,
  'settings.platform': true,
} satisfies Record<keyof OperatorMethods, true>;

const EVENTS: { [E in OperatorEvent]: true } = {
  'key.inserted': true,
  'key.removed': true,
  'approval.requested': true,
  'approval.resolved': true,
  'relay.progress': true,
  'relay.state': true,
  'pin.requested': true,
  'pin.resolved': true,
  'approval.recorded': true,
  'pairing.requested': true,
  'pairing.resolved': true,
} satisfies Record<keyof OperatorEvents, true>;

export const PRELOAD_METHODS = Object.freeze(Object.keys(METHODS)) as readonly OperatorMethod[];
export const PRELOAD_EVENTS = Object.freeze(Object.keys(EVENTS)) as readonly OperatorEvent[];

const has = (o: object, k: unknown): boolean =>
  typeof k === 'string' && Object.prototype.hasOwnProperty.call(o, k);

/** The API object: a few functions, frozen, closing over ipcRenderer (which is never handed out). */
export function createOperatorApiClient(
  ipc: IpcRendererLike,
  webUtils?: WebUtilsLike,
): OperatorApiClient {
  const invoke = ((method: unknown, request: unknown) => {
    if (!has(METHODS, method))
      return Promise.resolve({ code: '1001', message: 'unknown operator method', data: null });
    return ipc.invoke(`operator:${method as string}`, request);
  }) as OperatorApiClient['invoke'];
  const on = ((event: unknown, listener: unknown) => {
    if (!has(EVENTS, event)) throw new Error('unknown operator event');
    if (typeof listener !== 'function') throw new Error('listener must be a function');
    const channel = `operator-event:${event as string}`;
    // The renderer gets the payload only: the IPC event object would expose ipcRenderer.
    const wrapped = (_e: unknown, payload: unknown): void =>
      (listener as (p: unknown) => void)(payload);
    ipc.on(channel, wrapped);
    return () => {
      ipc.removeListener(channel, wrapped);
    };
  }) as OperatorApiClient['on'];
  if (!webUtils) return Object.freeze({ invoke, on });
  const pathOfFile = (file: unknown): string => {
    try {
      const p = webUtils.getPathForFile(file);
      return typeof p === 'string' ? p : '';
    } catch {
      return ''; // not a File
    }
  };
  return Object.freeze({ invoke, on, pathOfFile });
}

export function exposeOperatorApi(
  bridge: ContextBridgeLike,
  ipc: IpcRendererLike,
  webUtils?: WebUtilsLike,
): void {
  bridge.exposeInMainWorld('operatorApi', createOperatorApiClient(ipc, webUtils));
}

// Inside Electron's sandboxed preload (this file is webPreferences.preload): expose the API. The
// sandbox's require reaches 'electron' but not our other modules, hence this one-file preload.
// Under plain Node (the unit tests) electron is absent and nothing runs.
if (typeof process !== 'undefined' && process.versions?.electron) {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- provided by the Electron runtime, not installed here
  const electron = require('electron') as {
    contextBridge: ContextBridgeLike;
    ipcRenderer: IpcRendererLike;
    webUtils?: WebUtilsLike;
  };
  exposeOperatorApi(electron.contextBridge, electron.ipcRenderer, electron.webUtils);
}
