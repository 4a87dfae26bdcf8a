/**
 * One agent per user session: a second launch (autostart plus a click, say) must not open a second
 * store, token service and JSAPI port; it hands over to the first, which shows its window.
 */
import type { AppLike, BrowserWindowLike } from './electron-types';

/** Takes the lock; false (and the app quits) when another instance holds it. */
export function acquireSingleInstance(
  app: Pick<AppLike, 'requestSingleInstanceLock' | 'on' | 'quit'>,
  onSecondInstance: () => void,
): boolean {
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return false;
  }
  app.on('second-instance', onSecondInstance);
  return true;
}

/** Brings a window forward, restoring it when minimised. */
export function bringForward(
  win: Pick<BrowserWindowLike, 'isDestroyed' | 'isMinimized' | 'restore' | 'show' | 'focus'>,
): void {
  if (win.isDestroyed()) return;
  if (win.isMinimized()) win.restore();
  win.show();
  win.focus();
}
