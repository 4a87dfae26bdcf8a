/**
 * The one operator API: what the desktop renderer (over IPC) and the headless console (over the
 * authenticated loopback channel, `serve --console`) may ask of the agent. Types only. Every value is JSON-safe (no Buffer, no
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
  /** The KeyUsage bits set (RFC 5280 names); absent when the certificate has no KeyUsage. */
  keyUsage?: string[];
  /** The issuer's signature algorithm, e.g. 'SM2-with-SM3', 'RSA-SHA256', or its OID if unknown. */
  signatureAlgorithm: string;
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

/**
 * A PIN the agent needs now (the console asks it in the web UI; Electron in its PIN window). Kind
 * 'passphrase' is the agent's key store passphrase (the desktop unlocking its platform identity at
 * start): no key, so ukeyId and tokenLabel are ''.
 */
/**
 * What a PIN is asked for, so the UI can say it in the operator's language (`reason` is the same
 * in English, for terminals and logs). Absent for rarer prompts: the UI shows `reason`.
 */
export type PinPurpose =
  | { action: 'sign'; origin: string; seal: string }
  | { action: 'approve'; origin: string }
  | { action: 'keys' }
  | { action: 'generate'; label: string }
  | { action: 'import-cert' }
  | { action: 'delete'; label: string }
  | { action: 'change-pin'; step: 'old' | 'new' }
  | { action: 'unblock-pin'; step: 'so' | 'new' }
  | { action: 'init-token'; step: 'so' | 'new' };

export interface PinPromptView {
  requestId: string;
  ukeyId: string;
  tokenLabel: string;
  kind: 'user' | 'so' | 'new-user' | 'new-so' | 'passphrase';
  /** Tries left before the key locks, when the key tells. */
  triesLeft?: number;
  /** What the PIN is for, in words the signer understands (English). */
  reason: string;
  /** The same, structured, for the UI's own language. */
  purpose?: PinPurpose;
  /** The previous PIN given for this key was wrong. */
  previousAttemptFailed?: boolean;
  /** When the prompt is cancelled if unanswered (ms). */
  expiresAt: number;
}

export interface PinAnswerInput {
  requestId: string;
  /** The PIN (or passphrase, at most 256 characters); absent only with cancel. */
  pin?: string;
  cancel?: boolean;
}

// ── seals (central platform) ───────────────────────────────────────────────────────────────────

export interface SealQuery {
  orgCode: string;
  /** '0' = every type. */
  sealType: string;
  /** 0 every kind (default), 1 UKey seals, 2 cloud seals. */
  certType?: 0 | 1 | 2;
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
  /** 1 UKey certificate, 2 cloud certificate. */
  certType: 1 | 2;
  /** Base64 seal image. */
  moulageData?: string;
}

/** What seals.file / seals.setState answer: the platform's answer, or still queued in the outbox. */
export interface SealOperationView {
  outboxId: number;
  /** 'pending': not delivered yet (the platform was unreachable); the agent keeps retrying. */
  status: 'delivered' | 'pending';
  /** The filed seal's code (seals.file, once delivered). */
  sealCode?: string;
  lastError?: string;
}

