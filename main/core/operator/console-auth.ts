/**
 * Who may use the console: the holder of a one-time start-up token (5 minutes, single use) is
 * given a random session id in an HttpOnly SameSite=Strict cookie; the session lives while the agent
 * runs, until it is idle for 12 hours. Tokens and sessions are compared by their SHA-256 so the
 * lookups do not leak timing about the secret.
 */
import { createHash, randomBytes } from 'node:crypto';

export const SESSION_COOKIE = 'ukey_console';
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

/** The session cookie's value from a Cookie header. */
export function sessionOf(cookieHeader: string | undefined): string | undefined {
  if (!cookieHeader) return undefined;
  for (const part of cookieHeader.split(';')) {
    const i = part.indexOf('=');
    if (i < 0) continue;
    if (part.slice(0, i).trim() === SESSION_COOKIE) return part.slice(i + 1).trim();
  }
  return undefined;
}
