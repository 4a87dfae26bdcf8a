/**
 * Start at login (the `autoStart` setting). Windows and macOS have a login-item API in Electron
 * (`app.setLoginItemSettings`, passed in); Linux has none, so the XDG autostart entry
 * (~/.config/autostart/<name>.desktop) is written or removed instead. A login start passes
 * `--hidden`: the agent then comes up in the tray without opening its main window.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { OperatorApi } from '../common/operator-api';

export const HIDDEN_ARG = '--hidden';
const DESKTOP_FILE = 'ukey-agent.desktop';

export interface LoginItemApp {
  setLoginItemSettings(settings: {
    openAtLogin: boolean;
    openAsHidden?: boolean;
    path?: string;
    args?: string[];
  }): void;
  getLoginItemSettings(options?: { path?: string; args?: string[] }): {
    openAtLogin: boolean;
    wasOpenedAtLogin?: boolean;
  };
}

export interface AutostartOptions {
  platform: NodeJS.Platform;
  /** The program to start: process.execPath, or the AppImage file ($APPIMAGE) on Linux. */
  exec: string;
  /** Linux: the XDG autostart directory ($XDG_CONFIG_HOME/autostart or ~/.config/autostart). */
  autostartDir: string;
  name: string;
}

/** An argument quoted for a desktop entry's Exec key (XDG Desktop Entry spec, "Exec key"). */
export function desktopExecArg(arg: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return arg;
  return `"${arg.replace(/(["`$\\])/g, '\\$1')}"`;
}

/** The XDG autostart entry starting the agent hidden in the tray. */
export function linuxAutostartEntry(o: Pick<AutostartOptions, 'exec' | 'name'>): string {
  return [
    '[Desktop Entry]',
    'Type=Application',
    `Name=${o.name.replace(/[\r\n]/g, ' ')}`,
    `Exec=${desktopExecArg(o.exec)} ${HIDDEN_ARG}`,
    'Terminal=false',
    'X-GNOME-Autostart-enabled=true',
    '',
  ].join('\n');
}

/** Turns start-at-login on or off for this user. */
export function setAutostart(app: LoginItemApp, enabled: boolean, o: AutostartOptions): void {
  if (o.platform === 'linux') {
    const file = join(o.autostartDir, DESKTOP_FILE);
    if (enabled) {
      mkdirSync(o.autostartDir, { recursive: true });
      writeFileSync(file, linuxAutostartEntry(o), { mode: 0o644 });
    } else {
      rmSync(file, { force: true });
    }
    return;
  }
  app.setLoginItemSettings({
    openAtLogin: enabled,
    // macOS starts login items without arguments: openAsHidden is its way to say "tray only".
    ...(o.platform === 'darwin' ? { openAsHidden: true } : { path: o.exec, args: [HIDDEN_ARG] }),
  });
}

/** Whether this launch should stay in the tray (a login start), not open the main window. */
export function startedHidden(
  argv: readonly string[],
  app: Pick<LoginItemApp, 'getLoginItemSettings'>,
  platform: NodeJS.Platform,
): boolean {
  if (argv.includes(HIDDEN_ARG)) return true;
  return platform === 'darwin' && app.getLoginItemSettings().wasOpenedAtLogin === true;
}

/**
 * The operator API with `settings.set` followed by the login item: when `autoStart` changes, the
 * login item is changed too (after the setting is stored, so a refused value changes nothing).
 */
export function followAutostartSetting(
  service: OperatorApi,
  apply: (enabled: boolean) => void,
): OperatorApi {
  return {
    ...service,
    'settings.set': async (r) => {
      const out = await service['settings.set'](r);
      if (r.key === 'autoStart') apply(out.autoStart);
      return out;
    },
  };
}
