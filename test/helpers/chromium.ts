// Real-browser tests of the JSAPI SDK: builds the SDK's browser bundle once, serves test pages
// from loopback origins, and launches the system Chromium through playwright-core.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser } from 'playwright-core';

/** The repository root (this file runs as dist/test/helpers/chromium.js). */
export const REPO_ROOT = join(__dirname, '..', '..', '..');
const SDK_DIR = join(REPO_ROOT, 'sdk', 'jsapi-client');
export const SDK_DIST = join(SDK_DIR, 'dist');

let built = false;

/**
 * Builds sdk/jsapi-client's browser ES modules into its dist/ (sdk/jsapi-client/build.mjs: esbuild
 * bundles in main/common's contract files, tsc writes the declarations; the root build is CommonJS
 * and does not emit it). Once per process; about 2 s.
 */
export function buildSdk(): void {
  if (built) return;
  const r = spawnSync(process.execPath, [join(SDK_DIR, 'build.mjs')], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`SDK build failed:\n${r.stdout}${r.stderr}`);
  built = true;
}

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** CI=true (or any value but '', 'false', '0'), as CI services set it. */
function inCi(): boolean {
  const v = process.env.CI?.trim().toLowerCase();
  return v !== undefined && v !== '' && v !== 'false' && v !== '0';
}

function noChromium(): string {
  const where = `no Chromium at ${CHROMIUM_PATH}`;
  return inCi()
    ? `Chromium is required in CI: run scripts/setup.sh (${where})`
    : `${where} (run scripts/setup.sh)`;
}

/**
 * Why browser tests must skip (`{ skip: chromiumMissing() }`), or false when they can run. Locally
 * a missing Chromium skips them with the reason; in CI it throws, so the test file fails at once,
 * before it starts any agent or server, instead of passing with its browser tests skipped.
 */
export function chromiumMissing(): string | false {
  if (existsSync(CHROMIUM_PATH)) return false;
  if (inCi()) throw new Error(noChromium());
  return noChromium();
}

export function launchChromium(): Promise<Browser> {
  // For callers that did not ask chromiumMissing() first: the same clear message, not playwright's.
  if (!existsSync(CHROMIUM_PATH)) return Promise.reject(new Error(noChromium()));
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--headless=new',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Handles app-server routes (return false to fall through to the static files). */
export type AppRoute = (
  req: IncomingMessage,
  body: string,
  res: ServerResponse,
) => Promise<boolean> | boolean;

export interface PageServer {
  port: number;
  /** `http://127.0.0.1:<port>` — what the browser sends as Origin. */
  origin: string;
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json',
};

/** The test page: loads the SDK as an ES module and exposes it as `globalThis.sdk`. */
export const TEST_PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>JSAPI SDK test</title></head>
<body><script type="module">
import * as sdk from '/sdk/index.js';
globalThis.sdk = sdk;
globalThis.sdkReady = true;
</script></body></html>`;

/**
 * A web app's server on a loopback port: `/` the test page, `/sdk/*` the built SDK, and `route`
 * for the app's own endpoints (its server-side request signing).
 */
export async function startPageServer(route: AppRoute): Promise<PageServer> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        try {
          if (await route(req, Buffer.concat(chunks).toString('utf8'), res)) return;
          const path = new URL(req.url ?? '/', 'http://x').pathname;
          if (path === '/' || path === '/index.html') return send(res, 200, '.html', TEST_PAGE);
          if (path.startsWith('/sdk/')) {
            const file = normalize(join(SDK_DIST, path.slice('/sdk/'.length)));
            if (file.startsWith(SDK_DIST + sep) && existsSync(file))
              return send(res, 200, extname(file), readFileSync(file));
          }
          send(res, 404, '.html', 'not found');
        } catch (e) {
          send(res, 500, '.html', String(e));
        }
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    port,
    origin: `http://127.0.0.1:${port}`,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

function send(res: ServerResponse, status: number, ext: string, body: string | Buffer): void {
  res.writeHead(status, {
    'content-type': TYPES[ext] ?? 'application/octet-stream',
    'cache-control': 'no-store',
  });
  res.end(body);
}
