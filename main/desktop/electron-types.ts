/**
 * The few Electron APIs the shell uses, as structural interfaces. The `electron` package is not a
 * dependency here (its binary cannot be downloaded on the build machines), so the shell takes these
 * as parameters: the real objects satisfy them in main.ts, fakes satisfy them in the unit tests.
 */

export interface PreventableEvent {
  preventDefault(): void;
  /** Electron ≥ 25 puts the target URL on the event as well. */
  url?: string;
}

export interface WebContentsLike {
  readonly id: number;
  on(
    event: 'will-navigate' | 'will-redirect',
    listener: (event: PreventableEvent, url?: string) => void,
  ): unknown;
  on(
    event: 'will-attach-webview',
    listener: (event: PreventableEvent, webPreferences: Record<string, unknown>) => void,
  ): unknown;
  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' }): void;
  send(channel: string, payload: unknown): void;
  isDestroyed(): boolean;
}

export interface WebPreferences {
  contextIsolation: true;
  sandbox: true;
  nodeIntegration: false;
  nodeIntegrationInWorker: false;
  nodeIntegrationInSubFrames: false;
  webSecurity: true;
  allowRunningInsecureContent: false;
  experimentalFeatures: false;
  webviewTag: false;
  spellcheck: false;
  navigateOnDragDrop: false;
  safeDialogs: true;
  disableBlinkFeatures: 'Auxclick';
  preload: string;
}

export interface BrowserWindowOptions {
  width: number;
  height: number;
  minWidth?: number;
  minHeight?: number;
  title: string;
  show: boolean;
  alwaysOnTop?: boolean;
  resizable?: boolean;
  autoHideMenuBar: boolean;
  webPreferences: WebPreferences;
}

export interface BrowserWindowLike {
  readonly webContents: WebContentsLike;
  loadURL(url: string): Promise<void>;
  on(event: 'closed' | 'ready-to-show', listener: () => void): unknown;
  show(): void;
  focus(): void;
  close(): void;
  restore(): void;
  isMinimized(): boolean;
  isDestroyed(): boolean;
}

export type BrowserWindowCtor = new (options: BrowserWindowOptions) => BrowserWindowLike;

export type HeaderMap = Record<string, string | string[]>;

export interface SessionLike {
  webRequest: {
    onHeadersReceived(
      listener: (
        details: { url: string; responseHeaders?: HeaderMap },
        callback: (response: { responseHeaders: HeaderMap }) => void,
      ) => void,
    ): void;
  };
  setPermissionRequestHandler(
    handler: (
      webContents: unknown,
      permission: string,
      callback: (granted: boolean) => void,
    ) => void,
  ): void;
  setPermissionCheckHandler(handler: (webContents: unknown, permission: string) => boolean): void;
}

export interface ShellLike {
  openExternal(url: string): Promise<void>;
}

export interface IpcMainInvokeEventLike {
  readonly sender: WebContentsLike;
  /** Null when the frame navigated away or was destroyed before the message was handled. */
  readonly senderFrame: { readonly url: string; readonly parent: unknown } | null;
}

export interface IpcMainLike {
  handle(
    channel: string,
    listener: (event: IpcMainInvokeEventLike, ...args: unknown[]) => Promise<unknown> | unknown,
  ): void;
  removeHandler(channel: string): void;
}

export interface IpcRendererLike {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>;
  on(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown;
  removeListener(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown;
}

export interface ContextBridgeLike {
  exposeInMainWorld(apiKey: string, api: unknown): void;
}

export interface MenuItemTemplate {
  id?: string;
  label?: string;
  type?: 'normal' | 'separator' | 'checkbox';
  checked?: boolean;
  enabled?: boolean;
  click?: () => void;
}

export type MenuLike = object;

export interface MenuStatic {
  buildFromTemplate(template: MenuItemTemplate[]): MenuLike;
}

export interface TrayLike {
  setImage(image: string): void;
  setToolTip(toolTip: string): void;
  setContextMenu(menu: MenuLike | null): void;
  on(event: 'click', listener: () => void): unknown;
  destroy(): void;
}

export interface NotificationLike {
  show(): void;
  close(): void;
  on(event: 'click', listener: () => void): unknown;
}

export type NotificationCtor = new (options: {
  title: string;
  body: string;
  silent?: boolean;
}) => NotificationLike;

export interface AppLike {
  requestSingleInstanceLock(): boolean;
  on(event: 'second-instance', listener: () => void): unknown;
  on(
    event: 'web-contents-created',
    listener: (event: unknown, contents: WebContentsLike) => void,
  ): unknown;
  on(event: 'window-all-closed' | 'before-quit', listener: () => void): unknown;
  whenReady(): Promise<unknown>;
  getPath(name: 'userData'): string;
  quit(): void;
}
