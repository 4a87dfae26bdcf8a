/**
 * The console page's session: the one-time token from the link (`?token=…`, or `#token=…`) is taken
 * out of the address bar at once and traded for a session id (POST /operator/session), which lives
 * only in this tab's sessionStorage (per origin, so per port; it survives a reload). Never a cookie:
 * cookies are shared by every port of 127.0.0.1, so any other local server the browser visits would
 * receive it and could drive the agent.
 */
import type { OperatorReply } from './types';

const STORAGE_KEY = 'ukey-console-session';
const SECRET = /^[A-Za-z0-9_-]{43}$/;

/** Why there is no session: no link was used, the link was spent or old, or the agent is away. */
export type SessionProblemKind = 'no-link' | 'link-invalid' | 'expired' | 'unreachable';

export type SessionStart = { sessionId: string } | { problem: SessionProblemKind };

/** Reads the link's token and removes it from the address bar (history entry included). */
export function takeLinkToken(loc: Location = window.location): string | undefined {
  const query = new URLSearchParams(loc.search);
  const fromHash = /^#token=([^&]*)$/.exec(loc.hash)?.[1];
  const token = query.get('token') ?? fromHash;
  if (token === null || token === undefined) return undefined;
  query.delete('token');
  const search = query.toString();
  const hash = fromHash === undefined ? loc.hash : '';
  window.history.replaceState(
    window.history.state,
    '',
    `${loc.pathname}${search ? `?${search}` : ''}${hash}`,
  );
  return token;
}

const storage = (): Storage | undefined => {
  try {
    return window.sessionStorage;
  } catch {
    return undefined; // storage disabled: the session lasts as long as the page
  }
};

export function forgetSession(): void {
  storage()?.removeItem(STORAGE_KEY);
}

/** A new session from the link's token, else the tab's stored one, else why there is none. */
export async function startConsoleSession(): Promise<SessionStart> {
  const token = takeLinkToken();
  if (token === undefined) {
    const stored = storage()?.getItem(STORAGE_KEY);
    return stored && SECRET.test(stored) ? { sessionId: stored } : { problem: 'no-link' };
  }
  forgetSession();
  let res: Response;
  try {
    res = await fetch('/operator/session', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      credentials: 'omit',
      cache: 'no-store',
      body: JSON.stringify({ token }),
    });
  } catch {
    return { problem: 'unreachable' };
  }
  let env: OperatorReply<{ sessionId?: unknown }> | undefined;
  try {
    env = (await res.json()) as OperatorReply<{ sessionId?: unknown }>;
  } catch {
    env = undefined;
  }
  const id = env?.code === '0' ? env.data.sessionId : undefined;
  if (typeof id !== 'string' || !SECRET.test(id)) return { problem: 'link-invalid' };
  storage()?.setItem(STORAGE_KEY, id);
  return { sessionId: id };
}
