// The console page's session in real Chromium against a real `serve --demo --console`: the link's
// token leaves the address bar, the session lives in the tab's sessionStorage (a reload keeps it)
// and rides as `Authorization: Bearer`; the browser holds no cookie, so another server on another
// 127.0.0.1 port receives none; a used link, a tab without a link and a session the agent no longer
// knows each show how to get a new link.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { REPO_ROOT, chromiumMissing, launchChromium } from '../helpers/chromium';
import { startServeConsole } from '../helpers/console-client';
import type { ServeChild } from '../helpers/console-client';
import { tempDir } from '../helpers/dev-tokens';

const STORAGE_KEY = 'ukey-console-session';
const skip = chromiumMissing();

describe('console page: the session without cookies, in Chromium', { skip }, () => {
  let serve: ServeChild;
  let origin: string;
  let browser: Browser;
  let ctx: BrowserContext;
  let other: Server;
  let otherUrl: string;
  const cookiesAtOther: (string | undefined)[] = [];
  const pageErrors: string[] = [];

  before(async () => {
    // scripts/setup.sh builds the bundle; build it here only when it is missing.
    if (!existsSync(join(REPO_ROOT, 'dist', 'renderer', 'index.html'))) {
      const built = spawnSync(
        process.execPath,
        [join(REPO_ROOT, 'scripts', 'build-renderer.mjs')],
        { encoding: 'utf8' },
      );
      assert.equal(built.status, 0, built.stderr);
    }
    serve = await startServeConsole(tempDir('console-browser'));
    origin = new URL(serve.data.consoleUrl).origin;
    // Another local server, as a dev server or another user's process would be.
    other = createServer((req, res) => {
      cookiesAtOther.push(req.headers.cookie);
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<!doctype html><title>other</title><p>other local server</p>');
    });
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
    otherUrl = `http://127.0.0.1:${(other.address() as AddressInfo).port}/`;
    browser = await launchChromium();
    ctx = await browser.newContext();
  });

  after(async () => {
    await browser?.close();
    await new Promise((r) => other?.close(r));
    await serve?.stop();
  });

  const newPage = async (): Promise<Page> => {
    const p = await ctx.newPage();
    p.on('pageerror', (e) => pageErrors.push(e.message));
    return p;
  };
  const stored = (p: Page): Promise<unknown> =>
    p.evaluate(`sessionStorage.getItem(${JSON.stringify(STORAGE_KEY)})`);

  it('opens with the link: the token leaves the address bar, the bearer rides on every call, no cookie anywhere', async () => {
    const page = await newPage();
    const calls: { url: string; headers: Record<string, string> }[] = [];
    page.on('request', (r) => {
      if (r.url().includes('/operator/'))
        void r.allHeaders().then((headers) => calls.push({ url: r.url(), headers }));
    });
    await page.goto(serve.data.consoleUrl);
    await page.getByTestId('key-card').first().waitFor();
    await page.locator('[data-testid=conn-status][data-state=open]').waitFor();
    assert.equal(page.url(), `${origin}/`);
    const sessionId = await stored(page);
    assert.match(String(sessionId), /^[A-Za-z0-9_-]{43}$/);
    assert.deepEqual(await ctx.cookies(), []);

    const api = calls.filter((c) => c.url.endsWith('/operator/api'));
    assert.ok(api.length > 0);
    for (const c of api) {
      assert.equal(c.headers.authorization, `Bearer ${String(sessionId)}`);
      assert.equal(c.headers.cookie, undefined);
    }
    const session = calls.filter((c) => c.url.endsWith('/operator/session'));
    assert.equal(session.length, 1);
    assert.equal(session[0]!.headers.authorization, undefined);

    // A reload keeps the tab's session; the link is not needed again.
    await page.reload();
    await page.getByTestId('key-card').first().waitFor();
    await page.locator('[data-testid=conn-status][data-state=open]').waitFor();
    assert.equal(await stored(page), sessionId);

    // The same browser visits another server on 127.0.0.1: it gets no credential of the console.
    await page.goto(otherUrl);
    await page.getByText('other local server').waitFor();
    assert.ok(cookiesAtOther.length > 0);
    assert.deepEqual(
      cookiesAtOther,
      cookiesAtOther.map(() => undefined),
    );
    await page.close();
  });

  it('a used link and a tab without a link say how to get a new one', async () => {
    const used = await newPage();
    await used.goto(serve.data.consoleUrl);
    const problem = used.getByTestId('session-problem');
    await problem.waitFor();
    assert.equal(await problem.getAttribute('data-kind'), 'link-invalid');
    assert.match(await problem.innerText(), /kill -USR1 <pid>/);
    assert.equal(used.url(), `${origin}/`, 'the spent token left the address bar too');
    assert.equal(await stored(used), null);
    await used.close();

    const bare = await newPage();
    await bare.goto(`${origin}/`);
    await bare.getByTestId('session-problem').waitFor();
    assert.equal(await bare.getByTestId('session-problem').getAttribute('data-kind'), 'no-link');
    await bare.close();
  });

  it('a session the agent does not know (restart, idle) ends in the page, which forgets it', async () => {
    const page = await newPage();
    await page.goto(await serve.newLink());
    await page.getByTestId('key-card').first().waitFor();
    await page.evaluate(
      `sessionStorage.setItem(${JSON.stringify(STORAGE_KEY)}, '${'A'.repeat(43)}')`,
    );
    await page.reload();
    const problem = page.getByTestId('session-problem');
    await problem.waitFor();
    assert.equal(await problem.getAttribute('data-kind'), 'expired');
    assert.equal(await stored(page), null);
    await page.close();
    assert.deepEqual(await ctx.cookies(), []);
    assert.deepEqual(pageErrors, []);
  });
});
