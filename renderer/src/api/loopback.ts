/**
 * The headless console's transport (docs: CONSOLE-PROTOCOL): POST /operator/api for calls, a
 * WebSocket on /operator/events for pushes (reconnects on its own), PUT /operator/stage for files
 * dropped in the browser. The session cookie rides along because every URL is same-origin.
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

export interface LoopbackClient extends OperatorApiClient {
  stage(file: File, onProgress?: (sent: number, total: number) => void): Promise<StagedFile>;
  onConnection(listener: (s: ConnectionState) => void): () => void;
  connection(): ConnectionState;
}

const transportError = (message: string): OperatorReply<never> => ({
  code: '5000',
  message,
  data: null,
});

export function createLoopbackClient(base: Location = window.location): LoopbackClient {
  const listeners = new Map<string, Set<Listener>>();
  const stateListeners = new Set<(s: ConnectionState) => void>();
  let state: ConnectionState = 'connecting';
  let retryMs = 500;

  const setState = (s: ConnectionState): void => {
    if (s === state) return;
    state = s;
    for (const l of stateListeners) l(s);
  };

  const connect = (): void => {
    const proto = base.protocol === 'https:' ? 'wss:' : 'ws:';
    let ws: WebSocket;
    try {
      ws = new WebSocket(`${proto}//${base.host}/operator/events`);
    } catch {
      setState('closed');
      window.setTimeout(connect, retryMs);
      return;
    }
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
        headers: { 'content-type': 'application/json' },
        credentials: 'same-origin',
        body: JSON.stringify({ method, request }),
      });
    } catch {
      return transportError('the agent cannot be reached');
    }
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
      xhr.upload.onprogress = (e) => onProgress?.(e.loaded, e.total || file.size);
      xhr.onerror = () =>
        reject(Object.assign(new Error('the agent cannot be reached'), { code: '5000' }));
      xhr.onload = () => {
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

  return {
    invoke,
    on,
    stage,
    onConnection: (l) => {
      stateListeners.add(l);
      return () => {
        stateListeners.delete(l);
      };
    },
    connection: () => state,
  };
}
