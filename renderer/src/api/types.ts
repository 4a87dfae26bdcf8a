/** The renderer's view of the operator API: the shared contract plus what only the UI needs. */
export type {
  OperatorApiClient,
  OperatorEvent,
  OperatorEvents,
  OperatorMethod,
  OperatorReply,
  OperatorRequest,
  OperatorResponse,
} from '../../../main/common/operator-api';

export type ConnectionState = 'connecting' | 'open' | 'closed';

/** A file staged on the agent (loopback console: PUT /operator/stage). */
export interface StagedFile {
  stagedId: string;
  name: string;
  size: number;
}

/** An error answered by the agent (or the transport), with the contract code. */
export class OperatorError extends Error {
  override readonly name = 'OperatorError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}
