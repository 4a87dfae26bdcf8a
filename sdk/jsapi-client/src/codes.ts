/**
 * Result codes of the wire contract (CONTRACT §2): the agent's own list (main/common/codes.ts),
 * bundled into the SDK.
 */
import type { ResultCode } from '../../../main/common/codes';

export { ResultCode } from '../../../main/common/codes';

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
