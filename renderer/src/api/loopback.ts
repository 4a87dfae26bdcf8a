/**
 * The headless console's transport (docs/DESKTOP.md "Headless console"): POST /operator/api for
 * calls, a WebSocket on /operator/events for pushes (reconnects on its own), PUT /operator/stage for
 * files dropped in the browser, GET /operator/download/<jobId> for finished downloads. Each carries
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

/** A finished download as the browser got it (saved by util/download saveBlob). */
export interface DownloadedFile {
  name: string;
  blob: Blob;
}

export interface LoopbackClient extends OperatorApiClient {
  stage(file: File, onProgress?: (sent: number, total: number) => void): Promise<StagedFile>;
  download(jobId: number): Promise<DownloadedFile>;
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

/** The file name of a Content-Disposition header (RFC 6266: filename* first). */
export function dispositionName(header: string | null, fallback: string): string {
  if (!header) return fallback;
  const star = /filename\*=UTF-8''([^;]+)/i.exec(header)?.[1];
  if (star) {
    try {
      return decodeURIComponent(star.trim());
    } catch {
      /* a bad escape: the plain name below */
    }
  }
  return /filename="([^"]*)"/i.exec(header)?.[1] ?? fallback;
}

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

  // fetch with the header, then a blob saved by the page: a plain link could only carry a cookie.
  const download = async (jobId: number): Promise<DownloadedFile> => {
    let res: Response;
    try {
      res = await fetch(`/operator/download/${jobId}`, {
        headers: { authorization: bearer },
        credentials: 'omit',
        cache: 'no-store',
      });
    } catch {
      throw transportFailure('the agent cannot be reached');
    }
    if (res.status === 401) unauthorized();
    if (!res.ok) {
      let env: OperatorReply<unknown> | undefined;
      try {
        env = (await res.json()) as OperatorReply<unknown>;
      } catch {
        env = undefined;
      }
      if (env && env.code !== '0') throw transportFailure(env.message, env.code);
      throw transportFailure(`the agent answered HTTP ${res.status}`);
    }
    const name = dispositionName(res.headers.get('content-disposition'), `download-${jobId}`);
    return { name, blob: await res.blob() };
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
