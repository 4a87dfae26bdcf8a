// Field types of the central platform's interfaces (seed 004 §6.1, tables 1–9, and CONTRACT §4's
// sign-id/verify). Names are the seed's, spelled exactly as in its tables.

/** Seal types of tables 1, 5 and 7 ('0' = all, query only). */
export const SEAL_TYPES = ['01', '02', '03', '04', '05', '06', '07', '08'] as const;
export type SealType = (typeof SEAL_TYPES)[number];

/** 1 institution, 2 individual (table 1 possessorType). */
export type PossessorType = 1 | 2;
/** 1 filing, 2 extension, 3 change (table 1 bizType). */
export type BizType = 1 | 2 | 3;
/** 1 UKey certificate, 2 cloud certificate. */
export type CertType = 1 | 2;
/** Table 3: 1 enabled, 3 cancelled (final), 4 suspended. */
export type SealState = 1 | 3 | 4;

/** Fields every platform request carries besides its own (tables 1, 3, 5). */
export interface PlatformEnvelopeFields {
  version: string;
  appId: string;
  /** Milliseconds since the epoch, as a string. */
  time: string;
  /** Integer in [0, 100000000). */
  nonce: number;
  /** Base64 signature over the canonical string (CONTRACT §1). */
  sign: string;
}

/**
 * Table 1 (filing / extension / change), without the envelope fields. The fields after
 * `certType` are this project's additions (docs/PLATFORM.md): the seed answers them in table 7
 * but its table 1 does not say how they reach the platform. All are flat because signed requests
 * cannot nest (CONTRACT §1).
 */
export interface SealFilingParams {
  /** The business system's own seal code. */
  code?: string;
  /** Required for extension and change; absent for a filing (the platform assigns it). */
  sealCode?: string;
  name: string;
  sealType: SealType;
  UKeyId?: string;
  /** Certificate serial number, hex. Required for UKey seals (certType 1). */
  certNumber?: string;
  possessor: string;
  possessorCertNo: string;
  possessorType: PossessorType;
  bizType: BizType;
  certType: CertType;
  /** Organisation the seal belongs to (query key); default possessorCertNo. */
  orgCode?: string;
  /** Seal image, Base64. */
  moulageData?: string;
  /** Image size in millimetres. */
  width?: number;
  height?: number;
  /** Image size in pixels. */
  dpiX?: number;
  dpiY?: number;
  /** The electronic seal structure (GB/T 38540), Base64. */
  sealData?: string;
  /** `YYYY-MM-DD HH:MM:SS`, China Standard Time. Required for an extension. */
  sealInvalidTime?: string;
  /** The signing certificate, Base64 DER (table 8's signPublicKey). */
  signPublicKey?: string;
  /** '1' RSA, '2' SM2; taken from signPublicKey when that is given. */
  algorithm?: '1' | '2';
  /** One authorised user (table 9). */
  userName?: string;
  mobilePhone?: string;
  /**
   * Idempotency key (this project's extension, docs/PLATFORM.md): the same key with the same
   * fields answers the first answer again, so a lost answer can be asked for once more.
   */
  requestId?: string;
}

/** Table 2 `data`: the seal's unique code. */
export type SealFilingResult = string;

/** Table 3 without the envelope fields. */
export interface SealStateParams {
  sealCode: string;
  state: SealState;
  /** Idempotency key, as SealFilingParams.requestId. */
  requestId?: string;
}

/** Table 5 without the envelope fields. */
export interface SealQueryParams {
  /** Required when a phone shield (手机盾) asks. */
  deviceId?: string;
  idCard?: string;
  orgCode: string;
  /** '0' = all types. */
  sealType: SealType | '0';
  /** 0 all, 1 UKey, 2 cloud. */
  certType?: 0 | CertType;
  certNumber?: string;
  UKeyId?: string;
}

