/**
 * The IPC channels of the operator API (operator-api.ts): the allowlist of channel names, and one
 * small validator per method for the request's shape. The router checks every payload here before
 * the agent sees it; the renderer is treated as untrusted input like any caller.
 */
import { badParam } from './errors';
import type {
  OperatorEvent,
  OperatorMethod,
  OperatorMethods,
  OperatorRequest,
  SettingKey,
} from './operator-api';

// ── the allowlists ─────────────────────────────────────────────────────────────────────────────

const CHANNEL_PREFIX = 'operator:';
const EVENT_PREFIX = 'operator-event:';

export const operatorChannel = <K extends OperatorMethod>(method: K): `operator:${K}` =>
  `${CHANNEL_PREFIX}${method}`;
export const operatorEventChannel = <E extends OperatorEvent>(event: E): `operator-event:${E}` =>
  `${EVENT_PREFIX}${event}`;

/** A validator answers the typed value or throws 1001 naming the field. */
export type Validator<T> = (value: unknown, path: string) => T;

// ── tiny validators ────────────────────────────────────────────────────────────────────────────

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' &&
  v !== null &&
  !Array.isArray(v) &&
  (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null);

export const str =
  (max: number, min = 1): Validator<string> =>
  (v, path) => {
    if (typeof v !== 'string' || v.length < min || v.length > max)
      throw badParam(`${path} must be a string of ${min} to ${max} characters`);
    return v;
  };

export const int =
  (min: number, max: number): Validator<number> =>
  (v, path) => {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max)
      throw badParam(`${path} must be an integer from ${min} to ${max}`);
    return v;
  };

export const bool: Validator<boolean> = (v, path) => {
  if (typeof v !== 'boolean') throw badParam(`${path} must be true or false`);
  return v;
};

export const oneOf =
  <const T extends readonly (string | number)[]>(...options: T): Validator<T[number]> =>
  (v, path) => {
    if (!options.includes(v as string | number))
      throw badParam(`${path} must be one of ${options.join(', ')}`);
    return v as T[number];
  };

export const arrayOf =
  <T>(item: Validator<T>, max: number, min = 0): Validator<T[]> =>
  (v, path) => {
    if (!Array.isArray(v) || v.length < min || v.length > max)
      throw badParam(`${path} must be a list of ${min} to ${max} items`);
    return v.map((x, i) => item(x, `${path}[${i}]`));
  };

/** Marks a field optional: absent (or undefined) passes, anything else must pass `inner`. */
export interface Optional<T> {
  optional: Validator<T>;
}
export const optional = <T>(inner: Validator<T>): Optional<T> => ({ optional: inner });

type Shape = Record<string, Validator<unknown> | Optional<unknown>>;
type Out<S extends Shape> = {
  [K in keyof S as S[K] extends Optional<unknown> ? never : K]: S[K] extends Validator<infer T>
    ? T
    : never;
} & {
  [K in keyof S as S[K] extends Optional<unknown> ? K : never]?: S[K] extends Optional<infer T>
    ? T
    : never;
};

/** A plain object with exactly these fields: unknown fields are refused, not ignored. */
export const obj =
  <S extends Shape>(shape: S): Validator<Out<S>> =>
  (v, path) => {
    if (!isPlainObject(v)) throw badParam(`${path} must be an object`);
    for (const k of Object.keys(v))
      if (!Object.prototype.hasOwnProperty.call(shape, k))
        throw badParam(`${path}.${k} is unknown`);
    const out: Record<string, unknown> = {};
    for (const [k, f] of Object.entries(shape)) {
      const value = v[k];
      if (typeof f === 'function') out[k] = f(value, `${path}.${k}`);
      else if (value !== undefined) out[k] = f.optional(value, `${path}.${k}`);
    }
    return out as Out<S>;
  };

/**
 * One of several object shapes, chosen by a field only that shape has (e.g. `path` | `stagedId`):
 * exactly one shape's key must be present.
 */
export const variant =
  <T>(...options: [key: string, shape: Validator<T>][]): Validator<T> =>
  (v, path) => {
    if (!isPlainObject(v)) throw badParam(`${path} must be an object`);
    const hits = options.filter(([k]) => v[k] !== undefined);
    if (hits.length !== 1)
      throw badParam(`${path} needs exactly one of ${options.map(([k]) => k).join(', ')}`);
    return hits[0]![1](v, path);
  };

