import type { AgentErrorCode } from './codes.js';

/**
 * Every failure of the SDK: `code` is the contract's result code (e.g. '2003' declined) or one of
 * ClientErrorCode; `message` is the agent's text, written for a developer.
 */
export class AgentError extends Error {
  override readonly name = 'AgentError';
  readonly code: AgentErrorCode;
  /** HTTP status of the answer when it came over HTTP. */
  readonly httpStatus: number | undefined;

  constructor(code: AgentErrorCode, message: string, httpStatus?: number) {
    super(message);
    this.code = code;
    this.httpStatus = httpStatus;
  }
}

export function isAgentError(e: unknown): e is AgentError {
  return e instanceof AgentError;
}
