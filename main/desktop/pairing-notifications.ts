// A site asking to be trusted (POST /api/v1/pair) must reach the operator even with no window
// open: an OS notification names the origin as the browser sent it; a click opens the app.
import type { PairingView } from '../common/operator-api';
import type { NotificationCtor } from './electron-types';

/** What the pairing service offers: its 'requested' event. */
export interface PairingEventSource {
  on(event: 'requested', listener: (v: PairingView) => void): unknown;
  off(event: 'requested', listener: (v: PairingView) => void): unknown;
}

/** The notice's words: the origin first (what the operator must check), then the app. */
export function pairingNotice(v: PairingView): { title: string; body: string } {
  const app = v.appName ? `${v.appId}（${v.appName}）` : v.appId;
  return {
    title: '配对请求 / Pairing request',
    body: `${v.origin}\n请求信任 / asks to be trusted: ${app}`,
  };
}

/** Notifies each pairing request; answers the function that stops it. */
export function notifyPairings(
  pairing: PairingEventSource,
  Notification: NotificationCtor,
  o: { onClick?: () => void; log?: (msg: string, detail?: unknown) => void } = {},
): () => void {
  const requested = (v: PairingView): void => {
    try {
      const note = new Notification(pairingNotice(v));
      if (o.onClick) note.on('click', o.onClick);
      note.show();
    } catch (e) {
      o.log?.('notification failed', e);
    }
  };
  pairing.on('requested', requested);
  return () => pairing.off('requested', requested);
}
