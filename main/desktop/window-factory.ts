/**
 * Every window of the shell comes from this one factory, so no window can be made with weaker
 * settings than these. Fortify-style shells (nodeIntegration on, remote content, open navigation)
 * are what this guards against: the renderer is sandboxed, isolated, can only show our own pages,
 * and reaches the agent only through the allowlisted operator channels.
 */
import type {
  BrowserWindowCtor,
  BrowserWindowLike,
  SessionLike,
  ShellLike,
  WebContentsLike,
} from './electron-types';
import { RENDERER_CSP, isAllowedExternal, isAppUrl } from './renderer-origin';
import type { RendererLocation } from './renderer-origin';

export interface WindowFactoryOptions {
  BrowserWindow: BrowserWindowCtor;
  shell: ShellLike;
  /** Absolute path of the compiled preload script. */
  preload: string;
  renderer?: RendererLocation;
  /** Hosts an https link in the UI may open in the system browser (help pages, the platform). */
  externalHosts?: readonly string[];
  log?: (msg: string, detail?: unknown) => void;
}

export interface WindowSpec {
  /** The page, e.g. app://ukey-agent/index.html#/approval/42; must be the app's own. */
  url: string;
  title: string;
  width: number;
  height: number;
  alwaysOnTop?: boolean;
  resizable?: boolean;
}

export interface WindowFactory {
  create(spec: WindowSpec): BrowserWindowLike;
  /** Whether these web contents belong to a window this factory made (and is still open). */
  owns(contents: WebContentsLike): boolean;
  windows(): BrowserWindowLike[];
}

/**
 * Navigation, redirects, pop-ups and webviews on any web contents: only the app's own pages load;
 * a vetted https link goes to the system browser; everything else is refused. Also applied from
 * app 'web-contents-created', so contents not made by the factory are held to the same rules.
 */
export function guardWebContents(
  contents: WebContentsLike,
  o: Pick<WindowFactoryOptions, 'shell' | 'renderer' | 'externalHosts' | 'log'>,
): void {
  const hosts = o.externalHosts ?? [];
  const openExternal = (url: string): void => {
    if (isAllowedExternal(url, hosts)) {
      // Vetted just above (https, no credentials, allowlisted host): see docs/DESKTOP.md.
      o.shell.openExternal(url).catch((e) => o.log?.('openExternal failed', e)); // eng-disable OPEN_EXTERNAL_JS_CHECK
    } else {
      o.log?.('blocked external link', { url });
    }
  };
  const onNavigate = (event: { preventDefault(): void; url?: string }, url?: string): void => {
    const target = url ?? event.url;
    if (isAppUrl(target, o.renderer)) return;
    event.preventDefault();
    if (typeof target === 'string') openExternal(target);
  };
  contents.on('will-navigate', onNavigate);
  contents.on('will-redirect', (event, url) => {
    const target = url ?? event.url;
    if (isAppUrl(target, o.renderer)) return;
    event.preventDefault(); // a redirect is never a user's click: never opened externally
    o.log?.('blocked redirect', { url: target });
  });
  contents.setWindowOpenHandler(({ url }) => {
    openExternal(url);
    return { action: 'deny' };
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
}

/** Session-wide rules: the CSP on every response, and no permission (camera, geolocation…). */
export function secureSession(session: SessionLike): void {
  session.webRequest.onHeadersReceived((details, callback) => {
    const headers = { ...(details.responseHeaders ?? {}) };
    // Replace, never merge: a page-supplied CSP header must not loosen ours.
    for (const k of Object.keys(headers))
      if (k.toLowerCase() === 'content-security-policy') delete headers[k];
    // The tool cannot read a constant; scripts/electronegativity.mjs evaluates RENDERER_CSP itself.
    headers['Content-Security-Policy'] = [RENDERER_CSP]; // eng-disable CSP_JS_CHECK
    callback({ responseHeaders: headers });
  });
  session.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
}

export function createWindowFactory(o: WindowFactoryOptions): WindowFactory {
  const { BrowserWindow } = o;
  const open = new Set<BrowserWindowLike>();
  return {
    create(spec) {
      if (!isAppUrl(spec.url, o.renderer))
        throw new Error('the shell only opens windows on its own renderer');
      // The only webPreferences any window gets. Written out literally at the `new BrowserWindow`
      // so electronegativity (scripts/electronegativity.mjs) checks these very values.
      const win = new BrowserWindow({
        width: spec.width,
        height: spec.height,
        title: spec.title,
        show: false,
        autoHideMenuBar: true,
        ...(spec.alwaysOnTop !== undefined ? { alwaysOnTop: spec.alwaysOnTop } : {}),
        ...(spec.resizable !== undefined ? { resizable: spec.resizable } : {}),
        webPreferences: {
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
          // Middle-click (auxclick) would open links past the will-navigate guard.
          disableBlinkFeatures: 'Auxclick',
          // Reviewed: the preload exposes only operatorApi.{invoke,on} (docs/DESKTOP.md).
          preload: o.preload, // eng-disable PRELOAD_JS_CHECK
        },
      });
      open.add(win);
      win.on('closed', () => open.delete(win));
      // Guards go on before the first load, so the first navigation is already checked.
      guardWebContents(win.webContents, o);
      win.on('ready-to-show', () => win.show());
      win.loadURL(spec.url).catch((e) => o.log?.('window load failed', e));
      return win;
    },
    owns(contents) {
      for (const w of open)
        if (!w.isDestroyed() && w.webContents === contents && !contents.isDestroyed()) return true;
      return false;
    },
    windows: () => [...open].filter((w) => !w.isDestroyed()),
  };
}
