/**
 * Result codes of the wire contract (CONTRACT.md §2). Codes keep their meaning forever. The browser
 * SDK (sdk/jsapi-client) bundles this file: keep it free of Node APIs and of imports from outside
 * main/common.
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

/** HTTP status answered with each code (client errors 4xx, server faults 5xx: seed 000 §7.1). */
export const httpStatusOf: Readonly<Record<ResultCode, number>> = {
  '0': 200,
  '1001': 400,
  '1002': 401,
  '1003': 401,
  '1004': 409,
  '1005': 403,
  '1006': 429,
  '2001': 404,
  '2002': 403,
  '2003': 403,
  '2004': 408,
  '2005': 403,
  '2006': 404,
  '2007': 400,
  '3001': 502,
  '5000': 500,
};

/** The result envelope of every JSON answer. */
export interface Envelope<T = unknown> {
  code: ResultCode;
  message: string;
  data: T | null;
}
