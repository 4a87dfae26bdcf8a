/**
 * The headless console's transport (docs/DESKTOP.md "Headless console"): POST /operator/api for
 * calls, a WebSocket on /operator/events for pushes (reconnects on its own), PUT /operator/stage for
 * files dropped in the browser, a one-time link per finished download (POST
 * /operator/download/<jobId>/ticket, then the browser follows it and streams the file to disk). Each carries
 * the session id explicitly (`Authorization: Bearer`; the WebSocket, which cannot set headers, offers
 * it as the subprotocol `bearer.<id>`): there is no cookie, and none of ours is sent (`omit`).
 * An HTTP 401 means the session is gone (agent restarted, idle 12 h): onUnauthorized, and the
 * client stops.
 */
import type {
  ConnectionState,
  OperatorApiClient,
  OperatorEvent,
  OperatorEvents,
  OperatorReply,
  StagedFile,
} from './types';

type Listener = (payload: unknown) => void;

export interface LoopbackOptions {
  sessionId: string;
  /** Called once when the agent answers 401: the session is gone. */
  onUnauthorized: () => void;
  base?: Location;
}

/** A finished download's one-time link (a minute, single use): following it saves the file. */
export interface DownloadLink {
  url: string;
}

export interface LoopbackClient extends OperatorApiClient {
  stage(file: File, onProgress?: (sent: number, total: number) => void): Promise<StagedFile>;
  download(jobId: number): Promise<DownloadLink>;
  onConnection(listener: (s: ConnectionState) => void): () => void;
  connection(): ConnectionState;
}

const transportError = (message: string): OperatorReply<never> => ({
  code: '5000',
  message,
  data: null,
});

const transportFailure = (message: string, code = '5000'): Error =>
  Object.assign(new Error(message), { code });

export function createLoopbackClient(o: LoopbackOptions): LoopbackClient {
  const base = o.base ?? window.location;
  const bearer = `Bearer ${o.sessionId}`;
  const listeners = new Map<string, Set<Listener>>();
  const stateListeners = new Set<(s: ConnectionState) => void>();
  let state: ConnectionState = 'connecting';
  let retryMs = 500;
  let socket: WebSocket | undefined;
  let lost = false;

  const unauthorized = (): void => {
    if (lost) return;
    lost = true;
    socket?.close();
    o.onUnauthorized();
  };

  const setState = (s: ConnectionState): void => {
    if (s === state) return;
    state = s;
    for (const l of stateListeners) l(s);
  };

  const connect = (): void => {
    if (lost) return;
    const proto = base.protocol === 'https:' ? 'wss:' : 'ws:';
    let ws: WebSocket;
    try {
      // The server selects 'ukey-console'; the bearer entry is never echoed back.
      ws = new WebSocket(`${proto}//${base.host}/operator/events`, [
        'ukey-console',
        `bearer.${o.sessionId}`,
      ]);
    } catch {
      setState('closed');
      window.setTimeout(connect, retryMs);
      return;
    }
    socket = ws;
    ws.onopen = () => {
      retryMs = 500;
      setState('open');
    };
    ws.onmessage = (m) => {
      if (typeof m.data !== 'string') return;
      let frame: { event?: unknown; payload?: unknown };
      try {
        frame = JSON.parse(m.data) as typeof frame;
      } catch {
        return;
      }
      if (typeof frame.event !== 'string') return;
      for (const l of listeners.get(frame.event) ?? []) l(frame.payload);
    };
    ws.onclose = () => {
      setState('closed');
      if (lost) return;
      window.setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, 5000);
    };
  };
  connect();

  const invoke = (async (method: string, request: unknown) => {
    let res: Response;
    try {
      res = await fetch('/operator/api', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: bearer },
        credentials: 'omit',
        body: JSON.stringify({ method, request }),
      });
    } catch {
      return transportError('the agent cannot be reached');
    }
    if (res.status === 401) unauthorized();
    try {
      return (await res.json()) as OperatorReply<unknown>;
    } catch {
      return transportError(`the agent answered HTTP ${res.status}`);
    }
  }) as OperatorApiClient['invoke'];

  const on = (<E extends OperatorEvent>(
    event: E,
    listener: (payload: OperatorEvents[E]) => void,
  ) => {
    const set = listeners.get(event) ?? new Set<Listener>();
    listeners.set(event, set);
    const l = listener as Listener;
    set.add(l);
    return () => {
      set.delete(l);
    };
  }) as OperatorApiClient['on'];

  // XHR rather than fetch: it reports upload progress.
  const stage = (
    file: File,
    onProgress?: (sent: number, total: number) => void,
  ): Promise<StagedFile> =>
    new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open('PUT', `/operator/stage?name=${encodeURIComponent(file.name)}`);
      xhr.setRequestHeader('content-type', 'application/octet-stream');
      xhr.setRequestHeader('authorization', bearer);
      xhr.upload.onprogress = (e) => onProgress?.(e.loaded, e.total || file.size);
      xhr.onerror = () =>
        reject(Object.assign(new Error('the agent cannot be reached'), { code: '5000' }));
      xhr.onload = () => {
        if (xhr.status === 401) unauthorized();
        let env: OperatorReply<StagedFile>;
        try {
          env = JSON.parse(xhr.responseText) as OperatorReply<StagedFile>;
        } catch {
          reject(
            Object.assign(new Error(`the agent answered HTTP ${xhr.status}`), { code: '5000' }),
          );
          return;
        }
        if (env.code === '0') resolve(env.data);
        else reject(Object.assign(new Error(env.message), { code: env.code }));
      };
      xhr.send(file);
    });

  // A link, not fetch + blob: the browser streams the file to disk whatever its size. A link
  // carries no header (and we have no cookie), so the page first trades its session for a
  // one-time ticket in the link.
  const download = async (jobId: number): Promise<DownloadLink> => {
    let res: Response;
    try {
      res = await fetch(`/operator/download/${jobId}/ticket`, {
        method: 'POST',
        headers: { authorization: bearer },
        credentials: 'omit',
        cache: 'no-store',
      });
    } catch {
      throw transportFailure('the agent cannot be reached');
    }
    if (res.status === 401) unauthorized();
    let env: OperatorReply<DownloadLink> | undefined;
    try {
      env = (await res.json()) as OperatorReply<DownloadLink>;
    } catch {
      env = undefined;
    }
    if (!env) throw transportFailure(`the agent answered HTTP ${res.status}`);
    if (env.code !== '0') throw transportFailure(env.message, env.code);
    return env.data;
  };

  return {
    invoke,
    on,
    stage,
    download,
    onConnection: (l) => {
      stateListeners.add(l);
      return () => {
        stateListeners.delete(l);
      };
    },
    connection: () => state,
  };
}
