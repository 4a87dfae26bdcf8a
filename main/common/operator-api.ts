/**
 * The one operator API: what the desktop renderer (over IPC) and, later, the headless console (over
 * the loopback channel) may ask of the agent. Types only. Every value is JSON-safe (no Buffer, no
 * Date: binary is base64 or PEM, times are ms since the epoch) so both transports carry it as is.
 */
import type { ResultCode } from './codes';

/** A request with no fields. */
export type NoFields = Record<string, never>;

// ── keys & certificates ────────────────────────────────────────────────────────────────────────

export interface UKeyView {
  ukeyId: string;
  label: string;
  manufacturer: string;
  model: string;
  vendor: { id: string; name: string };
  development: boolean;
  tokenInitialized: boolean;
  pin: { initialized: boolean; countLow: boolean; finalTry: boolean; locked: boolean };
  loggedIn: boolean;
}

export interface CertificateView {
  ukeyId: string;
  keyId: string;
  label: string;
  subject: string;
  issuer: string;
  serialNumberHex: string;
  notBefore: number;
  notAfter: number;
  keyAlgorithm: 'sm2' | 'rsa' | 'ec';
  usage: 'sign' | 'encrypt' | 'both' | 'unknown';
  sha256: string;
  sm3: string;
  /** DER, base64. */
  der: string;
}

export interface KeyPairView {
  ukeyId: string;
  keyId: string;
  label: string;
  algorithm: 'sm2' | 'rsa' | 'ec';
  /** SubjectPublicKeyInfo DER, base64, when the token shows it. */
  publicKey?: string;
}

export type KeyGenAlgorithmName = 'sm2' | 'rsa2048' | 'ec-p256';

// ── seals (central platform) ───────────────────────────────────────────────────────────────────

export interface SealQuery {
  orgCode: string;
  /** '0' = every type. */
  sealType: string;
  certNumber?: string;
  UKeyId?: string;
}

export interface SealView {
  sealCode: string;
  sealName: string;
  sealType: string;
  signId: string;
  state: number;
  UKeyId: string;
  sealInvalidTime: string;
  /** Base64 seal image. */
  moulageData?: string;
}

export interface OutboxItemView {
  id: number;
  kind: string;
  state: string;
  attempts: number;
  lastError?: string;
  createdAt: number;
  updatedAt: number;
}

// ── requests & history ─────────────────────────────────────────────────────────────────────────

/** A signature waiting for the signer (the origin is the browser's, never the page's). */
export interface PendingApprovalView {
  requestId: string;
  origin: string;
  appId: string;
  appName?: string;
  sealCode: string;
  sealName: string;
  sealType?: string;
  moulageData?: string;
  ukeyId: string;
  tokenLabel: string;
  development: boolean;
  certSubject: string;
  format: 'P1' | 'P7';
  hashName: string;
  digestHex: string;
  /** When the request arrived (ms). */
  receivedAt: number;
}

/** "Approve the next `count` requests from this origin for this seal within `ttlMs`". */
export interface BatchApproval {
  count: number;
  ttlMs: number;
}

export interface ApprovalDecisionInput {
  requestId: string;
  decision: 'approved' | 'declined';
  /** The user PIN typed in the approval window; used once, for this request's key only. */
  pin?: string;
  /** Only with 'approved': a bounded standing policy for the following requests. */
  batch?: BatchApproval;
}

export interface PolicyView {
  id: number;
  appId: string;
  sealCode: string;
  origin?: string;
  maxCount: number;
  used: number;
  createdAt: number;
  expiresAt: number;
  revokedAt?: number;
  active: boolean;
}

export interface ApprovalRecordView {
  id: number;
  requestId: string;
  appId: string;
  origin?: string;
  sealCode: string;
  ukeyId: string;
  digestHex: string;
  format: 'p1' | 'p7';
  decision: 'approved' | 'declined' | 'timeout';
  decidedBy: 'signer' | 'policy';
  policyId?: number;
  decidedAt: number;
}

// ── trusted apps ───────────────────────────────────────────────────────────────────────────────

