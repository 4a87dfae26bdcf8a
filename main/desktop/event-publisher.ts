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

interface Source<Events extends Record<string, unknown[]>> {
  on<K extends keyof Events & string>(event: K, listener: (...args: Events[K]) => void): unknown;
  off<K extends keyof Events & string>(event: K, listener: (...args: Events[K]) => void): unknown;
}

export interface AgentEventSources {
  tokens: Source<{ inserted: [{ ukeyId: string }]; removed: [{ ukeyId: string }] }>;
  /** The approval host: requests and PIN prompts. */
  approvals: Source<{
    'approval.requested': [OperatorEvents['approval.requested']];
    'approval.resolved': [OperatorEvents['approval.resolved']];
    'pin.requested': [OperatorEvents['pin.requested']];
    'pin.resolved': [OperatorEvents['pin.resolved']];
  }>;
  relay?: Source<{ progress: [OperatorEvents['relay.progress']] }>;
}

/** Forwards the agent's events; answers the function that stops forwarding. */
export function forwardAgentEvents(publish: Publish, s: AgentEventSources): () => void {
  const inserted = (e: { ukeyId: string }): void => publish('key.inserted', { ukeyId: e.ukeyId });
  const removed = (e: { ukeyId: string }): void => publish('key.removed', { ukeyId: e.ukeyId });
  const requested = (v: OperatorEvents['approval.requested']): void =>
    publish('approval.requested', v);
  const resolved = (v: OperatorEvents['approval.resolved']): void =>
    publish('approval.resolved', v);
  const pinRequested = (v: OperatorEvents['pin.requested']): void => publish('pin.requested', v);
  const pinResolved = (v: OperatorEvents['pin.resolved']): void => publish('pin.resolved', v);
  const progress = (p: OperatorEvents['relay.progress']): void => publish('relay.progress', p);
  s.tokens.on('inserted', inserted);
  s.tokens.on('removed', removed);
  s.approvals.on('approval.requested', requested);
  s.approvals.on('approval.resolved', resolved);
  s.approvals.on('pin.requested', pinRequested);
  s.approvals.on('pin.resolved', pinResolved);
  s.relay?.on('progress', progress);
  return () => {
    s.tokens.off('inserted', inserted);
    s.tokens.off('removed', removed);
    s.approvals.off('approval.requested', requested);
    s.approvals.off('approval.resolved', resolved);
    s.approvals.off('pin.requested', pinRequested);
    s.approvals.off('pin.resolved', pinResolved);
    s.relay?.off('progress', progress);
  };
}
