/**
 * OS notifications for key events: a UKey plugged in (with a warning when it is a development key
 * or its PIN is locked or on its final try) or pulled out. Requests are announced by the approval
 * host. A notification never carries a PIN, a certificate or a digest: only the key's label and id.
 */
import type { NotificationCtor } from './electron-types';

export interface KeyInfoLike {
  ukeyId: string;
  label: string;
  development: boolean;
  pin: { locked: boolean; finalTry: boolean };
}

export interface KeyEventSource {
  on(event: 'inserted' | 'removed', listener: (e: { ukeyId: string }) => void): unknown;
  off(event: 'inserted' | 'removed', listener: (e: { ukeyId: string }) => void): unknown;
  list(): readonly KeyInfoLike[];
}

export interface KeyNotice {
  title: string;
  body: string;
}

export function insertedNotice(k: KeyInfoLike): KeyNotice {
  const notes: string[] = [];
  if (k.pin.locked) notes.push('PIN 已锁定 / PIN locked');
  else if (k.pin.finalTry) notes.push('PIN 仅剩最后一次 / PIN: final try');
  if (k.development) notes.push('开发用，不可用于正式签章 / development key, not for production');
  return {
    title: 'UKey 已插入 / UKey inserted',
    body: [`${k.label} (${k.ukeyId})`, ...notes].join(' — '),
  };
}

export function removedNotice(ukeyId: string, label: string | undefined): KeyNotice {
  return {
    title: 'UKey 已拔出 / UKey removed',
    body: label !== undefined ? `${label} (${ukeyId})` : ukeyId,
  };
}

/** Shows a notification per key event; answers the function that stops. */
export function notifyKeyEvents(
  tokens: KeyEventSource,
  Notification: NotificationCtor,
  o: { onClick?: () => void; log?: (msg: string, detail?: unknown) => void } = {},
): () => void {
  // Labels of the keys seen, so a removal can still name the key it was.
  const labels = new Map<string, string>(tokens.list().map((k) => [k.ukeyId, k.label]));
  const show = (n: KeyNotice): void => {
    try {
      const note = new Notification({ title: n.title, body: n.body, silent: true });
      if (o.onClick) note.on('click', o.onClick);
      note.show();
    } catch (e) {
      o.log?.('notification failed', e);
    }
  };
  const inserted = ({ ukeyId }: { ukeyId: string }): void => {
    const k = tokens.list().find((x) => x.ukeyId === ukeyId);
    if (!k) return; // gone again already
    labels.set(ukeyId, k.label);
    show(insertedNotice(k));
  };
  const removed = ({ ukeyId }: { ukeyId: string }): void => {
    show(removedNotice(ukeyId, labels.get(ukeyId)));
    labels.delete(ukeyId);
  };
  tokens.on('inserted', inserted);
  tokens.on('removed', removed);
  return () => {
    tokens.off('inserted', inserted);
    tokens.off('removed', removed);
  };
}