export interface TrustedAppView {
  appId: string;
  name?: string;
  /** SubjectPublicKeyInfo DER, base64. */
  publicKey: string;
  keyAlgorithm: 'sm2' | 'rsa';
  origins: string[];
  createdAt: number;
  updatedAt: number;
  revokedAt?: number;
}

// ── relay ──────────────────────────────────────────────────────────────────────────────────────

export type RelayJobStateName = 'queued' | 'running' | 'paused' | 'done' | 'failed' | 'canceled';

export interface RelayJobView {
  id: number;
  kind: 'upload' | 'download';
  state: RelayJobStateName;
  localPath: string;
  fileId: string | null;
  filename: string | null;
  size: number | null;
  offset: number;
  error: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface RelayProgressView {
  jobId: number;
  kind: 'upload' | 'download';
  bytes: number;
  total: number | null;
  rate: number;
  etaMs: number | null;
}

// ── documents & cloud signing ──────────────────────────────────────────────────────────────────

export interface DocumentSignatureView {
  fieldName?: string;
  signer: string;
  signedAt?: number;
  /** The signature covers the bytes it claims and its value verifies. */
  intact: boolean;
  /** The revision signed is the whole document (nothing appended after it). */
  coversWholeDocument: boolean;
  chainTrusted: boolean;
  problems: string[];
}

export interface CloudApplyInput {
  sealCode: string;
  /** Document digest, base64. */
  docHash: string;
  hashType: 1 | 2 | 3 | 4;
}

export interface CloudApplyView {
  requestId: string;
  /** What the signer scans or opens to confirm on their phone. */
  confirmUrl?: string;
  expiresAt?: number;
}

export interface CloudResultView {
  requestId: string;
  state: 'pending' | 'confirmed' | 'rejected' | 'expired';
}

export interface CloudSignView {
  requestId: string;
  /** Base64 signature (P1) or CMS (P7). */
  signature: string;
}

// ── audit & settings ───────────────────────────────────────────────────────────────────────────

export interface AuditSearchInput {
  /** Entries after this seq (paging). */
  afterSeq?: number;
  limit?: number;
  source?: string;
  appId?: string;
  interface?: string;
  /** Only entries whose result code is not '0'. */
  failuresOnly?: boolean;
  from?: number;
  to?: number;
}

export interface AuditEntryView {
  seq: number;
  time: number;
  source: string;
  appId: string | null;
  origin: string | null;
  interface: string;
  resultCode: string;
  message: string;
  durationMs: number | null;
  hash: string;
}

export interface AuditVerifyView {
  ok: boolean;
  entries: number;
  seals: number;
  headSeq: number;
  unsealed: number;
  firstBadSeq?: number;
  badSealId?: number;
  reason?: string;
}

export interface AuditExportView {
  format: 'jsonl' | 'csv';
  entries: number;
  content: string;
}

export interface SettingsView {
  jsapiPort: number;
  approvalTimeoutMs: number;
  platformUrl: string | null;
  auditSealIntervalMs: number;
  rateLimitPerMinute: number;
  autoStart: boolean;
}

export type SettingKey = keyof SettingsView;

// ── the method map ─────────────────────────────────────────────────────────────────────────────

interface M<Req, Res> {
  request: Req;
  response: Res;
}

/** Every operator method: name → request and response. */
export interface OperatorMethods {
  'keys.list': M<NoFields, UKeyView[]>;
  'keys.certificates': M<{ ukeyId: string }, CertificateView[]>;
  'keys.pairs': M<{ ukeyId: string }, KeyPairView[]>;
  'keys.generate': M<
    { ukeyId: string; algorithm: KeyGenAlgorithmName; label: string },
    KeyPairView
  >;
  'keys.csr': M<{ ukeyId: string; keyLabel: string; subject: string }, { pem: string }>;
  'keys.importCert': M<{ ukeyId: string; certificate: string; keyLabel?: string }, CertificateView>;
  'keys.delete': M<{ ukeyId: string; label: string }, { deleted: number }>;
  /** The PINs are asked by the agent's own PIN window, never carried in this request. */
  'keys.changePin': M<{ ukeyId: string }, null>;
  'keys.unblockPin': M<{ ukeyId: string }, null>;

