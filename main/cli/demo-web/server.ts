// The demo web app's HTTP server on loopback: the page, the SDK's modules, and a small JSON API that
// the page calls (the app's own back end; the agent is called by the page, never by this server).
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ResultCode } from '../../common/codes';
import { badParam, toAgentError } from '../../common/errors';
import { DEMO_APP_ID } from '../demo-world';
import { createDemoApp } from './demo-app';
import type { DemoApp } from './demo-app';
import { ensureSdkBuilt, repoRoot, staticFile } from './static-files';

export interface DemoWebOptions {
  dataDir: string;
  /** 18790: the origin `serve --demo` registers for the demo app. 0 picks a free port. */
  port: number;
  /** The agent's JSAPI port the page connects to. */
  agentPort: number;
  host?: string;
}

export interface DemoWebServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

const MAX_BODY = 1 << 20;

class HttpError extends Error {}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new HttpError('request too large'));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
  });
  res.end(JSON.stringify(body));
}

const stringField = (o: unknown, name: string): string => {
  const v = (o as Record<string, unknown> | null)?.[name];
  if (typeof v !== 'string' || v === '') throw badParam(`${name} is required`);
  return v;
};

const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    throw badParam('the body is not JSON');
  }
};

/** The JSON API; answers false for paths that are not its own. */
async function api(
  app: DemoApp,
  opts: DemoWebOptions,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
): Promise<boolean> {
  const post = req.method === 'POST';
  if (path === '/api/config' && !post) {
    sendJson(res, 200, { appId: DEMO_APP_ID, agentPort: opts.agentPort });
  } else if (path === '/api/seals' && !post) {
    sendJson(res, 200, { seals: await app.listSeals() });
  } else if (path === '/api/sign-requests' && post) {
    const b = parseJson(await readBody(req));
    sendJson(
      res,
      200,
      await app.startSigning(stringField(b, 'UKeyId'), stringField(b, 'sealCode')),
    );
  } else if (/^\/api\/documents\/[\w-]+\/signature$/.test(path) && post) {
    const b = parseJson(await readBody(req));
    const id = path.split('/')[3]!;
    sendJson(res, 200, await app.finishSigning(id, stringField(b, 'signature')));
  } else if (/^\/api\/documents\/[\w-]+\/signed\.pdf$/.test(path) && !post) {
    const doc = app.signedPdf(path.split('/')[3]!);
    if (!doc) throw badParam('no signed document with this id');
    res.writeHead(200, {
      'content-type': 'application/pdf',
      'content-disposition': `attachment; filename="${doc.fileName}"`,
      'content-length': doc.pdf.length,
      'cache-control': 'no-store',
    });
    res.end(doc.pdf);
  } else return false;
  return true;
}

/** Starts the demo web app; resolves once it listens. */
export async function startDemoWeb(opts: DemoWebOptions): Promise<DemoWebServer> {
  const root = repoRoot();
  ensureSdkBuilt(root);
  const app = createDemoApp(opts.dataDir);
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    void (async () => {
      try {
        if (await api(app, opts, req, res, path)) return;
        const file = req.method === 'GET' ? staticFile(root, path) : undefined;
        if (!file) return sendJson(res, 404, { code: ResultCode.BAD_PARAM, message: 'not found' });
        res.writeHead(200, { 'content-type': file.type, 'cache-control': 'no-store' });
        res.end(file.body);
      } catch (e) {
        if (e instanceof HttpError) return sendJson(res, 413, { code: '1001', message: e.message });
        const err = toAgentError(e);
        // The page shows code and message: a platform refusal is the platform's, not ours.
        if (!res.headersSent)
          sendJson(res, err.httpStatus, { code: err.code, message: err.message });
        else res.destroy();
      }
    })();
  });
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : opts.port;
  return {
    url: `http://${host}:${port}`,
    port,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
