/**
 * The desktop composition root (package.json "main"). Only Electron runs it for real; the tests run
 * it with fake Electron objects (test/integration/desktop-composition.test.ts). It only wires the
 * tested modules together: single-instance lock, secure session and window factory, the desktop
 * approval host, the agent, the operator stack (core/operator/operator-stack.ts, as `serve
 * --console` has it) behind the IPC router, the platform identity (platform-identity.ts), the tray.
 * Logic belongs in those modules, not here.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { AgentError } from '../common/errors';
import { createAgent } from '../core/agent';
import type { Agent } from '../core/agent';
import { DesktopHost } from './approval-host';
import type { WindowHandle } from './approval-host';
import { resolveAppAsset } from './app-protocol';
import { followAutostartSetting, setAutostart, startedHidden } from './autostart';
import type { LoginItemApp } from './autostart';
import type {
  AppLike,
  BrowserWindowCtor,
  BrowserWindowLike,
  IpcMainLike,
  MenuStatic,
  NotificationCtor,
  SessionLike,
  ShellLike,
  TrayLike,
} from './electron-types';
import { createEventPublisher } from './event-publisher';
import { registerOperatorIpc } from './ipc-router';
import { notifyPairings } from './pairing-notifications';
import { notifyKeyEvents } from './key-notifications';
import { createOperatorStack } from '../core/operator/operator-stack';
import type { PlatformClientConfig } from '../core/platform/platform-client';
import type { SignatureProvider } from '../core/pki/signer';
import { IDENTITY_UNLOCKING, PlatformGate, loadDesktopIdentity } from './platform-identity';
import type { IdentityOutcome } from './platform-identity';
import { APP_ORIGIN, APP_SCHEME } from './renderer-origin';
import { acquireSingleInstance, bringForward } from './single-instance';
import { TrayState, renderTray, trayView } from './tray-state';
import { createWindowFactory, guardWebContents, secureSession } from './window-factory';

/** The part of the `electron` module this file uses. */
export interface ElectronMain {
  app: AppLike & LoginItemApp;
  BrowserWindow: BrowserWindowCtor;
  ipcMain: IpcMainLike;
  Menu: MenuStatic;
  Tray: new (image: string) => TrayLike;
  Notification: NotificationCtor & { isSupported(): boolean };
  shell: ShellLike;
  session: { defaultSession: SessionLike };
  protocol: {
    registerSchemesAsPrivileged(
      schemes: { scheme: string; privileges: Record<string, boolean> }[],
    ): void;
    handle(scheme: string, handler: (req: { url: string }) => Promise<unknown> | unknown): void;
  };
  net: { fetch(url: string): Promise<unknown> };
}

const ROOT = join(__dirname, '..', '..', '..');
/** The operator UI bundle (scripts/build-renderer.mjs writes it to dist/renderer). */
const RENDERER_DIR = join(ROOT, 'dist', 'renderer');
const ASSETS_DIR = join(ROOT, 'assets');
const PRELOAD = join(__dirname, '..', 'preload', 'preload.js');
/** Help and platform pages the UI may link to (opened in the system browser). */
const EXTERNAL_HOSTS: readonly string[] = [];

const defaultLog = (msg: string, detail?: unknown): void => {
  console.error(`[ukey-agent] ${msg}`, detail ?? '');
};

/** What a real start takes from Electron and the environment; tests give their own. */
export interface DesktopConfig {
  /** Default: Electron's userData folder. */
  dataDir?: string;
  /** JSAPI port on 127.0.0.1 (default 18788; 0 = a free port). */
  jsapiPort?: number;
  /** PKCS#11 libraries; default every known module found here. */
  modules?: string[];
  /** Linux start-at-login folder (default $XDG_CONFIG_HOME/autostart). */
  autostartDir?: string;
  argv?: readonly string[];
  /** Platform client options beyond the identity's (tests shorten the retries). */
  platformClient?: Partial<Omit<PlatformClientConfig, 'baseUrl' | 'signer' | 'platformKey'>>;
  log?: (msg: string, detail?: unknown) => void;
}

/** The running desktop: its JSAPI port, how its platform identity ended up, a quit to await. */
export interface DesktopApp {
  jsapiPort: number;
  platform: Promise<IdentityOutcome>;
  quit(): Promise<void>;
}

