/** React glue for the operator API: the client in context, typed calls that throw, events, loads. */
import { createContext, useCallback, useContext, useEffect, useRef, useState } from 'react';
import type { ReactNode } from 'react';
import type { UiClient } from './client';
import { OperatorError } from './types';
import type {
  ConnectionState,
  OperatorEvent,
  OperatorEvents,
  OperatorMethod,
  OperatorRequest,
  OperatorResponse,
} from './types';

const ClientContext = createContext<UiClient | null>(null);

export function ClientProvider(props: { client: UiClient; children: ReactNode }): JSX.Element {
  return <ClientContext.Provider value={props.client}>{props.children}</ClientContext.Provider>;
}

export function useClient(): UiClient {
  const c = useContext(ClientContext);
  if (!c) throw new Error('ClientProvider missing');
  return c;
}

export type Call = <K extends OperatorMethod>(
  method: K,
  request: OperatorRequest<K>,
) => Promise<OperatorResponse<K>>;

/** A typed call answering the data, or throwing OperatorError with the contract code. */
export function useCall(): Call {
  const { api } = useClient();
  return useCallback(
    (async (method, request) => {
      const reply = await api.invoke(method, request);
      if (reply.code !== '0') throw new OperatorError(reply.code, reply.message);
      return reply.data;
    }) as Call,
    [api],
  );
}

/** Subscribes for the component's lifetime; the handler may change between renders. */
export function useEvent<E extends OperatorEvent>(
  event: E,
  handler: (payload: OperatorEvents[E]) => void,
): void {
  const { api } = useClient();
  const ref = useRef(handler);
  ref.current = handler;
  useEffect(() => api.on(event, (p) => ref.current(p)), [api, event]);
}

export function useConnection(): ConnectionState {
  const client = useClient();
  const [state, setState] = useState<ConnectionState>(client.connection());
  useEffect(() => {
    setState(client.connection());
    return client.onConnection(setState);
  }, [client]);
  return state;
}

export interface Load<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

/** Runs `fn` now and on reload(); keeps the last good data while reloading. */
export function useLoad<T>(fn: () => Promise<T>, deps: readonly unknown[]): Load<T> {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<unknown>();
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  const fnRef = useRef(fn);
  fnRef.current = fn;
  useEffect(() => {
    let live = true;
    setLoading(true);
    fnRef.current().then(
      (d) => {
        if (!live) return;
        setData(d);
        setError(undefined);
        setLoading(false);
      },
      (e: unknown) => {
        if (!live) return;
        setError(e);
        setLoading(false);
      },
    );
    return () => {
      live = false;
    };
  }, [tick, ...deps]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data, error, loading, reload };
}