/** A flat record of short strings and finite numbers (platform forms the main process re-checks). */
export const flatRecord =
  (maxKeys: number): Validator<Record<string, string | number>> =>
  (v, path) => {
    if (!isPlainObject(v)) throw badParam(`${path} must be an object`);
    const entries = Object.entries(v);
    if (entries.length > maxKeys) throw badParam(`${path} may have at most ${maxKeys} fields`);
    const out: Record<string, string | number> = {};
    for (const [k, x] of entries) {
      if (!/^[A-Za-z][A-Za-z0-9_]{0,63}$/.test(k))
        throw badParam(`${path}.${k} is not a field name`);
      if (typeof x === 'number' && Number.isFinite(x)) out[k] = x;
      else if (typeof x === 'string' && x.length <= 2_000_000) out[k] = x;
      else throw badParam(`${path}.${k} must be a string or a number`);
    }
    return out;
  };

// ── field vocabulary ───────────────────────────────────────────────────────────────────────────

const none = obj({});
const ukeyId = str(128);
const label = str(64);
const appId = str(64);
const sealCode = str(64);
const origin = str(512);
const requestId = str(128);
/** A pairing request id (32 hex digits). */
const hexId32: Validator<string> = (v, path) => {
  if (typeof v !== 'string' || !/^[0-9a-f]{32}$/.test(v))
    throw badParam(`${path} is not a pairing id`);
  return v;
};
const localPath = str(4096);
/** The staging area's ids: 32 hex characters. */
const stagedId: Validator<string> = (v, path) => {
  if (typeof v !== 'string' || !/^[0-9a-f]{32}$/.test(v))
    throw badParam(`${path} is not a staged file id`);
  return v;
};
const filename = str(255);
/** A document sent inline (PDFs up to ~700 KB; larger ones go through staging). */
const contentBase64 = str(1024 * 1024 - 4096);
const jobId = int(1, Number.MAX_SAFE_INTEGER);
const time = int(0, 8_640_000_000_000_000);
/** PEM text or base64 DER; the service parses it. */
const binaryText = str(64 * 1024);

const SETTING_KEYS = [
  'jsapiPort',
  'approvalTimeoutMs',
  'platformUrl',
  'auditSealIntervalMs',
  'rateLimitPerMinute',
  'autoStart',
  'relayMaxKiBps',
] as const satisfies readonly SettingKey[];

/** Exactly the method's request type: a validator producing anything else fails to compile. */
type Validators = { [K in OperatorMethod]: Validator<OperatorRequest<K>> };

const settingValue: Validator<string | number | boolean | null> = (v, path) => {
  if (v === null || typeof v === 'boolean' || typeof v === 'string' || typeof v === 'number')
    return v; // each setting's own check (store/settings.ts) decides the rest
  throw badParam(`${path} must be a string, number, boolean or null`);
};

