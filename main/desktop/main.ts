/**
 * The desktop composition root (package.json "main"). Only Electron runs this file, and it cannot
 * run on the build machines (no Electron binary), so it only wires the tested modules together:
 * single-instance lock, secure session and window factory, the desktop approval host, the agent,
 * the operator service behind the IPC router, the tray. Logic belongs in those modules, not here.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { AgentError } from '../common/errors';
import { ResultCode } from '../common/codes';
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
import { createEventPublisher, forwardAgentEvents } from './event-publisher';
import { registerOperatorIpc } from './ipc-router';
import { notifyKeyEvents } from './key-notifications';
import { createOperatorService } from '../core/operator/operator-service';
import { APP_ORIGIN, APP_SCHEME } from './renderer-origin';
import { acquireSingleInstance, bringForward } from './single-instance';
import { TrayState, renderTray, trayView } from './tray-state';
import { createWindowFactory, guardWebContents, secureSession } from './window-factory';

/** The part of the `electron` module this file uses. */
interface ElectronMain {
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

const log = (msg: string, detail?: unknown): void => {
  console.error(`[ukey-agent] ${msg}`, detail ?? '');
};

export async function startDesktop(): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- electron is the runtime here, not an installed package
  const e = require('electron') as ElectronMain;
  const { app } = e;

  // Before 'ready': app:// is a standard, secure origin so CSP 'self' and fetch work on it.
  e.protocol.registerSchemesAsPrivileged([
    { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } },
  ]);

  const guards = { shell: e.shell, externalHosts: EXTERNAL_HOSTS, log };
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

  if (!acquireSingleInstance(app, showMain)) return;
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
  /** A small always-on-top window on one renderer route; `onClosed` when it goes away. */
  const dialog = (route: string, title: string, height: number, onClosed: () => void) => {
    const win = factory.create({
      url: `${APP_ORIGIN}/index.html#${route}`,
      title,
      width: 520,
      height,
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
          680,
          () => {
            if (approvalWindow === win) approvalWindow = undefined;
            onClosed();
          },
        );
        approvalWindow = win;
        return handle(win);
      },
      openPin: (view, onClosed) =>
        handle(dialog(`/pin/${encodeURIComponent(view.requestId)}`, 'UKey PIN', 420, onClosed)),
      focusApprovals,
    },
  });

  const tray = new e.Tray(join(ASSETS_DIR, 'tray-no-key.png'));
  const iconPath = (f: string): string => join(ASSETS_DIR, f);
  let agent: Agent;
  try {
    agent = await createAgent({
      dataDir: app.getPath('userData'),
      port: 18788,
      host,
      log,
      // The platform identity (secret store under safeStorage) is not wired into the desktop
      // build yet: every signature fails closed with 3001 rather than skipping the signId check.
      platform: {
        verifySignId: () =>
          Promise.reject(
            new AgentError(ResultCode.PLATFORM_UNAVAILABLE, 'the platform is not configured'),
          ),
      },
    });
  } catch (err) {
    // Stay in the tray in the error state (port taken, store unreadable…) until the user quits.
    log('agent failed to start', err);
    const message = err instanceof AgentError ? err.message : 'the agent failed to start';
    renderTray(tray, e.Menu, trayView({ keys: 0, pending: 0, error: message }), {
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
    return;
  }
  host.bind({ store: agent.store, tokens: agent.tokens });

  const autostart = {
    platform: process.platform,
    exec: process.env.APPIMAGE ?? process.execPath,
    autostartDir: join(process.env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'autostart'),
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
  const service = followAutostartSetting(
    createOperatorService({
      tokens: agent.tokens,
      store: agent.store,
      approvals: host,
      pins: host,
    }),
    applyAutostart,
  );
  const unregister = registerOperatorIpc({
    ipcMain: e.ipcMain,
    service,
    ownsSender: (c) => factory.owns(c),
    log,
  });
  const stopEvents = forwardAgentEvents(createEventPublisher(factory.windows), {
    tokens: agent.tokens,
    approvals: host,
  });
  const stopKeyNotes = Notification
    ? notifyKeyEvents(agent.tokens, Notification, { onClick: showMain, log })
    : () => undefined;

  let quitting = false;
  const quit = (): void => {
    if (quitting) return;
    quitting = true;
    unregister();
    stopEvents();
    stopKeyNotes();
    trayState.dispose();
    tray.destroy();
    agent.close().finally(() => app.quit());
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
        quit,
      },
    });
  trayState.on('change', draw);
  tray.on('click', showMain);
  draw();
  // A login start stays in the tray; a start by the user opens the main window.
  if (!startedHidden(process.argv, app, process.platform)) showMain();
}

// Electron starts here; requiring this file from Node does nothing.
if (process.versions.electron) {
  startDesktop().catch((err) => {
    log('desktop start failed', err);
    process.exit(1);
  });
}
