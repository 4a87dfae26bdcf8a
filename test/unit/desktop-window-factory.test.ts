import { beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  createWindowFactory,
  guardWebContents,
  secureSession,
} from '../../main/desktop/window-factory';
import { isAllowedExternal, isAppUrl } from '../../main/desktop/renderer-origin';
import { resolveAppAsset } from '../../main/desktop/app-protocol';
import { acquireSingleInstance } from '../../main/desktop/single-instance';
import type { BrowserWindowCtor } from '../../main/desktop/electron-types';
import { FakeSession, FakeWebContents, FakeWindow } from './desktop-fakes.test';

const APP = 'app://ukey-agent/index.html';

function setup() {
  const opened: string[] = [];
  const shell = { openExternal: async (u: string) => void opened.push(u) };
  const factory = createWindowFactory({
    BrowserWindow: FakeWindow as unknown as BrowserWindowCtor,
    shell,
    preload: '/app/dist/main/preload/preload.js',
    externalHosts: ['help.example.cn'],
  });
  return { factory, opened, shell };
}

beforeEach(() => {
  FakeWindow.created = [];
});

describe('window factory', () => {
  it('creates every window with the secure webPreferences, hidden until ready', () => {
    const { factory } = setup();
    const w = factory.create({ url: APP, title: 't', width: 800, height: 600 }) as FakeWindow;
    assert.deepEqual(w.options.webPreferences, {
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
      spellcheck: false,
      navigateOnDragDrop: false,
      safeDialogs: true,
      disableBlinkFeatures: 'Auxclick',
      preload: '/app/dist/main/preload/preload.js',
    });
    assert.equal(w.options.show, false);
    assert.deepEqual(w.loaded, [APP]);
    for (const l of w.listeners.get('ready-to-show') ?? []) l();
    assert.equal(w.shown, 1);
  });

  it('refuses to open a window on anything but the app origin', () => {
    const { factory } = setup();
    for (const url of ['https://evil.example/', 'file:///etc/passwd', 'app://other/index.html'])
      assert.throws(() => factory.create({ url, title: 't', width: 1, height: 1 }));
    assert.equal(FakeWindow.created.length, 0);
  });

  it('knows its own windows, and forgets closed ones', () => {
    const { factory } = setup();
    const w = factory.create({ url: APP, title: 't', width: 1, height: 1 });
    assert.ok(factory.owns(w.webContents));
    assert.equal(factory.owns(new FakeWebContents()), false);
    w.close();
    assert.equal(factory.owns(w.webContents), false);
    assert.deepEqual(factory.windows(), []);
  });

  it('prevents navigation and redirects off the app origin; vetted links go to the browser', () => {
    const { factory, opened } = setup();
    const wc = (factory.create({ url: APP, title: 't', width: 1, height: 1 }) as FakeWindow)
      .webContents;
    assert.equal(wc.fire('will-navigate', 'app://ukey-agent/index.html#/keys'), false);
    assert.equal(wc.fire('will-navigate', 'https://evil.example/'), true);
    assert.equal(wc.fire('will-navigate', 'https://help.example.cn/faq'), true);
    assert.equal(wc.fire('will-redirect', 'https://help.example.cn/faq'), true);
    assert.equal(wc.fire('will-navigate', 'http://help.example.cn/faq'), true);
    assert.deepEqual(opened, ['https://help.example.cn/faq']);
  });

  it('denies every window.open, opening only vetted https links externally', () => {
    const { factory, opened } = setup();
    const wc = (factory.create({ url: APP, title: 't', width: 1, height: 1 }) as FakeWindow)
      .webContents;
    assert.deepEqual(wc.openHandler!({ url: 'https://help.example.cn/a' }), { action: 'deny' });
    assert.deepEqual(wc.openHandler!({ url: APP }), { action: 'deny' });
    assert.deepEqual(wc.openHandler!({ url: 'javascript:alert(1)' }), { action: 'deny' });
    assert.deepEqual(opened, ['https://help.example.cn/a']);
  });

  it('prevents webviews, also on contents it did not create', () => {
    const wc = new FakeWebContents();
    guardWebContents(wc, { shell: { openExternal: async () => undefined } });
    assert.equal(wc.fire('will-attach-webview', {}), true);
    assert.equal(wc.fire('will-navigate', 'https://x.example/'), true);
  });
});

