/**
 * Push events to the operator UI: only to windows our factory made, only on allowlisted event
 * channels, and only the event's payload (never an object with methods or a reference back).
 */
import { operatorEventChannel } from '../common/ipc-channels';
import type { OperatorEvent, OperatorEvents } from '../common/operator-api';
import type { BrowserWindowLike } from './electron-types';

export type Publish = <E extends OperatorEvent>(event: E, payload: OperatorEvents[E]) => void;

export function createEventPublisher(windows: () => BrowserWindowLike[]): Publish {
  return (event, payload) => {
    const channel = operatorEventChannel(event);
    for (const w of windows()) {
      if (w.isDestroyed() || w.webContents.isDestroyed()) continue;
      w.webContents.send(channel, payload);
    }
  };
}
