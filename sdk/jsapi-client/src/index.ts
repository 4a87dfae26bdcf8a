export { AgentClient } from './client.js';
export type {
  AgentClientOptions,
  AgentEventListener,
  AgentEventMap,
  AgentEventName,
  CallOptions,
  ReconnectOptions,
  Transport,
} from './client.js';
export { AgentError, isAgentError } from './errors.js';
export { ClientErrorCode, ResultCode } from './codes.js';
export type { AgentErrorCode } from './codes.js';
export { canonicalBytes, canonicalString } from './canonical.js';
// The JSAPI of seed 004 §6.3.2 (CONTRACT §3): the agent's own wire types, bundled in.
export { DEFAULT_JSAPI_PORT, JSAPI_PATHS } from '../../../main/common/jsapi';
export type {
  AgentStatus,
  PairRequest,
  PairResult,
  UKeyInfo,
  UKeyInfoRequest,
  UKeySignRequest,
  WsAnswer,
  WsEvent,
  WsMethod,
  WsRequest,
} from '../../../main/common/jsapi';
