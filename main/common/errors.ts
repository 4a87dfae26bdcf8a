import { ResultCode, httpStatusOf } from './codes';
import type { Envelope } from './codes';

/**
 * The one error type of the agent. Its `message` is written for the caller (a developer or an
 * operator) and must never carry stack traces, file paths or internal host names; `detail` is for
 * the local log only and is never serialised to a caller.
 */
export class AgentError extends Error {
  override readonly name = 'AgentError';

  constructor(
    readonly code: ResultCode,
    message: string,
    readonly detail?: Record<string, unknown>,
  ) {
    super(message);
  }

  get httpStatus(): number {
    return httpStatusOf[this.code];
  }

  toEnvelope(): Envelope<null> {
    return { code: this.code, message: this.message, data: null };
  }
}

export function isAgentError(e: unknown): e is AgentError {
  return e instanceof AgentError;
}

/** Any thrown value as an AgentError; unknown faults become 5000 without leaking their text. */
export function toAgentError(e: unknown): AgentError {
  if (e instanceof AgentError) return e;
  return new AgentError(ResultCode.INTERNAL, 'internal error', {
    cause: e instanceof Error ? e.message : String(e),
  });
}

export const badParam = (message: string): AgentError =>
  new AgentError(ResultCode.BAD_PARAM, message);