export async function startDesktop(
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- electron is the runtime here, not an installed package
  e: ElectronMain = require('electron') as ElectronMain,
  config: DesktopConfig = {},
): Promise<DesktopApp | undefined> {
  const { app } = e;
  const log = config.log ?? defaultLog;

  // Before 'ready': app:// is a standard, secure origin so CSP 'self' and fetch work on it.
  e.protocol.registerSchemesAsPrivileged([
    { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } },
  ]);

  // The platform's host joins once its identity is loaded: its H5 pages (cloud signing's authUrl)
  // open in the system browser; the guards read this same array on every link.
  const externalHosts: string[] = [...EXTERNAL_HOSTS];
  const guards = { shell: e.shell, externalHosts, log };
  let mainWindow: BrowserWindowLike | undefined;
  const factory = createWindowFactory({
    BrowserWindow: e.BrowserWindow,
    preload: PRELOAD,
    ...guards,
  });
  const showMain = (): void => {
    if (mainWindow && !mainWindow.isDestroyed()) return bringForward(mainWindow);
    mainWindow = factory.create({
      url: `${APP_ORIGIN}/index.html`,
      title: 'UKey 签章助手',
      width: 1100,
      height: 720,
    });
  };

  if (!acquireSingleInstance(app, showMain)) return undefined;
  // Contents the factory did not make (there should be none) get the same navigation rules.
  app.on('web-contents-created', (_ev, contents) => guardWebContents(contents, guards));
  // The tray keeps the agent running with every window closed.
  app.on('window-all-closed', () => undefined);

  await app.whenReady();
  e.protocol.handle(APP_SCHEME, (req) => {
    const file = resolveAppAsset(RENDERER_DIR, req.url);
    return file ? e.net.fetch(pathToFileURL(file).toString()) : new Response(null, { status: 404 });
  });
  secureSession(e.session.defaultSession);

  const Notification = e.Notification.isSupported() ? e.Notification : undefined;
  let approvalWindow: BrowserWindowLike | undefined;
  /**
   * A small always-on-top window on one renderer route (`#/approval/<id>`, `#/pin/<id>`: that one
   * dialog, nothing else — renderer/src/util/route.ts); `onClosed` when it goes away.
   */
  const dialog = (
    route: string,
    title: string,
    size: { width: number; height: number },
    onClosed: () => void,
  ) => {
    const win = factory.create({
      url: `${APP_ORIGIN}/index.html#${route}`,
      title,
      ...size,
      alwaysOnTop: true,
      resizable: false,
    });
    win.on('closed', onClosed);
    return win;
  };
  const handle = (win: BrowserWindowLike): WindowHandle => ({
    close: () => {
      if (!win.isDestroyed()) win.close();
    },
  });
  const focusApprovals = (): void =>
    approvalWindow && !approvalWindow.isDestroyed() ? bringForward(approvalWindow) : showMain();
  const host = new DesktopHost({
    Notification,
    log,
    ui: {
      // The windows decide through approvals.decide / pins.answer (IPC); closing one declines.
      openApproval: (view, onClosed) => {
        const win = dialog(
          `/approval/${encodeURIComponent(view.requestId)}`,
          '签名请求 / Signature request',
          // The approval dialog is 680 px wide with the seal image, details, PIN and batch.
          { width: 720, height: 780 },
          () => {
            if (approvalWindow === win) approvalWindow = undefined;
            onClosed();
          },
        );
        approvalWindow = win;
        return handle(win);
      },
      openPin: (view, onClosed) =>
        handle(
          dialog(
            `/pin/${encodeURIComponent(view.requestId)}`,
            view.kind === 'passphrase' ? '密钥库口令 / Key store passphrase' : 'UKey PIN',
            { width: 560, height: 440 },
            onClosed,
          ),
        ),
      focusApprovals,
    },
  });

  const tray = new e.Tray(join(ASSETS_DIR, 'tray-no-key.png'));
  const iconPath = (f: string): string => join(ASSETS_DIR, f);
  const dataDir = config.dataDir ?? app.getPath('userData');
  // Every signature fails closed with 3001 at the signId check until the identity is loaded.
  const gate = new PlatformGate(IDENTITY_UNLOCKING);
  let agent: Agent;
  try {
    agent = await createAgent({
      dataDir,
      // The operator's stored settings (port, approval timeout, rate limit) unless overridden.
      ...(config.jsapiPort !== undefined ? { port: config.jsapiPort } : {}),
      ...(config.modules ? { modules: config.modules } : {}),
      host,
      log,
      platform: gate,
    });
  } catch (err) {
    // Stay in the tray in the error state (port taken, store unreadable…) until the user quits.
    log('agent failed to start', err);
    const message = err instanceof AgentError ? err.message : 'the agent failed to start';
    const failed = trayView({ keys: 0, pending: 0, error: message });
    // Without an agent there is no window worth opening: the item shows, greyed out.
    failed.menu = failed.menu.map((m) => (m.id === 'open' ? { ...m, enabled: false } : m));
    renderTray(tray, e.Menu, failed, {
      iconPath,
      actions: {
        open: () => undefined,
        approvals: () => undefined,
        autostart: () => undefined,
        quit: () => app.quit(),
      },
    });
    if (Notification)
      new Notification({ title: 'UKey 签章助手 / UKey Agent', body: message }).show();
    return undefined;
  }
  // Platform methods answer why they cannot run (3001) until the identity is attached.
  const stack = createOperatorStack({
    agent,
    host,
    dataDir,
    platformMissing: IDENTITY_UNLOCKING,
  });

  const autostart = {
    platform: process.platform,
    exec: process.env.APPIMAGE ?? process.execPath,
    autostartDir:
      config.autostartDir ??
      join(process.env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'autostart'),
    name: 'UKey 签章助手',
  };
  const trayState = new TrayState(agent.tokens, host);
  const applyAutostart = (enabled: boolean): void => {
    try {
      setAutostart(app, enabled, autostart);
    } catch (err) {
      log('start at login not changed', err);
    }
    trayState.setAutoStart(enabled);
  };
  // The stored setting is the truth; the login item follows it at every start and change.
  applyAutostart(agent.store.settings.all().autoStart);
  const service = followAutostartSetting(stack.service, applyAutostart);
  const unregister = registerOperatorIpc({
    ipcMain: e.ipcMain,
    service,
    ownsSender: (c) => factory.owns(c),
    log,
  });
  const stopEvents = stack.events.subscribe(createEventPublisher(factory.windows));
  const stopKeyNotes = Notification
    ? notifyKeyEvents(agent.tokens, Notification, { onClick: showMain, log })
    : () => undefined;
  const stopPairingNotes = Notification
    ? notifyPairings(agent.pairing, Notification, { onClick: showMain, log })
    : () => undefined;

  let quitting = false;
  let auditSigner: SignatureProvider | undefined;
  let sealing: { stop(): void } | undefined;
  const running = agent;
  // The UI is up, so the key store passphrase can be asked in the PIN window.
  const platform = loadDesktopIdentity({
    dataDir,
    tokens: () => running.tokens,
    askPassphrase: (req) => host.askPassphrase(req),
    ...(config.platformClient ? { client: config.platformClient } : {}),
  }).then((out) => {
    if (quitting) return out;
    if (out.ok) {
      gate.open(out.platform.client);
      stack.attachPlatform(out.platform);
      const platformHost = new URL(out.platform.baseUrl).hostname.toLowerCase();
      if (!externalHosts.includes(platformHost)) externalHosts.push(platformHost);
      auditSigner = out.identity.auditSigner;
      sealing = running.store.audit.startPeriodicSealing(
        auditSigner,
        running.store.settings.all().auditSealIntervalMs,
        (err) => log('audit sealing failed', err),
      );
    } else {
      gate.refuse(out.reason);
      stack.setPlatformMissing(out.reason);
      trayState.setError(out.reason);
      log('running without the platform', out.reason);
    }
    return out;
  });

  let closed: Promise<void> | undefined;
  const quit = (): Promise<void> => {
    if (closed) return closed;
    quitting = true;
    unregister();
    stopEvents();
    stopKeyNotes();
    stopPairingNotes();
    trayState.dispose();
    tray.destroy();
    closed = (async () => {
      try {
        await stack.close(); // also cancels a passphrase prompt still open
        await platform;
        sealing?.stop();
        const { audit } = running.store;
        if (auditSigner && audit.head().seq > audit.lastSealedSeq())
          await audit.seal(auditSigner).catch((err) => log('audit sealing failed', err));
        await running.close();
      } finally {
        app.quit();
      }
    })();
    return closed;
  };
  const toggleAutostart = (): void => {
    const next = !trayState.view().menu.find((i) => i.id === 'autostart')?.checked;
    service['settings.set']({ key: 'autoStart', value: next }).catch((err) =>
      log('start at login not changed', err),
    );
  };
  const draw = (): void =>
    renderTray(tray, e.Menu, trayState.view(), {
      iconPath,
      actions: {
        open: showMain,
        approvals: focusApprovals,
        autostart: toggleAutostart,
        quit: () => void quit().catch((err) => log('quit failed', err)),
      },
    });
  trayState.on('change', draw);
  tray.on('click', showMain);
  draw();
  // A login start stays in the tray; a start by the user opens the main window.
  if (!startedHidden(config.argv ?? process.argv, app, process.platform)) showMain();
  return { jsapiPort: running.bridge.port, platform, quit };
}

// Electron starts here; requiring this file from Node does nothing.
if (process.versions.electron) {
  startDesktop().catch((err) => {
    defaultLog('desktop start failed', err);
    process.exit(1);
  });
}