export interface OutboxItemView {
  id: number;
  kind: string;
  /** 'pending' | 'delivered' | 'failed'. */
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
  /** When it is declined as timed out if unanswered (ms). */
  expiresAt?: number;
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
  /** What the page was answered, from the audit log: '0' = the signature was made. */
  result?: { code: string; message: string };
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

/**
 * A web app asking to be trusted (POST /api/v1/pair): the origin exactly as the browser sent it,
 * the app id and name it claims, and its request-signing key (proved by a signature with it).
 */
export interface PairingView {
  pairingId: string;
  /** The Origin header of the request, as the browser sent it. */
  origin: string;
  appId: string;
  appName?: string;
  keyAlgorithm: 'sm2' | 'rsa';
  /** SHA-256 of the key's SubjectPublicKeyInfo, hex in groups of 4: read it out to the app's owner. */
  fingerprint: string;
  /** 'new': an app the agent does not know; 'add-origin': a trusted app, same key, new origin. */
  effect: 'new' | 'add-origin';
  receivedAt: number;
  expiresAt: number;
}

export interface PairingDecision {
  pairingId: string;
  decision: 'approved' | 'declined';
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

/** The document to verify: a local path (Electron), a staged upload, or the bytes themselves. */
export type DocumentSource =
  { path: string } | { stagedId: string } | { contentBase64: string; filename: string };

/** One step of checking one signature (seed 004 table 28), as the platform answered it. */
export interface VerifyStepView {
  /** 当前验证环节: the step's name. */
  step: string;
  /** 提示: what was found (Simplified Chinese). */
  hint: string;
  passed: boolean;
}

/** One signature in the document (seed 004 table 27); unknown values are ''. */
export interface DocumentSignatureView {
  sealCode: string;
  sealType: string;
  /** yyyy-MM-dd HH:mm:ss, China Standard Time. */
  signTime: string;
  provider: string;
  certIssuer: string;
  certOwner: string;
  certSn: string;
  certValidStart: string;
  certValidEnd: string;
  /** The seal image, base64 ('' when unknown). */
  sealPicBase64: string;
  /** Every step passed. */
  passed: boolean;
  steps: VerifyStepView[];
}

/** The platform's verdict on a document (seed 004 §6.4 tables 26–28). */
export interface DocumentVerifyView {
  fileName: string;
  fileSize: number;
  signCount: number;
  /** True only when there is at least one signature and every step of every one passed. */
  verifyResult: boolean;
  signatures: DocumentSignatureView[];
}

export interface CloudApplyInput {
  sealCode: string;
  /** The seal's organisation (the agent fetches a fresh signId with it). */
  orgCode: string;
  /** The holder's telephone number: the confirmation code goes there. */
  mobile: string;
  /** The holder's ID number (credentNo of the sign call). */
  credentNo: string;
  /** P7: the document's SM3 digest; P1: the bytes to sign. Base64. */
  docHash: string;
  /** 4 = SM3 (the only one an SM2 cloud key signs with). */
  hashType: 1 | 2 | 3 | 4;
  /** Default 'P7'. */
  format?: 'P1' | 'P7';
  name?: string;
  idCard?: string;
}

export interface CloudApplyView {
  requestId: string;
  /** The platform's page where the holder confirms: show it as a QR code and a link. */
  authUrl: string;
  /** Same as authUrl (kept for the first UI drafts). */
  confirmUrl: string;
  /** 'H5' or 'PC'. */
  clientType: string;
  /** When the agent forgets this application (ms). */
  expiresAt: number;
}

export interface CloudResultView {
  requestId: string;
  state: 'pending' | 'confirmed' | 'rejected' | 'expired';
  /** Why, for 'rejected' / 'expired'. */
  message?: string;
}

export interface CloudSignView {
  requestId: string;
  format: 'P1' | 'P7';
  /** Base64 DER: SM2 signature (P1) or CMS ContentInfo (P7). */
  signature: string;
}

// ── staging (console uploads) ──────────────────────────────────────────────────────────────────

/** A file the browser uploaded with PUT /operator/stage (the console has no local paths). */
export interface StagedFileView {
  stagedId: string;
  name: string;
  size: number;
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
  /** File relay bandwidth cap, KiB/s for all transfers together; 0 = none. Applies live. */
  relayMaxKiBps: number;
}

export type SettingKey = keyof SettingsView;

/** A PKCS#11 module the agent loaded or tried to (paths are of the agent's own machine). */
export interface Pkcs11ModuleView {
  path: string;
  loaded: boolean;
  /** The vendor profile it runs with ('generic' for a module no profile names). */
  profileId: string;
  /** C_GetInfo's manufacturer, when loaded. */
  manufacturer?: string;
  /** Why an auto-discovered module was skipped (no file system path in it). */
  error?: string;
}

export interface VendorProfileView {
  id: string;
  name: string;
  /** Built into the agent, or a JSON file of the operator's in profileDir. */
  source: 'builtin' | 'operator';
  development: boolean;
  /** The profile's library as found on this machine; absent when none of its paths exists. */
  library?: string;
  /** The paths the profile names for this OS. */
  libraryPaths: string[];
  usb: { vendorId: number; productId?: number; model?: string }[];
  /** The profile gives SM2 mechanism constants. */
  sm2: boolean;
  pinTries?: number;
}

/** What the agent read at start: its modules and vendor profiles. */
export interface ModulesView {
  modules: Pkcs11ModuleView[];
  profiles: VendorProfileView[];
  /** Where operator profiles are read from; null when this agent reads none. */
  profileDir: string | null;
}

/** The central platform as this agent reaches it. */
export interface PlatformView {
  /** The platform client is wired (the identity is loaded). */
  connected: boolean;
  /** Why not, when not connected. */
  reason?: string;
  url: string | null;
  /** The agent's app id at the platform. */
  appId?: string;
  /** The platform's certificate that verifies its answers. */
  certificate?: {
    subject: string;
    issuer: string;
    serialNumberHex: string;
    notBefore: number;
    notAfter: number;
    sha256: string;
  };
}

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
  /** A certificate as PEM, for saving: by keyId, or by its SHA-256 when a key has several. */
  'keys.exportCert': M<
    { ukeyId: string; keyId?: string; sha256?: string },
    { pem: string; filename: string }
  >;
  /** The PINs are asked by the agent's own PIN prompt (pin.requested), never carried here. */
  'keys.changePin': M<{ ukeyId: string }, null>;
  'keys.unblockPin': M<{ ukeyId: string }, null>;

