/**
 * The desktop composition root (package.json "main"). Only Electron runs this file, and it cannot
 * run on the build machines (no Electron binary), so it only wires the tested modules together:
 * single-instance lock, secure session and window factory, the desktop approval host, the agent,
 * the operator service behind the IPC router, the tray. Logic belongs in those modules, not here.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { AgentError } from '../common/errors';
import { ResultCode } from '../common/codes';
import { createAgent } from '../core/agent';
import type { Agent } from '../core/agent';
import { DesktopHost } from './approval-host';
import type { ApprovalAnswer } from './approval-host';
import { resolveAppAsset } from './app-protocol';
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
import { createOperatorService } from './operator-service';
import { APP_ORIGIN, APP_SCHEME } from './renderer-origin';
import { acquireSingleInstance, bringForward } from './single-instance';
import { TrayState, renderTray } from './tray-state';
import { createWindowFactory, guardWebContents, secureSession } from './window-factory';

/** The part of the `electron` module this file uses. */
interface ElectronMain {
  app: AppLike;
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
const RENDERER_DIR = join(ROOT, 'renderer', 'dist');
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

  const approvalWindows = new Map<string, BrowserWindowLike>();
  const host = new DesktopHost({
    Notification: e.Notification.isSupported() ? e.Notification : undefined,
    log,
    ui: {
      // The window decides through approvals.decide (IPC); closing it declines.
      showApprovalWindow: (req, closed) =>
        new Promise<ApprovalAnswer>((resolve) => {
          const win = factory.create({
            url: `${APP_ORIGIN}/index.html#/approval/${encodeURIComponent(req.requestId)}`,
            title: '签名请求 / Signature request',
            width: 520,
            height: 640,
            alwaysOnTop: true,
            resizable: false,
          });
          approvalWindows.set(req.requestId, win);
          closed.addEventListener('abort', () => !win.isDestroyed() && win.close(), {
            once: true,
          });
          win.on('closed', () => {
            approvalWindows.delete(req.requestId);
            resolve({ decision: 'declined' });
          });
        }),
      // Not wired yet: no PIN window page exists (the renderer comes later), so fail closed.
      showPinWindow: async () => null,
      focusApprovals: () => {
        const w = [...approvalWindows.values()][0];
        if (w) bringForward(w);
        else showMain();
      },
    },
  });

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
    log('agent failed to start', err);
    app.quit();
    return;
  }
  host.bindStore(agent.store);

  const service = createOperatorService({
    tokens: agent.tokens,
    store: agent.store,
    approvals: host,
  });
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

  const tray = new e.Tray(join(ASSETS_DIR, 'tray-no-key.png'));
  const trayState = new TrayState(agent.tokens, host);
  let quitting = false;
  const quit = (): void => {
    if (quitting) return;
    quitting = true;
    unregister();
    stopEvents();
    trayState.dispose();
    tray.destroy();
    agent.close().finally(() => app.quit());
  };
  const draw = (): void =>
    renderTray(tray, e.Menu, trayState.view(), {
      iconPath: (f) => join(ASSETS_DIR, f),
      actions: { open: showMain, approvals: showMain, quit },
    });
  trayState.on('change', draw);
  tray.on('click', showMain);
  draw();
  showMain();
}

// Electron starts here; requiring this file from Node does nothing.
if (process.versions.electron) {
  startDesktop().catch((err) => {
    log('desktop start failed', err);
    process.exit(1);
  });
}
