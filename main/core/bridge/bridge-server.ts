import { createServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { WebSocket, RawData } from 'ws';
import { AgentError, badParam, toAgentError } from '../../common/errors';
import { ResultCode, httpStatusOf } from '../../common/codes';
import type { Envelope } from '../../common/codes';
import { JSAPI_PATHS } from '../../common/jsapi';
import type { WsAnswer, WsEvent } from '../../common/jsapi';
import type { TokenService } from '../token/token-service';
import type { CallerRegistry, JsapiService } from './jsapi-service';
import type { PairingService } from './pairing';
import type { Body } from './fields';
import { RateLimiter } from './rate-limit';
import { answerClientError, rawEnvelope } from './raw-answer';

export interface BridgeOptions {
  service: JsapiService;
  /** POST /api/v1/pair (docs/JSAPI.md "Pairing"); absent: 404 like any unknown path. */
  pairing?: Pick<PairingService, 'request'>;
  apps: CallerRegistry;
  tokens: TokenService;
  /** 0 picks a free port (tests). */
  port: number;
  maxBodyBytes?: number;
  maxFrameBytes?: number;
  /** Requests per second per origin, and the burst allowed. */
  ratePerSecond?: number;
  rateBurst?: number;
  /** Where internal faults are logged locally (never sent to callers). */
  log?: (msg: string, detail?: unknown) => void;
  /** HTTPS/WSS on a second port (0: a free one) with the local TLS identity (local-tls.ts). */
  tls?: { port: number; key: string; cert: string };
}

export interface Bridge {
  readonly port: number;
  readonly url: string;
  /** The HTTPS/WSS port and URL when TLS was asked for. */
  readonly tlsPort?: number;
  readonly tlsUrl?: string;
  close(): Promise<void>;
}

/** The only address the bridge ever binds: never 0.0.0.0 or :: (CONTRACT §3). */
export const BRIDGE_HOST = '127.0.0.1';

const JSON_TYPE = /^application\/json\s*(;\s*charset=utf-8\s*)?$/i;

/**
 * The JSAPI over HTTP and WebSocket on 127.0.0.1, with the defences a localhost agent needs against
 * hostile pages: Host allowlist (DNS rebinding), exact Origin allowlist per app, CORS and
 * Private-Network answers to allowed origins only, JSON content type only, size and rate limits.
 */
export async function startBridge(o: BridgeOptions): Promise<Bridge> {
  const maxBody = o.maxBodyBytes ?? 256 * 1024;
  const limiter = new RateLimiter(o.ratePerSecond ?? 20, o.rateBurst ?? 40);
  const log = o.log ?? (() => undefined);
  let port = o.port;
  let tlsPort = -1;

  // The Host must name the very port the request came in on (DNS rebinding), on exactly one Host
  // line: Node keeps the first of several, a proxy might use another.
  const hostAllowed = (req: IncomingMessage): boolean => {
    const localPort = req.socket.localPort;
    const host = req.headers.host;
    const lines = req.rawHeaders.filter((v, i) => i % 2 === 0 && v.toLowerCase() === 'host');
    return (
      lines.length === 1 &&
      (localPort === port || localPort === tlsPort) &&
      (host === `127.0.0.1:${localPort}` || host === `localhost:${localPort}`)
    );
  };

  /**
   * CORS answers registered origins only — except on the pairing path (`open`), the one call an
   * unknown origin may make, since asking to be trusted is what it is for.
   */
  const corsAllowed = (origin: string | undefined, open = false): origin is string =>
    origin !== undefined && origin !== 'null' && (open || o.apps.isKnownOrigin(origin));
  const corsHeaders = (origin: string | undefined, open = false): Record<string, string> =>
    corsAllowed(origin, open)
      ? { 'Access-Control-Allow-Origin': origin, Vary: 'Origin' }
      : { Vary: 'Origin' };

  const send = (
    res: ServerResponse,
    origin: string | undefined,
    env: Envelope,
    status?: number,
    open = false,
  ): void => {
    const body = JSON.stringify(env);
    res.writeHead(status ?? httpStatusOf[env.code], {
      'Content-Type': 'application/json; charset=utf-8',
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
      ...corsHeaders(origin, open),
    });
    res.end(body);
  };

  const fail = (
    res: ServerResponse,
    origin: string | undefined,
    e: unknown,
    status?: number,
    open = false,
  ): void => {
    const err = toAgentError(e);
    if (err.code === ResultCode.INTERNAL) log('internal error', err.detail);
    send(res, origin, err.toEnvelope(), status, open);
  };

  const tooLarge = (): AgentError =>
    Object.assign(badParam(`the body exceeds ${maxBody} bytes`), { status: 413, closeAfter: true });

  /** The body up to maxBody; a larger one is answered 413 and the connection closed after. */
  const readBody = (req: IncomingMessage): Promise<Buffer> =>
    new Promise((resolve, reject) => {
      const declared = Number(req.headers['content-length'] ?? 0);
      if (declared > maxBody) return reject(tooLarge());
      const chunks: Buffer[] = [];
      let size = 0;
      const onData = (c: Buffer): void => {
        size += c.length;
        if (size > maxBody) {
          // Stop reading but keep the socket: the caller gets its 413 before we close it.
          req.off('data', onData);
          req.pause();
          reject(tooLarge());
          return;
        }
        chunks.push(c);
      };
      req.on('data', onData);
      req.on('end', () => resolve(Buffer.concat(chunks)));
      // A client that gives up mid-body is not an internal fault.
      req.on('error', () =>
        reject(Object.assign(badParam('the request was aborted'), { closeAfter: true })),
      );
      req.on('aborted', () =>
        reject(Object.assign(badParam('the request was aborted'), { closeAfter: true })),
      );
    });

  const parseJson = (raw: Buffer): Body => {
    let v: unknown;
    try {
      v = JSON.parse(raw.toString('utf8'));
    } catch {
      throw badParam('the body is not valid JSON');
    }
    if (!v || typeof v !== 'object' || Array.isArray(v))
      throw badParam('the body must be a JSON object');
    return v as Body;
  };

  const rateKey = (origin: string | undefined): string => origin ?? '(no origin)';

  // Slow clients may not hold sockets open: headers within 5 s, the whole request within 15 s,
  // checked every second (Node's default check runs only every 30 s), and idle sockets closed.
  const serverOptions = {
    headersTimeout: 5_000,
    requestTimeout: 15_000,
    connectionsCheckingInterval: 1_000,
    keepAliveTimeout: 5_000,
    // A missing Host is answered by the Host check below (403 / 1005), not by Node's bare 400.
    requireHostHeader: false,
  };
  /** The last answer made on each socket: a client error may only be answered between answers. */
  const answers = new WeakMap<Duplex, ServerResponse>();
  const onRequest = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const origin = req.headers.origin;
    answers.set(req.socket, res);
    let open = false;
    try {
      if (!hostAllowed(req)) {
        // A rebinding page reaches us under its own host name: refuse before anything else.
        return send(
          res,
          undefined,
          new AgentError(ResultCode.APP_NOT_ALLOWED, 'Host not allowed').toEnvelope(),
        );
      }
      const path = (req.url ?? '').split('?')[0];
      open = path === JSAPI_PATHS.pair && o.pairing !== undefined;
      if (req.method === 'OPTIONS') return preflight(req, res, origin, open);
      if (path === JSAPI_PATHS.status && req.method === 'GET') {
        return send(res, origin, {
          code: ResultCode.OK,
          message: 'ok',
          data: o.service.status(),
        });
      }
      const method =
        path === JSAPI_PATHS.info
          ? 'ukey.info'
          : path === JSAPI_PATHS.sign
            ? 'ukey.sign'
            : open
              ? 'pair'
              : undefined;
      if (!method)
        return send(
          res,
          origin,
          { code: ResultCode.BAD_PARAM, message: 'no such interface', data: null },
          404,
        );
      if (req.method !== 'POST') {
        res.setHeader('Allow', 'POST');
        return send(
          res,
          origin,
          { code: ResultCode.BAD_PARAM, message: `${path} takes POST`, data: null },
          405,
          open,
        );
      }
      if (!JSON_TYPE.test(String(req.headers['content-type'] ?? ''))) {
        // text/plain and form posts are the CSRF vectors that skip preflight.
        return send(
          res,
          origin,
          badParam('Content-Type must be application/json').toEnvelope(),
          415,
          open,
        );
      }
      if (!limiter.take(rateKey(origin))) {
        return send(
          res,
          origin,
          new AgentError(
            ResultCode.RATE_LIMITED,
            'too many requests from this origin',
          ).toEnvelope(),
          undefined,
          open,
        );
      }
      const body = parseJson(await readBody(req));
      // The request timed out while its body arrived and was answered 408 already (clientError).
      if (req.socket.writableEnded) return;
      const data =
        method === 'pair'
          ? await o.pairing!.request(body, origin)
          : await o.service.call(method, body, { origin, transport: 'http' });
      send(res, origin, { code: ResultCode.OK, message: 'ok', data }, undefined, open);
    } catch (e) {
      if ((e as { closeAfter?: boolean }).closeAfter) {
        res.setHeader('Connection', 'close');
        res.on('finish', () => req.socket.destroy());
      }
      if (!res.writableEnded && !req.socket.destroyed)
        fail(res, origin, e, (e as { status?: number }).status, open);
    }
  };
  const server: Server = createServer(serverOptions, onRequest);
  const servers: Server[] = [server];
  if (o.tls) {
    servers.push(
      createHttpsServer({ ...serverOptions, key: o.tls.key, cert: o.tls.cert }, onRequest),
    );
  }

  function preflight(
    req: IncomingMessage,
    res: ServerResponse,
    origin: string | undefined,
    open: boolean,
  ): void {
    if (!corsAllowed(origin, open)) {
      res.writeHead(403, { Vary: 'Origin' });
      res.end();
      return;
    }
    const headers: Record<string, string> = {
      'Access-Control-Allow-Origin': origin,
      'Access-Control-Allow-Methods': 'GET, POST',
      'Access-Control-Allow-Headers': 'Content-Type',
      'Access-Control-Max-Age': '600',
      Vary: 'Origin',
    };
    if (req.headers['access-control-request-private-network'] === 'true') {
      headers['Access-Control-Allow-Private-Network'] = 'true';
    }
    res.writeHead(204, headers);
    res.end();
  }

  for (const srv of servers) srv.setTimeout(10_000, (socket) => socket.destroy());
  // Requests Node's parser refuses and clients cut off by headersTimeout / requestTimeout get the
  // contract envelope too (1001 with 400, 408, 413 or 431), never Node's bare answer or error text.
  for (const srv of servers) {
    srv.on('clientError', (err: Error & { code?: string }, socket: Duplex) =>
      answerClientError(err, socket, answers.get(socket)),
    );
  }

  const wss = new WebSocketServer({ noServer: true, maxPayload: o.maxFrameBytes ?? 256 * 1024 });
  const sockets = new Set<WebSocket>();

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const origin = req.headers.origin;
    const path = (req.url ?? '').split('?')[0];
    const refuse = (status: number, code: ResultCode, message: string): void => {
      socket.end(rawEnvelope(status, { code, message, data: null }));
    };
    if (!hostAllowed(req)) return refuse(403, ResultCode.APP_NOT_ALLOWED, 'Host not allowed');
    if (path !== JSAPI_PATHS.ws) return refuse(404, ResultCode.BAD_PARAM, 'no such interface');
    // Cross-origin WebSocket hijacking: only origins some app registered may even connect.
    if (!origin || origin === 'null' || !o.apps.isKnownOrigin(origin))
      return refuse(403, ResultCode.APP_NOT_ALLOWED, 'origin not allowed');
    // A WebSocket legitimately idles while waiting for events: the HTTP idle timeout does not apply.
    (socket as Duplex & { setTimeout?: (ms: number) => void }).setTimeout?.(0);
    wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws, origin));
  };
  for (const srv of servers) srv.on('upgrade', onUpgrade);

  function onConnection(ws: WebSocket, origin: string): void {
    sockets.add(ws);
    let inFlight = 0;
    ws.on('close', () => sockets.delete(ws));
    ws.on('error', () => ws.terminate());
    ws.on('message', async (raw: RawData, isBinary: boolean) => {
      let id: WsAnswer['id'] = null;
      const answer = (a: WsAnswer): void => {
        if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(a));
      };
      try {
        if (isBinary) throw badParam('frames must be JSON text');
        let frame: unknown;
        try {
          frame = JSON.parse(raw.toString());
        } catch {
          throw badParam('the frame is not valid JSON');
        }
        if (!frame || typeof frame !== 'object' || Array.isArray(frame))
          throw badParam('the frame must be a JSON object');
        const f = frame as Record<string, unknown>;
        if (typeof f.id === 'string' || typeof f.id === 'number') id = f.id;
        else throw badParam('id must be a string or a number');
        if (!limiter.take(rateKey(origin)))
          throw new AgentError(ResultCode.RATE_LIMITED, 'too many requests from this origin');
        if (inFlight >= 8)
          throw new AgentError(
            ResultCode.RATE_LIMITED,
            'too many requests in flight on this connection',
          );
        const params = f.params ?? {};
        if (!params || typeof params !== 'object' || Array.isArray(params))
          throw badParam('params must be a JSON object');
        let data: unknown;
        inFlight++;
        try {
          if (f.method === 'status') data = o.service.status();
          else if (f.method === 'ukey.info' || f.method === 'ukey.sign') {
            data = await o.service.call(f.method, params as Body, { origin, transport: 'ws' });
          } else throw badParam('method must be ukey.info, ukey.sign or status');
        } finally {
          inFlight--;
        }
        answer({ id, code: ResultCode.OK, message: 'ok', data });
      } catch (e) {
        const err = toAgentError(e);
        if (err.code === ResultCode.INTERNAL) log('internal error', err.detail);
        answer({ id, code: err.code, message: err.message, data: null });
      }
    });
  }

  const push = (event: WsEvent['event']) => (e: { ukeyId: string }) => {
    const frame = JSON.stringify({ event, data: { UKeyId: e.ukeyId } } satisfies WsEvent);
    for (const ws of sockets) if (ws.readyState === ws.OPEN) ws.send(frame);
  };
  const onInserted = push('ukey.inserted');
  const onRemoved = push('ukey.removed');
  o.tokens.on('inserted', onInserted);
  o.tokens.on('removed', onRemoved);

  const listen = (srv: Server, wanted: number): Promise<number> =>
    new Promise<number>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen({ port: wanted, host: BRIDGE_HOST, exclusive: true }, () => {
        srv.off('error', reject);
        const addr = srv.address();
        resolve(typeof addr === 'object' && addr ? addr.port : wanted);
      });
    });
  port = await listen(server, o.port);
  if (o.tls) {
    try {
      tlsPort = await listen(servers[1]!, o.tls.port);
    } catch (e) {
      server.close();
      throw e;
    }
  }
  const closeServer = (srv: Server): Promise<void> => {
    srv.closeAllConnections();
    return new Promise<void>((resolve) => srv.close(() => resolve()));
  };

  return {
    port,
    url: `http://127.0.0.1:${port}`,
    ...(o.tls ? { tlsPort, tlsUrl: `https://localhost:${tlsPort}` } : {}),
    close: async () => {
      o.tokens.off('inserted', onInserted);
      o.tokens.off('removed', onRemoved);
      for (const ws of sockets) ws.terminate();
      wss.close();
      await Promise.all(servers.map(closeServer));
    },
  };
}
