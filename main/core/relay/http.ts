// A small HTTP client for the relay over node:http(s): one keep-alive agent, abortable requests,
// and errors that say whether retrying can help.
import http from 'node:http';
import https from 'node:https';
import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';

/** A failed relay request or transfer step; `retryable` drives the job's backoff. */
export class RelayError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'RelayError';
  }
}

/** Statuses worth retrying: server faults, throttling, a refused chunk, a busy upload lock. */
const RETRY_STATUS = new Set([408, 423, 429, 460, 500, 502, 503, 504]);

export const statusError = (status: number, body: string, what: string): RelayError =>
  new RelayError(
    `${what}: HTTP ${status} ${body.trim().slice(0, 200)}`,
    RETRY_STATUS.has(status),
    status,
  );

const agents = {
  'http:': new http.Agent({ keepAlive: true, maxSockets: 8 }),
  'https:': new https.Agent({ keepAlive: true, maxSockets: 8 }),
};

export interface RelayRequest {
  method: string;
  headers?: OutgoingHttpHeaders;
  body?: Buffer;
  signal?: AbortSignal;
  /** Idle socket time before the request fails (retryable). Default 60 s. */
  timeoutMs?: number;
}

/** Starts a request and answers the response head; the body is the caller's to consume. */
export function relayRequest(url: URL, req: RelayRequest): Promise<IncomingMessage> {
  const lib = url.protocol === 'https:' ? https : http;
  const agent = agents[url.protocol as 'http:' | 'https:'];
  return new Promise((resolve, reject) => {
    const r = lib.request(url, {
      method: req.method,
      headers: req.headers,
      agent,
      signal: req.signal,
      timeout: req.timeoutMs ?? 60_000,
    });
    r.on('response', resolve);
    r.on('timeout', () => r.destroy(new Error('socket timeout')));
    r.on('error', (e: NodeJS.ErrnoException) => {
      if (req.signal?.aborted) reject(req.signal.reason ?? e);
      else reject(new RelayError(`${req.method} ${url.pathname}: ${e.message}`, true));
    });
    r.end(req.body);
  });
}

/** Reads a (small) response body as text, at most 64 KiB. */
export async function textOf(res: IncomingMessage): Promise<string> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const c of res as AsyncIterable<Buffer>) {
    if (n < 65_536) parts.push(c);
    n += c.length;
  }
  return Buffer.concat(parts).toString('utf8').slice(0, 65_536);
}