  'seals.query': M<SealQuery, SealView[]>;
  'seals.file': M<{ filing: Record<string, string | number> }, { sealCode: string }>;
  'seals.setState': M<{ sealCode: string; state: 1 | 3 | 4 }, null>;
  'outbox.list': M<NoFields, OutboxItemView[]>;

  'approvals.pending': M<NoFields, PendingApprovalView[]>;
  'approvals.decide': M<ApprovalDecisionInput, null>;
  'approvals.list': M<{ limit?: number; appId?: string }, ApprovalRecordView[]>;
  'policies.list': M<{ includeInactive?: boolean }, PolicyView[]>;
  'policies.add': M<
    { appId: string; sealCode: string; maxCount: number; ttlMs: number; origin?: string },
    PolicyView
  >;
  'policies.revoke': M<{ id: number }, PolicyView>;

  'apps.list': M<NoFields, TrustedAppView[]>;
  'apps.add': M<
    { appId: string; name?: string; publicKey: string; origins: string[]; replace?: boolean },
    TrustedAppView
  >;
  'apps.revoke': M<{ appId: string }, TrustedAppView>;

  'relay.list': M<NoFields, RelayJobView[]>;
  'relay.upload': M<{ localPath: string }, RelayJobView>;
  'relay.download': M<{ fileId: string; localPath: string }, RelayJobView>;
  'relay.pause': M<{ jobId: number }, RelayJobView>;
  'relay.resume': M<{ jobId: number }, RelayJobView>;
  'relay.cancel': M<{ jobId: number }, RelayJobView>;

  'documents.verify': M<{ path: string }, DocumentSignatureView[]>;

  'cloud.apply': M<CloudApplyInput, CloudApplyView>;
  'cloud.result': M<{ requestId: string }, CloudResultView>;
  'cloud.sign': M<{ requestId: string }, CloudSignView>;

  'audit.search': M<AuditSearchInput, { entries: AuditEntryView[]; nextAfterSeq: number | null }>;
  'audit.verify': M<{ publicKey?: string }, AuditVerifyView>;
  'audit.export': M<{ format: 'jsonl' | 'csv'; from?: number; to?: number }, AuditExportView>;

  'settings.get': M<NoFields, SettingsView>;
  'settings.set': M<{ key: SettingKey; value: SettingsView[SettingKey] }, SettingsView>;
}

export type OperatorMethod = keyof OperatorMethods;
export type OperatorRequest<K extends OperatorMethod> = OperatorMethods[K]['request'];
export type OperatorResponse<K extends OperatorMethod> = OperatorMethods[K]['response'];

/** The agent's implementation of the API (desktop: operator-service.ts). */
export type OperatorApi = {
  [K in OperatorMethod]: (req: OperatorRequest<K>) => Promise<OperatorResponse<K>>;
};

/** What the agent pushes to the operator UI. */
export interface OperatorEvents {
  'key.inserted': { ukeyId: string };
  'key.removed': { ukeyId: string };
  'approval.requested': PendingApprovalView;
  'approval.resolved': { requestId: string; decision: 'approved' | 'declined' | 'timeout' };
  'relay.progress': RelayProgressView;
}

export type OperatorEvent = keyof OperatorEvents;

/** The reply to every call on either transport: the contract's envelope. */
export type OperatorReply<T> =
  | { code: '0'; message: string; data: T }
  | { code: Exclude<ResultCode, '0'>; message: string; data: null };

/** The object the preload exposes as `window.operatorApi`. */
export interface OperatorApiClient {
  invoke<K extends OperatorMethod>(
    method: K,
    request: OperatorRequest<K>,
  ): Promise<OperatorReply<OperatorResponse<K>>>;
  /** Subscribes to a push event; answers the unsubscribe function. */
  on<E extends OperatorEvent>(event: E, listener: (payload: OperatorEvents[E]) => void): () => void;
}
