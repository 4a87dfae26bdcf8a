/**
 * What the tray shows: a status from the keys plugged in, the requests waiting and the last error,
 * and the icon, tooltip and menu for that status (Chinese first, English second). Pure functions plus
 * one small holder that follows the token and approval events; main.ts only renders the view.
 */
import { EventEmitter } from 'node:events';
import type { MenuItemTemplate, MenuStatic, TrayLike } from './electron-types';

export type TrayStatus = 'no-key' | 'key-present' | 'request-waiting' | 'error';
export type TrayAction = 'open' | 'approvals' | 'autostart' | 'quit';

export interface TrayInputs {
  keys: number;
  pending: number;
  /** The last fault the operator should see (agent start, bridge, key); cleared when fixed. */
  error?: string;
  /** Start at login: shown as a check item when known. */
  autoStart?: boolean;
}

export interface TrayMenuItem {
  id: TrayAction | 'status';
  label: string;
  enabled: boolean;
  separatorBefore?: boolean;
  /** A check item (start at login) and its state. */
  checked?: boolean;
}

export interface TrayView {
  status: TrayStatus;
  /** Icon file name under the assets directory. */
  icon: string;
  tooltip: string;
  menu: TrayMenuItem[];
}

/** An error outranks a waiting request, which outranks the key state. */
export function trayStatus(i: TrayInputs): TrayStatus {
  if (i.error) return 'error';
  if (i.pending > 0) return 'request-waiting';
  return i.keys > 0 ? 'key-present' : 'no-key';
}

const STATUS_TEXT: Record<TrayStatus, (i: TrayInputs) => string> = {
  'no-key': () => '未插入 UKey / No UKey',
  'key-present': (i) => `已插入 ${i.keys} 个 UKey / ${i.keys} UKey(s) ready`,
  'request-waiting': (i) => `${i.pending} 个签名请求待处理 / ${i.pending} request(s) waiting`,
  error: (i) => `错误 / Error: ${i.error ?? ''}`,
};

export function trayView(i: TrayInputs): TrayView {
  const status = trayStatus(i);
  const text = STATUS_TEXT[status](i);
  return {
    status,
    icon: `tray-${status}.png`,
    // Tooltips are cut short on Windows (127 characters).
    tooltip: `UKey 签章助手 / UKey Agent — ${text}`.slice(0, 127),
    menu: [
      { id: 'status', label: text, enabled: false },
      { id: 'open', label: '打开主窗口 / Open', enabled: true, separatorBefore: true },
      {
        id: 'approvals',
        label: `待处理请求 (${i.pending}) / Pending requests (${i.pending})`,
        enabled: i.pending > 0,
      },
      ...(i.autoStart !== undefined
        ? [
            {
              id: 'autostart' as const,
              label: '开机自动启动 / Start at login',
              enabled: true,
              checked: i.autoStart,
              separatorBefore: true,
            },
          ]
        : []),
      { id: 'quit', label: '退出 / Quit', enabled: true, separatorBefore: true },
    ],
  };
}

/** The token service as the tray follows it. */
export interface KeyEvents {
  on(event: 'inserted' | 'removed', listener: () => void): unknown;
  off(event: 'inserted' | 'removed', listener: () => void): unknown;
  list(): readonly unknown[];
}

/** The approval queue as the tray follows it. */
export interface ApprovalQueueEvents {
  on(event: 'approval.requested' | 'approval.resolved', listener: () => void): unknown;
  off(event: 'approval.requested' | 'approval.resolved', listener: () => void): unknown;
  pending(): readonly unknown[];
}

export class TrayState extends EventEmitter<{ change: [TrayView] }> {
  private error: string | undefined;
  private autoStart: boolean | undefined;
  private last: TrayView;

  constructor(
    private readonly keys: KeyEvents,
    private readonly approvals: ApprovalQueueEvents,
  ) {
    super();
    this.last = trayView(this.inputs());
    for (const e of ['inserted', 'removed'] as const) keys.on(e, this.refresh);
    for (const e of ['approval.requested', 'approval.resolved'] as const)
      approvals.on(e, this.refresh);
  }

  view(): TrayView {
    return this.last;
  }

  setError(message: string | undefined): void {
    this.error = message;
    this.refresh();
  }

  setAutoStart(enabled: boolean): void {
    this.autoStart = enabled;
    this.refresh();
  }

  dispose(): void {
    for (const e of ['inserted', 'removed'] as const) this.keys.off(e, this.refresh);
    for (const e of ['approval.requested', 'approval.resolved'] as const)
      this.approvals.off(e, this.refresh);
    this.removeAllListeners();
  }

  private inputs(): TrayInputs {
    return {
      keys: this.keys.list().length,
      pending: this.approvals.pending().length,
      ...(this.error ? { error: this.error } : {}),
      ...(this.autoStart !== undefined ? { autoStart: this.autoStart } : {}),
    };
  }

  /** Emits only when something visible changed, so the tray does not flicker on every event. */
  private readonly refresh = (): void => {
    const next = trayView(this.inputs());
    if (JSON.stringify(next) === JSON.stringify(this.last)) return;
    this.last = next;
    this.emit('change', next);
  };
}

/** Puts a view on the real tray. */
export function renderTray(
  tray: TrayLike,
  Menu: MenuStatic,
  view: TrayView,
  o: { iconPath: (file: string) => string; actions: Record<TrayAction, () => void> },
): void {
  tray.setImage(o.iconPath(view.icon));
  tray.setToolTip(view.tooltip);
  const template: MenuItemTemplate[] = [];
  for (const item of view.menu) {
    if (item.separatorBefore) template.push({ type: 'separator' });
    template.push({
      id: item.id,
      label: item.label,
      enabled: item.enabled,
      ...(item.checked !== undefined ? { type: 'checkbox' as const, checked: item.checked } : {}),
      ...(item.id !== 'status' ? { click: o.actions[item.id] } : {}),
    });
  }
  tray.setContextMenu(Menu.buildFromTemplate(template));
}
