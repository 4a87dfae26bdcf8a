// What an endpoint handler gets once the request is checked and authenticated.
import type { AppRecord } from './apps';
import type { PlatformDb } from './database';

export interface PlatformSettings {
  /** Lifetime of a signId (ms). */
  signIdTtlMs: number;
  /** Answered as a seal's platName when its app registered none. */
  platName: string;
}

export interface RequestContext {
  db: PlatformDb;
  /** The authenticated caller. */
  app: AppRecord;
  now: number;
  settings: PlatformSettings;
}

/**
 * An endpoint in two steps: called with the body it checks the fields (1001 before any
 * authentication work), and answers the step that runs once the caller is authenticated.
 */
export type Endpoint = (body: Record<string, unknown>) => (ctx: RequestContext) => unknown;
