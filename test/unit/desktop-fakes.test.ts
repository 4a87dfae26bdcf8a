// Fake Electron objects for the desktop shell's unit tests: they record what the shell asks of them.
// (Named *.test.ts only because the shell's test files are the ones this work may add.)
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type {
  BrowserWindowLike,
  BrowserWindowOptions,
  HeaderMap,
  IpcMainInvokeEventLike,
  IpcMainLike,
  PreventableEvent,
  SessionLike,
  WebContentsLike,
} from '../../main/desktop/electron-types';

type Listener = (...args: never[]) => unknown;

export class FakeWebContents implements WebContentsLike {
  static next = 1;
  readonly id = FakeWebContents.next++;
  readonly listeners = new Map<string, Listener[]>();
  openHandler: ((d: { url: string }) => { action: 'deny' }) | undefined;
  readonly sent: { channel: string; payload: unknown }[] = [];
  destroyed = false;
  on(event: string, listener: Listener): this {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), listener]);
    return this;
  }
  setWindowOpenHandler(h: (d: { url: string }) => { action: 'deny' }): void {
    this.openHandler = h;
  }
  send(channel: string, payload: unknown): void {
    this.sent.push({ channel, payload });
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }
  /** Fires an event with a preventable event object; answers whether it was prevented. */
  fire(event: string, ...args: unknown[]): boolean {
    let prevented = false;
    const ev: PreventableEvent = { preventDefault: () => (prevented = true) };
    for (const l of this.listeners.get(event) ?? [])
      (l as (...a: unknown[]) => unknown)(ev, ...args);
    return prevented;
  }
}

export class FakeWindow implements BrowserWindowLike {
  static created: FakeWindow[] = [];
  readonly webContents = new FakeWebContents();
  readonly listeners = new Map<string, (() => void)[]>();
  loaded: string[] = [];
  destroyed = false;
  shown = 0;
  constructor(readonly options: BrowserWindowOptions) {
    FakeWindow.created.push(this);
  }
  loadURL(url: string): Promise<void> {
    this.loaded.push(url);
    return Promise.resolve();
  }
  on(event: string, listener: () => void): this {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), listener]);
    return this;
  }
  show(): void {
    this.shown++;
  }
  focus(): void {}
  restore(): void {}
  isMinimized(): boolean {
    return false;
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }
  close(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.webContents.destroyed = true;
    for (const l of this.listeners.get('closed') ?? []) l();
  }
}

export class FakeSession implements SessionLike {
  headersListener:
    | ((
        d: { url: string; responseHeaders?: HeaderMap },
        cb: (r: { responseHeaders: HeaderMap }) => void,
      ) => void)
    | undefined;
  permissionHandler: ((wc: unknown, p: string, cb: (g: boolean) => void) => void) | undefined;
  checkHandler: ((wc: unknown, p: string) => boolean) | undefined;
  webRequest = {
    onHeadersReceived: (l: NonNullable<FakeSession['headersListener']>): void => {
      this.headersListener = l;
    },
  };
  setPermissionRequestHandler(h: NonNullable<FakeSession['permissionHandler']>): void {
    this.permissionHandler = h;
  }
  setPermissionCheckHandler(h: NonNullable<FakeSession['checkHandler']>): void {
    this.checkHandler = h;
  }
}

export class FakeIpcMain implements IpcMainLike {
  readonly handlers = new Map<
    string,
    (event: IpcMainInvokeEventLike, ...args: unknown[]) => unknown
  >();
  handle(channel: string, l: (event: IpcMainInvokeEventLike, ...args: unknown[]) => unknown): void {
    if (this.handlers.has(channel)) throw new Error(`second handler for ${channel}`);
    this.handlers.set(channel, l);
  }
  removeHandler(channel: string): void {
    this.handlers.delete(channel);
  }
  invoke(channel: string, event: IpcMainInvokeEventLike, ...args: unknown[]): Promise<unknown> {
    const h = this.handlers.get(channel);
    if (!h) throw new Error(`no handler for ${channel}`);
    return Promise.resolve(h(event, ...args));
  }
}

describe('desktop fakes', () => {
  it('a fake window closes once and reports it', () => {
    const w = new FakeWindow({} as BrowserWindowOptions);
    let closed = 0;
    w.on('closed', () => closed++);
    w.close();
    w.close();
    assert.equal(closed, 1);
    assert.ok(w.webContents.isDestroyed());
  });
});
