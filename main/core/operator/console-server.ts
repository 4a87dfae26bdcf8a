/**
 * The headless console's loopback channel (docs/DESKTOP.md "Headless console"): on 127.0.0.1 only,
 * it serves the built operator UI and carries the same typed operator API as Electron's IPC. Every
 * request must name our own Host (DNS rebinding). The static UI holds no secret and is public; the
 * page trades the one-time start-up token for a session id (POST /operator/session) and sends it as
 * `Authorization: Bearer` on every /operator/* request (the WebSocket: subprotocol `bearer.<id>`).
 * There is no cookie at all: cookies are shared by every port of 127.0.0.1, so another local server
 * the browser visits would receive one and could replay it. Requests that change anything must also
 * come from our own Origin with a JSON body (or, for staging, a raw body) within the size limits.
 * Requests are validated by validateRequest exactly as IPC payloads are; faults never leak text.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { basename, join } from 'node:path';
import { WebSocketServer } from 'ws';
import type { WebSocket } from 'ws';
import { ResultCode } from '../../common/codes';
import { AgentError, toAgentError } from '../../common/errors';
import { isOperatorMethod, validateRequest } from '../../common/ipc-channels';
import type {
  OperatorApi,
  OperatorEvent,
  OperatorEvents,
  OperatorReply,
} from '../../common/operator-api';
import { ConsoleAuth, WS_PROTOCOL, bearerOf, wsSessionOf } from './console-auth';
import { PLACEHOLDER_HTML, staticFile, staticHeaders } from './console-static';
import { StageTooLarge } from './staging';
import type { StagingArea } from './staging';

export const DEFAULT_CONSOLE_PORT = 18789;
export const API_MAX_BYTES = 1024 * 1024;
const SESSION_MAX_BYTES = 1024;
const WS_MAX_FRAME = 1024;
/** A download ticket's life: long enough for the browser to follow the link, no longer. */
const TICKET_MS = 60_000;

/** Where `npm run build:renderer` puts the UI, seen from dist/main/core/operator/. */
export const DEFAULT_STATIC_DIR = join(__dirname, '..', '..', '..', 'renderer');

export interface ConsoleServerOptions {
  service: OperatorApi;
  staging: StagingArea;
  /** 0 = a free port (tests). */
  port?: number;
  staticDir?: string;
  auth?: ConsoleAuth;
  /** A finished download job's file, for GET /operator/download/<jobId>. */
  downloadOf?: (jobId: number) => { path: string; name: string } | undefined;
  log?: (msg: string, detail?: unknown) => void;
}

export interface ConsoleServer {
  readonly port: number;
  readonly origin: string;
  /** A fresh one-time URL (`/?token=…`, 5 minutes, single use). */
  issueUrl(): string;
  /** Pushes an event to every connected console. */
  publish<E extends OperatorEvent>(event: E, payload: OperatorEvents[E]): void;
  close(): Promise<void>;
}

type Refusal = { status: number; code: Exclude<ResultCode, '0'>; message: string };

const refusal = (status: number, code: Exclude<ResultCode, '0'>, message: string): Refusal => ({
  status,
  code,
  message,
});

const API_HEADERS = {
  'Content-Type': 'application/json; charset=utf-8',
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
};

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...API_HEADERS, 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function sendRefusal(res: ServerResponse, r: Refusal): void {
  sendJson(res, r.status, { code: r.code, message: r.message, data: null });
}

