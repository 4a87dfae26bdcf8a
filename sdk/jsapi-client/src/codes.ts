/**
 * Result codes of the wire contract (CONTRACT §2), mirrored from main/common/codes.ts — the SDK is
 * ESM for browsers and may not import the agent's CommonJS. test/integration/sdk-canonical.test.ts
 * fails when the two lists drift apart.
 */
export const ResultCode = {
  OK: '0',
  BAD_PARAM: '1001',
  BAD_SIGN: '1002',
  TIME_WINDOW: '1003',
  NONCE_REUSED: '1004',
  APP_NOT_ALLOWED: '1005',
  RATE_LIMITED: '1006',
  NO_UKEY: '2001',
  PIN_ERROR: '2002',
  DECLINED: '2003',
  APPROVAL_TIMEOUT: '2004',
  SIGN_ID_INVALID: '2005',
  SEAL_INVALID: '2006',
  UNSUPPORTED_ALG: '2007',
  PLATFORM_UNAVAILABLE: '3001',
  INTERNAL: '5000',
} as const;

export type ResultCode = (typeof ResultCode)[keyof typeof ResultCode];

/**
 * Failures the SDK detects itself, before or without an answer from the agent. Not digits, so they
 * can never collide with codes the contract adds later.
 */
export const ClientErrorCode = {
  /** No agent answered on any host (not running, wrong port, or this origin is not registered). */
  UNREACHABLE: 'AGENT_UNREACHABLE',
  /** No answer within the request's timeout (the agent may still finish the call). */
  TIMEOUT: 'TIMEOUT',
  /** The WebSocket closed while the request was in flight; its outcome is unknown. */
  DISCONNECTED: 'DISCONNECTED',
  /** The agent answered something that is not a contract envelope. */
  BAD_ANSWER: 'BAD_ANSWER',
  /** The client was closed with close(). */
  CLOSED: 'CLOSED',
} as const;

export type ClientErrorCode = (typeof ClientErrorCode)[keyof typeof ClientErrorCode];

/** What an AgentError's `code` can be; other digit strings are contract codes added later. */
export type AgentErrorCode = ResultCode | ClientErrorCode | (string & Record<never, never>);
