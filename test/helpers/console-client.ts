// A test client of the headless console (serve --console): redeems the one-time link's token for a
// session id (POST /operator/session), sends it as `Authorization: Bearer` to /operator/api and
// staging and as the `bearer.<id>` subprotocol on /operator/events, with full control of Host,
// Origin and Content-Type so the tests can also send what a browser would refuse to. Every answer's
// Set-Cookie is recorded in setCookiesSeen: the console must never set one.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import WebSocket from 'ws';
import type { OperatorMethod, OperatorRequest } from '../../main/common/operator-api';
import { http } from './agent-harness';
import type { HttpAnswer } from './agent-harness';

export const BIN = join(__dirname, '..', '..', '..', 'bin', 'ukey-agent.js');

export interface ServeChild {
  child: ChildProcess;
  /** The first JSON line's data (jsapi, consoleUrl, demo, …). */
  data: {
    jsapi: string;
    consoleUrl: string;
    demo: { seals: Record<string, string>; pin: string; platform: string };
  };
  /** Asks the agent for a fresh one-time link (SIGUSR1). */
  newLink(): Promise<string>;
  stop(): Promise<void>;
}

/** `ukey-agent serve --demo --console --json` on free ports, in `dataDir`. */
export async function startServeConsole(
  dataDir: string,
  extra: string[] = [],
): Promise<ServeChild> {
  const child = spawn(
    process.execPath,
    [
      BIN,
      'serve',
      '--demo',
      '--console',
      '--json',
      '--port',
      '0',
      '--console-port',
      '0',
      '--data-dir',
      dataDir,
      ...extra,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const lines: string[] = [];
  const waiters: ((l: string) => void)[] = [];
  createInterface({ input: child.stdout! }).on('line', (l) => {
    const w = waiters.shift();
    if (w) w(l);
    else lines.push(l);
  });
  const nextLine = (): Promise<string> =>
    lines.length > 0
      ? Promise.resolve(lines.shift()!)
      : new Promise((resolve, reject) => {
          waiters.push(resolve);
          child.once('exit', (c) => reject(new Error(`serve exited ${c}: ${stderr}`)));
        });
  const first = JSON.parse(await nextLine()) as { data: ServeChild['data'] };
  return {
    child,
    data: first.data,
    newLink: async () => {
      child.kill('SIGUSR1');
      return (JSON.parse(await nextLine()) as { data: { consoleUrl: string } }).data.consoleUrl;
    },
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    },
  };
}

export interface Reply {
  status: number;
  code: string;
  message: string;
  data: unknown;
}

/** Every Set-Cookie header any answer to this helper carried, upgrades included (must stay empty). */
export const setCookiesSeen: string[] = [];

function noteCookies(headers: Record<string, string | string[] | undefined>): void {
  const set = headers['set-cookie'];
  if (set !== undefined) setCookiesSeen.push(...(Array.isArray(set) ? set : [set]));
}

/** http() that records Set-Cookie headers. */
export async function consoleHttp(
  port: number,
  method: string,
  path: string,
  opts: { body?: string | Buffer; headers?: Record<string, string> } = {},
): Promise<HttpAnswer> {
  const r = await http(port, method, path, opts);
  noteCookies(r.headers);
  return r;
}

/** The subprotocols the console page offers: the name the server selects and the session id. */
export const wsProtocols = (sessionId: string): string[] => ['ukey-console', `bearer.${sessionId}`];

export class ConsoleClient {
  readonly origin: string;

  constructor(
    readonly port: number,
    readonly sessionId: string,
  ) {
    this.origin = `http://127.0.0.1:${port}`;
  }

  get authorization(): string {
    return `Bearer ${this.sessionId}`;
  }

  /** POST /operator/session {token} as the console page does it (its Origin, JSON). */
  static redeem(
    port: number,
    token: string,
    headers: Record<string, string> = {},
  ): Promise<HttpAnswer> {
    return consoleHttp(port, 'POST', '/operator/session', {
      body: JSON.stringify({ token }),
      headers: {
        origin: `http://127.0.0.1:${port}`,
        'content-type': 'application/json',
        ...headers,
      },
    });
  }

  /** Redeems a one-time link's token for a session id, or throws with the status. */
  static async login(url: string): Promise<ConsoleClient> {
    const u = new URL(url);
    const r = await ConsoleClient.redeem(Number(u.port), u.searchParams.get('token') ?? '');
    const id = (r.json.data as { sessionId?: unknown } | null)?.sessionId;
    if (r.status !== 200 || r.json.code !== '0' || typeof id !== 'string')
      throw new Error(`login refused: ${r.status} ${r.json.code}`);
    return new ConsoleClient(Number(u.port), id);
  }

  raw(
    method: string,
    path: string,
    opts: { body?: string | Buffer; headers?: Record<string, string> } = {},
  ): Promise<HttpAnswer> {
    return consoleHttp(this.port, method, path, {
      ...opts,
      headers: { authorization: this.authorization, origin: this.origin, ...opts.headers },
    });
  }

  async call<K extends OperatorMethod>(
    method: K,
    request: OperatorRequest<K> | Record<string, unknown>,
  ): Promise<Reply> {
    const r = await this.raw('POST', '/operator/api', {
      body: JSON.stringify({ method, request }),
      headers: { 'content-type': 'application/json' },
    });
    return { status: r.status, ...r.json };
  }

  /** call(), insisting on code '0'. */
  async ok<T>(method: OperatorMethod, request: Record<string, unknown> = {}): Promise<T> {
    const r = await this.call(method, request);
    if (r.code !== '0') throw new Error(`${method}: ${r.code} ${r.message}`);
    return r.data as T;
  }

  async stage(
    name: string,
    body: Buffer,
  ): Promise<{ stagedId: string; name: string; size: number }> {
    const r = await this.raw('PUT', `/operator/stage?name=${encodeURIComponent(name)}`, {
      body,
      headers: { 'content-type': 'application/octet-stream' },
    });
    if (r.json.code !== '0') throw new Error(`stage: ${r.status} ${r.text}`);
    return r.json.data as { stagedId: string; name: string; size: number };
  }

  events(
    headers: Record<string, string> = {},
    protocols = wsProtocols(this.sessionId),
  ): Promise<EventStream> {
    return EventStream.open(this.port, { origin: this.origin, ...headers }, protocols);
  }
}

type Frame = { event: string; payload: Record<string, unknown> };

export class EventStream {
  private readonly frames: Frame[] = [];
  private readonly waiters: { pred: (f: Frame) => boolean; resolve: (f: Frame) => void }[] = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (d) => {
      const f = JSON.parse(d.toString()) as Frame;
      const i = this.waiters.findIndex((w) => w.pred(f));
      if (i >= 0) this.waiters.splice(i, 1)[0]!.resolve(f);
      else this.frames.push(f);
    });
  }

  /** Opens the stream; rejects with the HTTP status when the upgrade is refused. */
  static open(
    port: number,
    headers: Record<string, string>,
    protocols: string[] = [],
  ): Promise<EventStream> {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/operator/events`, protocols, { headers });
    ws.once('upgrade', (res) => noteCookies(res.headers));
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new EventStream(ws)));
      ws.once('unexpected-response', (_q, res) => {
        noteCookies(res.headers);
        reject(new Error(`refused ${res.statusCode}`));
      });
      ws.once('error', reject);
    });
  }

  next(
    event: string,
    pred: (p: Record<string, unknown>) => boolean = () => true,
    ms = 20_000,
  ): Promise<Frame['payload']> {
    const match = (f: Frame): boolean => f.event === event && pred(f.payload);
    const i = this.frames.findIndex(match);
    if (i >= 0) return Promise.resolve(this.frames.splice(i, 1)[0]!.payload);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no ${event} event in time`)), ms);
      this.waiters.push({ pred: match, resolve: (f) => (clearTimeout(t), resolve(f.payload)) });
    });
  }

  close(): void {
    this.ws.terminate();
  }
}