const VALIDATORS: Validators = {
  'keys.list': none,
  'keys.certificates': obj({ ukeyId }),
  'keys.pairs': obj({ ukeyId }),
  'keys.generate': obj({ ukeyId, algorithm: oneOf('sm2', 'rsa2048', 'ec-p256'), label }),
  'keys.csr': obj({ ukeyId, keyLabel: label, subject: str(1024) }),
  'keys.importCert': obj({ ukeyId, certificate: binaryText, keyLabel: optional(label) }),
  'keys.delete': obj({ ukeyId, label }),
  'keys.exportCert': obj({
    ukeyId,
    keyId: optional(str(256)),
    sha256: optional(str(64, 64)),
  }),
  'keys.changePin': obj({ ukeyId }),
  'keys.unblockPin': obj({ ukeyId }),

  'pins.pending': none,
  // 256: a prompt of kind 'passphrase' takes the key store passphrase, longer than any PIN.
  'pins.answer': obj({ requestId, pin: optional(str(256)), cancel: optional(bool) }),

  'seals.query': obj({
    orgCode: str(64),
    sealType: oneOf('0', '01', '02', '03', '04', '05', '06', '07', '08'),
    certType: optional(oneOf(0, 1, 2)),
    certNumber: optional(str(128)),
    UKeyId: optional(ukeyId),
  }),
  'seals.file': obj({ filing: flatRecord(64) }),
  'seals.setState': obj({ sealCode, state: oneOf(1, 3, 4) }),
  'outbox.list': none,

  'approvals.pending': none,
  'approvals.decide': obj({
    requestId,
    decision: oneOf('approved', 'declined'),
    pin: optional(str(64)),
    batch: optional(obj({ count: int(1, 10_000), ttlMs: int(1, 30 * 86_400_000) })),
  }),
  'approvals.list': obj({ limit: optional(int(1, 10_000)), appId: optional(appId) }),
  'policies.list': obj({ includeInactive: optional(bool) }),
  'policies.add': obj({
    appId,
    sealCode,
    maxCount: int(1, 10_000),
    ttlMs: int(1, 30 * 86_400_000),
    origin: optional(origin),
  }),
  'policies.revoke': obj({ id: jobId }),

  'apps.list': none,
  'apps.add': obj({
    appId,
    name: optional(str(128)),
    publicKey: binaryText,
    origins: arrayOf(origin, 32, 1),
    replace: optional(bool),
  }),
  'apps.revoke': obj({ appId }),
  'apps.pairings': none,
  'apps.pairingDecide': obj({
    pairingId: hexId32,
    decision: oneOf('approved', 'declined'),
  }),

  'relay.list': none,
  'relay.upload': variant<OperatorRequest<'relay.upload'>>(
    ['localPath', obj({ localPath })],
    ['stagedId', obj({ stagedId })],
  ),
  'relay.download': obj({ fileId: str(256), localPath: optional(localPath) }),
  'relay.pause': obj({ jobId }),
  'relay.resume': obj({ jobId }),
  'relay.cancel': obj({ jobId }),

  'documents.verify': variant<OperatorRequest<'documents.verify'>>(
    ['path', obj({ path: localPath })],
    ['stagedId', obj({ stagedId })],
    ['contentBase64', obj({ contentBase64, filename })],
  ),

  'cloud.apply': obj({
    sealCode,
    orgCode: str(64),
    mobile: str(32),
    credentNo: str(64),
    docHash: str(4096),
    hashType: oneOf(1, 2, 3, 4),
    format: optional(oneOf('P1', 'P7')),
    name: optional(str(128)),
    idCard: optional(str(64)),
  }),
  'cloud.result': obj({ requestId }),
  'cloud.sign': obj({ requestId }),

  'audit.search': obj({
    afterSeq: optional(int(0, Number.MAX_SAFE_INTEGER)),
    limit: optional(int(1, 1000)),
    source: optional(str(32)),
    appId: optional(appId),
    interface: optional(str(128)),
    failuresOnly: optional(bool),
    from: optional(time),
    to: optional(time),
  }),
  'audit.verify': obj({ publicKey: optional(binaryText) }),
  'audit.export': obj({ format: oneOf('jsonl', 'csv'), from: optional(time), to: optional(time) }),

  'settings.get': none,
  'settings.set': obj({ key: oneOf(...SETTING_KEYS), value: settingValue }),
  'settings.modules': none,
  'settings.platform': none,
};

/** Every method, in a stable order. */
export const OPERATOR_METHODS = Object.freeze(Object.keys(VALIDATORS) as OperatorMethod[]);

/** Every push event: a record, so adding one to OperatorEvents fails to compile until listed. */
const EVENTS: { [E in OperatorEvent]: true } = {
  'key.inserted': true,
  'key.removed': true,
  'approval.requested': true,
  'approval.resolved': true,
  'relay.progress': true,
  'relay.state': true,
  'pin.requested': true,
  'pin.resolved': true,
  'approval.recorded': true,
  'pairing.requested': true,
  'pairing.resolved': true,
};
export const OPERATOR_EVENTS = Object.freeze(Object.keys(EVENTS) as OperatorEvent[]);

export const isOperatorMethod = (m: unknown): m is OperatorMethod =>
  typeof m === 'string' && Object.prototype.hasOwnProperty.call(VALIDATORS, m);

export const isOperatorEvent = (e: unknown): e is OperatorEvent =>
  typeof e === 'string' && Object.prototype.hasOwnProperty.call(EVENTS, e);

/** The method a channel name stands for, or undefined when it is not on the allowlist. */
export function methodOfChannel(channel: unknown): OperatorMethod | undefined {
  if (typeof channel !== 'string' || !channel.startsWith(CHANNEL_PREFIX)) return undefined;
  const m = channel.slice(CHANNEL_PREFIX.length);
  return isOperatorMethod(m) ? m : undefined;
}

/** The request for `method`, checked; 1001 for an unknown method or a malformed payload. */
export function validateRequest<K extends OperatorMethod>(
  method: K,
  payload: unknown,
): OperatorMethods[K]['request'] {
  if (!isOperatorMethod(method)) throw badParam(`unknown operator method`);
  return VALIDATORS[method](payload, 'request');
}