/** Table 8. */
export interface SealCertificate {
  /** 1 RSA, 2 SM2. */
  algorithm: 1 | 2;
  /** Serial number, hex. */
  certCode: string;
  /** `YYYY-MM-DD HH:MM:SS`, China Standard Time. */
  invalidTime: string;
  /** The certificate, Base64 DER. */
  signPublicKey: string;
  subjectCn: string;
}

/** Table 9. */
export interface SealUser {
  userName: string;
  mobilePhone: string;
}

/** Table 7: one seal of a query answer (table 6 `data` is an array of these). */
export interface SealInfo {
  /** Single-use, for this seal only, short-lived. */
  signId: string;
  sealType: SealType;
  /** '1' enterprise seal, '2' personal seal. */
  sealRelateType: '1' | '2';
  sealCode: string;
  sealName: string;
  moulageData: string;
  width: number | null;
  height: number | null;
  dpiX: number | null;
  dpiY: number | null;
  sealData: string;
  sealInvalidTime: string;
  certType: CertType;
  destHost: string;
  platName: string;
  UKeyId: string;
  algorithm: '1' | '2' | '';
  certList: SealCertificate[];
  /** 1 waiting to be downloaded, 2 downloaded. */
  state: 1 | 2;
  userList: SealUser[];
}

/** CONTRACT §4 sign-id/verify request without the envelope fields. */
export interface SignIdVerifyParams {
  signId: string;
  sealCode: string;
  certNumber: string;
}

/** CONTRACT §4 sign-id/verify answer. */
export interface SignIdVerification {
  valid: true;
  sealCode: string;
  sealName: string;
  sealType: SealType;
  certNumber: string;
  moulageData: string;
}

/** Paths of CONTRACT §4 (relative to the platform's base URL). */
export const PLATFORM_PATHS = {
  filing: '/api/v1/seals/filing',
  state: '/api/v1/seals/state',
  query: '/api/v1/seals/query',
  signIdVerify: '/api/v1/ukey/sign-id/verify',
  cloudAuthApply: '/api/v1/cloud/auth/apply',
  cloudAuthResult: '/api/v1/cloud/auth/result',
  cloudSign: '/api/v1/cloud/sign',
  documentsVerify: '/api/v1/documents/verify',
} as const;

/** Table 10 without the envelope fields. */
export interface CloudAuthApplyParams {
  orgCode?: string;
  name?: string;
  idCard?: string;
  /** Required: where the holder is reached (the confirmation code goes there). */
  mobile: string;
  sealCode: string;
  /** Where the H5 page sends the holder once confirmed (http or https). */
  redirectUrl?: string;
}

/** Table 12. */
export interface CloudAuthApplication {
  authUrl: string;
  /** 'H5' or 'PC'. */
  clientType: string;
  authId: string;
}

/** Table 13 without the envelope fields. */
export interface CloudAuthResultParams {
  authId: string;
  sealCode: string;
}

/**
 * Table 15. `authCode` is '' while the holder has not confirmed yet (this project's reading of the
 * seed, docs/PLATFORM.md); `status` says so in words: 'pending' or 'confirmed'.
 */
export interface CloudAuthResult {
  authCode: string;
  authId: string;
  status: 'pending' | 'confirmed';
}

/** Table 16 without the envelope fields. */
export interface CloudSignParams {
  sealCode: string;
  authId: string;
  authCode: string;
  /** 'P1' (bare SM2 signature over docHash's bytes) or 'P7' (CMS SignedData over the digest). */
  type: 'P1' | 'P7';
  /** Base64. */
  docHash: string;
  credentNo: string;
  orgCode?: string;
  signId: string;
  /** 4 (SM3) is the only one an SM2 cloud key signs with. */
  hashType: 1 | 2 | 3 | 4;
}

/** Table 18. */
export interface CloudSignResult {
  type: 'P1' | 'P7';
  /** Base64 DER: SEQUENCE { r, s } for P1, ContentInfo for P7. */
  signData: string;
}
