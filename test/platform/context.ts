// What an endpoint handler gets once the request is checked and authenticated.
import type { AppRecord } from './apps';
import type { PlatformDb } from './database';

export interface PlatformSettings {
  /** Lifetime of a signId (ms). */
  signIdTtlMs: number;
  /** Answered as a seal's platName when its app registered none. */
  platName: string;
  /** Lifetime of a cloud authId before confirmation, and of its authCode after (ms). */
  cloudAuthTtlMs: number;
  /** The platform's own base URL, for the H5 pages' authUrl (set once it listens). */
  baseUrl: string;
  /** Delivers a one-time confirmation code to the holder (the reference platform logs it). */
  deliverAuthCode: (delivery: AuthCodeDelivery) => void;
}

/** What the holder is sent out of band (an SMS, in a real platform). */
export interface AuthCodeDelivery {
  authId: string;
  sealCode: string;
  mobile: string;
  code: string;
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
