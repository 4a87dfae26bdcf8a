// The answer of document verification, field for field as the seed's tables 26–28 (§6.4) name
// them; table 25's code/message/data envelope is the caller's (CONTRACT §2).

/** Table 28: one step of checking one signature. */
export interface VerifyFlowStep {
  /** 当前验证环节: the step's name (see STEP in hints.ts). */
  step: string;
  /** 提示: what was found, in Simplified Chinese. */
  hint: string;
  /** 0 失败 (failed), 1 成功 (passed). */
  status: 0 | 1;
}

/** Table 27: one signature ("signing") in the document. Unknown values are ''. */
export interface SignatureDetail {
  sealType: string;
  /** yyyy-MM-dd HH:mm:ss, China Standard Time (UTC+8). */
  signTime: string;
  provider: string;
  certIssuer: string;
  /** Spelt with a digit zero, exactly as the seed's table 27 has it (CONTRACT: seed spelling). */
  cert0wner: string;
  /** Lowercase hex, as parseCertificate's serialNumberHex and the platform's certNumber. */
  certSn: string;
  certValidStart: string;
  certValidEnd: string;
  sealPicBase64: string;
  sealCode: string;
  flowVoList: VerifyFlowStep[];
}

/** Table 26: the `data` of the answer. */
export interface DocumentVerifyResult {
  fileName: string;
  fileSize: number;
  signCount: number;
  /** True only when there is at least one signature and every step of every signature passed. */
  verifyResult: boolean;
  details: SignatureDetail[];
}

/** What the platform knows of the seal a certificate belongs to (seed tables 6–9). */
export interface SealInfo {
  sealCode: string;
  sealName: string;
  sealType: string;
  /** 1 enabled, 3 cancelled, 4 suspended (seed table 3). */
  state: number;
  /** 服务商 (table 27 provider), if known. */
  provider?: string;
  /** The seal's image, Base64 (table 27 sealPicBase64), if known. */
  sealPicBase64?: string;
}
