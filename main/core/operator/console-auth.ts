/**
 * Who may use the console: the holder of a one-time start-up token (5 minutes, single use) is
 * given a random session id, which the console page keeps in its sessionStorage and sends as
 * `Authorization: Bearer` (or, on the WebSocket, as the subprotocol `bearer.<id>`). Never a cookie:
 * cookies are not isolated by port (RFC 6265 §8.5) and SameSite counts every 127.0.0.1 port as one
 * site, so any other local server the browser visits would receive it. The session lives while the
 * agent runs, until it is idle for 12 hours. Tokens and sessions are looked up by their SHA-256 so
 * the lookups do not leak timing about the secret.
 */
import { createHash, randomBytes } from 'node:crypto';

/** The WebSocket subprotocol the server selects; the client also offers `bearer.<sessionId>`. */
export const WS_PROTOCOL = 'ukey-console';
const WS_BEARER_PREFIX = 'bearer.';
export const TOKEN_TTL_MS = 5 * 60_000;
export const SESSION_IDLE_MS = 12 * 3_600_000;

const digest = (s: string): string => createHash('sha256').update(s, 'utf8').digest('hex');

/** 32 random bytes as base64url: 43 characters. */
export const newSecret = (): string => randomBytes(32).toString('base64url');

export interface ConsoleAuthOptions {
  now?: () => number;
  tokenTtlMs?: number;
  sessionIdleMs?: number;
}

export class ConsoleAuth {
  private readonly tokens = new Map<string, number>();
  private readonly sessions = new Map<string, number>();
  private readonly now: () => number;
  private readonly tokenTtlMs: number;
  private readonly idleMs: number;

  constructor(o: ConsoleAuthOptions = {}) {
    this.now = o.now ?? Date.now;
    this.tokenTtlMs = o.tokenTtlMs ?? TOKEN_TTL_MS;
    this.idleMs = o.sessionIdleMs ?? SESSION_IDLE_MS;
  }

  /** A fresh one-time token (valid tokenTtlMs, single use). */
  issueToken(): string {
    const t = newSecret();
    this.tokens.set(digest(t), this.now() + this.tokenTtlMs);
    return t;
  }

  /** Spends the token: answers a new session id, or undefined when the token is unknown, used or old. */
  redeem(token: string): string | undefined {
    if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return undefined;
    const key = digest(token);
    const until = this.tokens.get(key);
    this.tokens.delete(key);
    if (until === undefined || until < this.now()) return undefined;
    const session = newSecret();
    this.sessions.set(digest(session), this.now());
    return session;
  }

  /** Whether the session is live; touching it restarts the idle clock. */
  check(session: string | undefined): boolean {
    if (!session || !/^[A-Za-z0-9_-]{43}$/.test(session)) return false;
    const key = digest(session);
    const last = this.sessions.get(key);
    if (last === undefined) return false;
    const now = this.now();
    if (now - last > this.idleMs) {
      this.sessions.delete(key);
      return false;
    }
    this.sessions.set(key, now);
    return true;
  }
}

/** The session id of an `Authorization: Bearer <id>` header (the only scheme accepted). */
export function bearerOf(authorization: string | undefined): string | undefined {
  const m = /^Bearer +([A-Za-z0-9_-]{43})$/i.exec((authorization ?? '').trim());
  return m?.[1];
}

/**
 * The session id a WebSocket client offered as the subprotocol `bearer.<id>` next to
 * `ukey-console` (browsers cannot set headers on a WebSocket); undefined unless both are offered.
 */
export function wsSessionOf(protocols: string | undefined): string | undefined {
  const offered = (protocols ?? '').split(',').map((p) => p.trim());
  if (!offered.includes(WS_PROTOCOL)) return undefined;
  const bearer = offered.filter((p) => p.startsWith(WS_BEARER_PREFIX));
  return bearer.length === 1 ? bearer[0]!.slice(WS_BEARER_PREFIX.length) : undefined;
}
