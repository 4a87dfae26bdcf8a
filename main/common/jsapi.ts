/**
 * The JSAPI of seed 004 §6.3.2 as the agent serves it (CONTRACT §3): request bodies (tables 19, 21),
 * answers (tables 20, 22, 23), WebSocket frames and events. Field names are the seed's, exactly.
 * The browser SDK (sdk/jsapi-client) bundles this file: keep it free of Node APIs and of imports
 * from outside main/common.
 */
import type { ResultCode } from './codes';

export const JSAPI_PATHS = {
  info: '/api/v1/ukey/info',
  sign: '/api/v1/ukey/sign',
  status: '/api/v1/status',
  /** Extension (docs/JSAPI.md "Pairing"): a web app asks the operator to trust its origin. */
  pair: '/api/v1/pair',
  ws: '/api/v1/ws',
} as const;

export const DEFAULT_JSAPI_PORT = 18788;

/** Table 21 (+ the contract's optional UKeyId). `type` "1" signing cert, "2" encryption cert. */
export interface UKeyInfoRequest {
  version: string;
  appId: string;
  type: '1' | '2';
  UKeyId?: string;
  /** Optional replay protection a caller may add (CONTRACT §1 window and nonce rules). */
  time?: string;
  nonce?: number | string;
  /** The app's signature over the canonical string (CONTRACT §1), made by the app's server. */
  sign: string;
}

/** Table 23. `certData` is the Base64 DER certificate. */
export interface UKeyInfo {
  UKeyId: string;
  certData: string;
}

/**
 * Extension (docs/JSAPI.md "Pairing"): a page asks the operator to trust its origin for the app.
 * Signed like any request (CONTRACT §1) — by the app's server, with the key it offers.
 */
export interface PairRequest {
  version: string;
  appId: string;
  appName?: string;
  /** The app's request-signing key: base64 DER SubjectPublicKeyInfo (SM2, or RSA ≥ 2048). */
  publicKey: string;
  time: string;
  nonce: number;
  sign: string;
}

/** The answer once the operator trusted the page's origin for the app. */
export interface PairResult {
  appId: string;
  /** The origin trusted: the page's, as its browser sent it. */
  origin: string;
  paired: true;
}

/** Table 19 (+ UKeyId to pick one of several keys). */
export interface UKeySignRequest {
  version: string;
  appId: string;
  signId: string;
  /** 1 MD5, 2 SHA1, 3 SHA256, 4 SM3 */
  hashType?: 1 | 2 | 3 | 4;
  /** 1 P1, 2 P7 */
  signFormat?: 1 | 2;
  sealCode: string;
  /** Base64 */
  docHash: string;
  UKeyId?: string;
  time?: string;
  nonce?: number | string;
  sign: string;
}

export interface AgentStatus {
  version: string;
  ukeyCount: number;
}

export type WsMethod = 'ukey.info' | 'ukey.sign' | 'status';

export interface WsRequest {
  id: string | number;
  method: WsMethod;
  params?: Record<string, unknown>;
}

export interface WsAnswer<T = unknown> {
  id: string | number | null;
  code: ResultCode;
  message: string;
  data: T | null;
}

export interface WsEvent {
  event: 'ukey.inserted' | 'ukey.removed';
  data: { UKeyId: string };
}