describe('session rules', () => {
  it('replaces any CSP with ours and denies every permission', () => {
    const s = new FakeSession();
    secureSession(s);
    let headers: Record<string, string | string[]> = {};
    s.headersListener!(
      {
        url: APP,
        responseHeaders: { 'content-security-policy': ['default-src *'], 'X-A': 'b' },
      },
      (r) => (headers = r.responseHeaders),
    );
    assert.equal(headers['content-security-policy'], undefined);
    assert.equal(headers['X-A'], 'b');
    const csp = String(headers['Content-Security-Policy']);
    for (const d of [
      "default-src 'self'",
      "script-src 'self'",
      "object-src 'none'",
      "frame-ancestors 'none'",
      "connect-src 'self'",
    ])
      assert.ok(csp.includes(d), d);
    assert.ok(!/script-src[^;]*unsafe/.test(csp));
    let granted: boolean | undefined;
    s.permissionHandler!({}, 'media', (g) => (granted = g));
    assert.equal(granted, false);
    assert.equal(s.checkHandler!({}, 'notifications'), false);
  });
});

describe('renderer origin', () => {
  it('recognises only app://ukey-agent and the one packaged file', () => {
    assert.ok(isAppUrl('app://ukey-agent/index.html#/x'));
    assert.equal(isAppUrl('app://ukey-agent.evil/index.html'), false);
    assert.equal(isAppUrl('app://user@ukey-agent/'), false);
    assert.equal(isAppUrl('app://ukey-agent:99/'), false);
    assert.equal(isAppUrl('file:///opt/app/renderer/dist/index.html'), false);
    const loc = { fileUrl: 'file:///opt/app/renderer/dist/index.html' };
    assert.ok(isAppUrl('file:///opt/app/renderer/dist/index.html#/a', loc));
    assert.equal(isAppUrl('file:///opt/app/renderer/dist/other.html', loc), false);
    assert.equal(isAppUrl('not a url'), false);
    assert.equal(isAllowedExternal('https://user:pw@help.example.cn/', ['help.example.cn']), false);
  });

  it('serves app:// files from the renderer directory only', () => {
    assert.equal(resolveAppAsset('/r', 'app://ukey-agent/'), '/r/index.html');
    assert.equal(resolveAppAsset('/r', 'app://ukey-agent/assets/a.js'), '/r/assets/a.js');
    assert.equal(resolveAppAsset('/r', 'app://ukey-agent/../etc/passwd'), '/r/etc/passwd');
    // The URL parser resolves %2e%2e segments itself: still inside the root.
    assert.equal(
      resolveAppAsset('/r', 'app://ukey-agent/%2e%2e/%2e%2e/etc/passwd'),
      '/r/etc/passwd',
    );
    assert.equal(resolveAppAsset('/r', 'app://ukey-agent/a/..%2F..%2Fetc/passwd'), undefined);
    assert.equal(resolveAppAsset('/r', 'app://ukey-agent/a%5c..%5cb'), undefined);
    assert.equal(resolveAppAsset('/r', 'app://other/index.html'), undefined);
  });
});

describe('single instance', () => {
  it('quits when another instance holds the lock, else listens for second launches', () => {
    const calls: string[] = [];
    const app = (lock: boolean) => ({
      requestSingleInstanceLock: () => lock,
      quit: () => void calls.push('quit'),
      on: (e: string) => void calls.push(`on:${e}`),
    });
    assert.equal(
      acquireSingleInstance(app(false), () => undefined),
      false,
    );
    assert.deepEqual(calls, ['quit']);
    calls.length = 0;
    assert.equal(
      acquireSingleInstance(app(true), () => undefined),
      true,
    );
    assert.deepEqual(calls, ['on:second-instance']);
  });
});