  /** PIN prompts waiting for an answer (after a reload of the UI). */
  'pins.pending': M<NoFields, PinPromptView[]>;
  /** Answers a pin.requested prompt (or cancels it). */
  'pins.answer': M<PinAnswerInput, null>;

  'seals.query': M<SealQuery, SealView[]>;
  'seals.file': M<{ filing: Record<string, string | number> }, SealOperationView>;
  'seals.setState': M<{ sealCode: string; state: 1 | 3 | 4 }, SealOperationView>;
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
  /** Pairing requests waiting for the operator. */
  'apps.pairings': M<NoFields, PairingView[]>;
  /** Trusts the app for that origin (approved) or refuses it; the page gets 0 or 2003. */
  'apps.pairingDecide': M<PairingDecision, TrustedAppView | null>;

  'relay.list': M<NoFields, RelayJobView[]>;
  /** A local path (Electron) or a staged upload (console). */
  'relay.upload': M<{ localPath: string } | { stagedId: string }, RelayJobView>;
  /** Without localPath the file goes to the agent's downloads folder (GET /operator/download/<jobId>). */
  'relay.download': M<{ fileId: string; localPath?: string }, RelayJobView>;
  'relay.pause': M<{ jobId: number }, RelayJobView>;
  'relay.resume': M<{ jobId: number }, RelayJobView>;
  'relay.cancel': M<{ jobId: number }, RelayJobView>;

  'documents.verify': M<DocumentSource, DocumentVerifyView>;

  'cloud.apply': M<CloudApplyInput, CloudApplyView>;
  'cloud.result': M<{ requestId: string }, CloudResultView>;
  'cloud.sign': M<{ requestId: string }, CloudSignView>;

  'audit.search': M<AuditSearchInput, { entries: AuditEntryView[]; nextAfterSeq: number | null }>;
  'audit.verify': M<{ publicKey?: string }, AuditVerifyView>;
  'audit.export': M<{ format: 'jsonl' | 'csv'; from?: number; to?: number }, AuditExportView>;

  'settings.get': M<NoFields, SettingsView>;
  'settings.set': M<{ key: SettingKey; value: SettingsView[SettingKey] }, SettingsView>;
  /** Read-only: the PKCS#11 modules and vendor profiles the agent loaded at start. */
  'settings.modules': M<NoFields, ModulesView>;
  /** Read-only: the platform URL, the agent's app id and the platform certificate in use. */
  'settings.platform': M<NoFields, PlatformView>;
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
  'relay.state': RelayJobView;
  'pin.requested': PinPromptView;
  'pin.resolved': { requestId: string; outcome: 'answered' | 'cancelled' | 'timeout' };
  /** A decision entered the approval history (by the signer or a standing policy). */
  'pairing.requested': PairingView;
  'pairing.resolved': { pairingId: string; outcome: 'approved' | 'declined' | 'timeout' };
  'approval.recorded': {
    requestId: string;
    decision: 'approved' | 'declined' | 'timeout';
    decidedBy: 'signer' | 'policy';
    policyId?: number;
  };
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
  /**
   * Electron only: the local path of a file the user dropped or picked (webUtils.getPathForFile),
   * so relay and verification read it in place; '' when it has none. The console stages instead.
   */
  pathOfFile?(file: unknown): string;
}
