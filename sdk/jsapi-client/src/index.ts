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
export { DEFAULT_JSAPI_PORT, JSAPI_PATHS } from './types.js';
export type {
  AgentStatus,
  UKeyInfo,
  UKeyInfoRequest,
  UKeySignRequest,
  WsAnswer,
  WsEvent,
  WsMethod,
  WsRequest,
} from './types.js';