/** Reads a body of at most `max` bytes; undefined when larger (the rest is drained, not stored). */
function readBody(req: IncomingMessage, max: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) over = true;
      else chunks.push(c);
    });
    req.on('end', () => resolve(over ? undefined : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export function startConsoleServer(o: ConsoleServerOptions): Promise<ConsoleServer> {
  const auth = o.auth ?? new ConsoleAuth();
  const staticDir = o.staticDir ?? DEFAULT_STATIC_DIR;
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: WS_MAX_FRAME,
    // The client offers ['ukey-console', 'bearer.<id>']: only the first is ever echoed back.
    handleProtocols: (offered) => (offered.has(WS_PROTOCOL) ? WS_PROTOCOL : false),
  });
  const clients = new Set<WebSocket>();
  let port = 0;
  /**
   * One-time download tickets (POST /operator/download/<id>/ticket, with the session): a plain
   * link can carry neither a header nor, by design, a cookie, and a link is what lets the browser
   * stream a large file to disk instead of holding it in the page's memory.
   */
  const tickets = new Map<string, { jobId: number; until: number }>();

  const hosts = (): string[] => [`127.0.0.1:${port}`, `localhost:${port}`];
  const origins = (): string[] => hosts().map((h) => `http://${h}`);
  const hostOk = (req: IncomingMessage): boolean => hosts().includes(req.headers.host ?? '');
  const originOk = (req: IncomingMessage): boolean => origins().includes(req.headers.origin ?? '');
  /** Only the Authorization header counts: a Cookie header is never read. */
  const sessionOk = (req: IncomingMessage): boolean =>
    auth.check(bearerOf(req.headers.authorization));
  const NO_SESSION = refusal(
    401,
    ResultCode.APP_NOT_ALLOWED,
    'no console session: open the console with its one-time link',
  );
  const FOREIGN_ORIGIN = refusal(
    403,
    ResultCode.APP_NOT_ALLOWED,
    'requests must come from the console page',
  );

  /** Origin check for requests that act (API, staging): the console's own page only. */
  const actingRefusal = (req: IncomingMessage): Refusal | undefined => {
    if (!sessionOk(req)) return NO_SESSION;
    if (!originOk(req)) return FOREIGN_ORIGIN;
    return undefined;
  };

  /** A JSON body of at most `max` bytes, or undefined once a refusal has been sent. */
  async function jsonBody(
    req: IncomingMessage,
    res: ServerResponse,
    max: number,
    tooLarge: string,
  ): Promise<Buffer | undefined> {
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/json') {
      sendRefusal(res, refusal(415, ResultCode.BAD_PARAM, 'Content-Type must be application/json'));
      return undefined;
    }
    if (Number(req.headers['content-length'] ?? 0) > max) {
      res.setHeader('Connection', 'close');
      sendRefusal(res, refusal(413, ResultCode.BAD_PARAM, tooLarge));
      req.destroy();
      return undefined;
    }
    const body = await readBody(req, max);
    if (!body) sendRefusal(res, refusal(413, ResultCode.BAD_PARAM, tooLarge));
    return body;
  }

  /** POST /operator/session {token}: spends a one-time token for a session id (the only answer carrying one). */
  async function openSession(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!originOk(req)) return sendRefusal(res, FOREIGN_ORIGIN);
    const body = await jsonBody(req, res, SESSION_MAX_BYTES, 'the request is too large');
    if (!body) return;
    let token: unknown;
    try {
      const p = JSON.parse(body.toString('utf8')) as unknown;
      if (typeof p === 'object' && p !== null && !Array.isArray(p) && Object.keys(p).length === 1)
        token = (p as { token?: unknown }).token;
    } catch {
      token = undefined;
    }
    if (typeof token !== 'string')
      return sendRefusal(res, refusal(400, ResultCode.BAD_PARAM, 'the body must be {token}'));
    const sessionId = auth.redeem(token);
    if (!sessionId)
      return sendRefusal(
        res,
        refusal(
          401,
          ResultCode.APP_NOT_ALLOWED,
          'this console link is not valid any more (used, expired or unknown): `kill -USR1 <pid>` prints a new one',
        ),
      );
    sendJson(res, 200, { code: ResultCode.OK, message: 'ok', data: { sessionId } });
  }

  async function api(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const refused = actingRefusal(req);
    if (refused) return sendRefusal(res, refused);
    const body = await jsonBody(
      req,
      res,
      API_MAX_BYTES,
      'the request is too large (1 MiB): stage files with PUT /operator/stage',
    );
    if (!body) return;
    let reply: OperatorReply<unknown>;
    let method: unknown;
    try {
      let parsed: unknown;
      try {
        parsed = JSON.parse(body.toString('utf8'));
      } catch {
        throw new AgentError(ResultCode.BAD_PARAM, 'the body is not JSON');
      }
      const p = parsed as { method?: unknown; request?: unknown } | null;
      if (typeof p !== 'object' || p === null || Array.isArray(p))
        throw new AgentError(ResultCode.BAD_PARAM, 'the body must be {method, request}');
      for (const k of Object.keys(p))
        if (k !== 'method' && k !== 'request')
          throw new AgentError(ResultCode.BAD_PARAM, `body.${k} is unknown`);
      method = p.method;
      if (!isOperatorMethod(method))
        throw new AgentError(ResultCode.BAD_PARAM, 'unknown operator method');
      const request = validateRequest(method, p.request ?? {});
      const call = o.service[method] as (r: unknown) => Promise<unknown>;
      const data = await call(request);
      reply = { code: ResultCode.OK, message: 'ok', data: data === undefined ? null : data };
    } catch (e) {
      const err = toAgentError(e);
      if (err.code === ResultCode.INTERNAL)
        o.log?.(`console ${String(method)} failed`, err.detail ?? e);
      reply = { code: err.code as Exclude<ResultCode, '0'>, message: err.message, data: null };
    }
    sendJson(res, 200, reply);
  }

  async function stage(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const refused = actingRefusal(req);
    if (refused) return sendRefusal(res, refused);
    const name = url.searchParams.get('name');
    if (!name)
      return sendRefusal(
        res,
        refusal(400, ResultCode.BAD_PARAM, 'name is needed: /operator/stage?name=<file>'),
      );
    const declared = req.headers['content-length'];
    try {
      const staged = await o.staging.put(
        req,
        name,
        declared === undefined ? undefined : Number(declared),
      );
      sendJson(res, 200, { code: ResultCode.OK, message: 'ok', data: staged });
    } catch (e) {
      if (e instanceof StageTooLarge) {
        res.setHeader('Connection', 'close');
        sendRefusal(res, refusal(413, ResultCode.BAD_PARAM, 'the file is too large (2 GiB)'));
        req.destroy();
        return;
      }
      o.log?.('console staging failed', e);
      sendRefusal(res, refusal(500, ResultCode.INTERNAL, 'internal error'));
    }
  }

  const finished = (id: string): { path: string; name: string } | undefined => {
    const jobId = Number(id);
    const hit = Number.isSafeInteger(jobId) && jobId > 0 ? o.downloadOf?.(jobId) : undefined;
    return hit && existsSync(hit.path) ? hit : undefined;
  };
  const NO_DOWNLOAD = refusal(404, ResultCode.BAD_PARAM, 'no finished download with this id');

  /** POST /operator/download/<id>/ticket: a link for that file, good once within a minute. */
  function issueTicket(req: IncomingMessage, res: ServerResponse, id: string): void {
    const refused = actingRefusal(req);
    if (refused) return sendRefusal(res, refused);
    if (!finished(id)) return sendRefusal(res, NO_DOWNLOAD);
    const now = Date.now();
    for (const [k, t] of tickets) if (t.until <= now) tickets.delete(k);
    if (tickets.size >= 64)
      return sendRefusal(res, refusal(429, ResultCode.RATE_LIMITED, 'too many downloads at once'));
    const ticket = randomBytes(16).toString('hex');
    tickets.set(ticket, { jobId: Number(id), until: now + TICKET_MS });
    sendJson(res, 200, {
      code: ResultCode.OK,
      message: 'ok',
      data: { url: `/operator/download/${Number(id)}?ticket=${ticket}` },
    });
  }

  /** Spends the request's ticket for job `id`; true when it was valid. */
  const ticketOk = (url: URL, id: string): boolean => {
    const ticket = url.searchParams.get('ticket') ?? '';
    const t = tickets.get(ticket);
    if (!t) return false;
    tickets.delete(ticket); // once, whatever follows
    return t.jobId === Number(id) && t.until > Date.now();
  };

  /**
   * GET /operator/download/<id> with the session header (fetch) or a ticket (a link). No Origin
   * check beyond refusing a foreign one: a same-origin GET sends none.
   */
  function download(req: IncomingMessage, res: ServerResponse, id: string): void {
    if (req.headers.origin !== undefined && !originOk(req)) return sendRefusal(res, FOREIGN_ORIGIN);
    const hit = finished(id);
    if (!hit) return sendRefusal(res, NO_DOWNLOAD);
    const ascii = basename(hit.name).replace(/[^\x20-\x7e]|["\\]/g, '_');
    res.writeHead(200, {
      'Content-Type': 'application/octet-stream',
      'Content-Length': statSync(hit.path).size,
      'Content-Disposition': `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(hit.name)}`,
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
    });
    createReadStream(hit.path).pipe(res);
  }

  function serveStatic(res: ServerResponse, pathname: string, head: boolean): void {
    const headers = staticHeaders(port);
    const hit = staticFile(staticDir, pathname);
    if (!hit) {
      if (pathname === '/' || pathname === '/index.html') {
        res.writeHead(200, { ...headers, 'Content-Type': 'text/html; charset=utf-8' });
        return void res.end(head ? undefined : PLACEHOLDER_HTML);
      }
      res.writeHead(404, { ...headers, 'Content-Type': 'text/plain; charset=utf-8' });
      return void res.end(head ? undefined : 'not found');
    }
    res.writeHead(200, {
      ...headers,
      'Content-Type': hit.type,
      'Content-Length': statSync(hit.file).size,
    });
    if (head) return void res.end();
    createReadStream(hit.file).pipe(res);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!hostOk(req)) {
      return sendRefusal(res, refusal(403, ResultCode.APP_NOT_ALLOWED, 'wrong Host'));
    }
    const url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
    const path = url.pathname;
    const isOperator = path.startsWith('/operator/');

    if (!isOperator) {
      // The UI itself (`/?token=…` included: the page reads the token, the server does not).
      if (req.method !== 'GET' && req.method !== 'HEAD')
        return sendRefusal(res, refusal(405, ResultCode.BAD_PARAM, 'GET only'));
      return serveStatic(res, path, req.method === 'HEAD');
    }
    if (path === '/operator/session') {
      if (req.method !== 'POST')
        return sendRefusal(res, refusal(405, ResultCode.BAD_PARAM, 'POST only'));
      return openSession(req, res);
    }
    const dl = /^\/operator\/download\/(\d{1,15})$/.exec(path);
    if (dl && req.method === 'GET' && url.searchParams.has('ticket')) {
      if (!ticketOk(url, dl[1]!))
        return sendRefusal(
          res,
          refusal(401, ResultCode.APP_NOT_ALLOWED, 'this download link was used or has expired'),
        );
      return download(req, res, dl[1]!);
    }
    if (!sessionOk(req)) return sendRefusal(res, NO_SESSION);
    if (path === '/operator/api') {
      if (req.method !== 'POST')
        return sendRefusal(res, refusal(405, ResultCode.BAD_PARAM, 'POST only'));
      return api(req, res);
    }
    if (path === '/operator/stage') {
      if (req.method !== 'PUT')
        return sendRefusal(res, refusal(405, ResultCode.BAD_PARAM, 'PUT only'));
      return stage(req, res, url);
    }
    if (dl && req.method === 'GET') return download(req, res, dl[1]!);
    const tk = /^\/operator\/download\/(\d{1,15})\/ticket$/.exec(path);
    if (tk && req.method === 'POST') return issueTicket(req, res, tk[1]!);
    sendRefusal(res, refusal(404, ResultCode.BAD_PARAM, 'no such endpoint'));
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      o.log?.('console request failed', e);
      if (!res.headersSent) sendRefusal(res, refusal(500, ResultCode.INTERNAL, 'internal error'));
      else res.destroy();
    });
  });
  server.requestTimeout = 0; // staging uploads may be long; the idle socket timeout still applies
  server.headersTimeout = 30_000;

  const refuseUpgrade = (socket: Duplex, status: number, text: string): void => {
    socket.end(
      `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${text.length}\r\n\r\n${text}`,
    );
  };
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => undefined);
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    if (!hostOk(req)) return refuseUpgrade(socket, 403, 'Forbidden');
    if (path !== '/operator/events') return refuseUpgrade(socket, 404, 'Not Found');
    if (!auth.check(wsSessionOf(req.headers['sec-websocket-protocol'])))
      return refuseUpgrade(socket, 401, 'Unauthorized');
    // Cross-site WebSocket hijacking: the session alone is not enough.
    if (!originOk(req)) return refuseUpgrade(socket, 403, 'Forbidden');
    wss.handleUpgrade(req, socket, head, (ws) => {
      clients.add(ws);
      ws.on('message', () => undefined); // client frames are ignored; oversize ones close it (ws)
      ws.on('error', () => undefined);
      ws.on('close', () => clients.delete(ws));
    });
  });

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? DEFAULT_CONSOLE_PORT, '127.0.0.1', () => {
      server.off('error', reject);
      port = (server.address() as AddressInfo).port;
      resolve({
        port,
        origin: `http://127.0.0.1:${port}`,
        issueUrl: () => `http://127.0.0.1:${port}/?token=${auth.issueToken()}`,
        publish: (event, payload) => {
          const frame = JSON.stringify({ event, payload });
          for (const ws of clients) if (ws.readyState === ws.OPEN) ws.send(frame);
        },
        close: () =>
          new Promise<void>((done) => {
            for (const ws of clients) ws.terminate();
            wss.close();
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
