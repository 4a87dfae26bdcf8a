// Step names and hints of document verification (table 28), in Simplified Chinese: the language of
// the platform's users. docs/PDF.md lists each with its English meaning.

export const STEP = {
  integrity: '文档完整性验证',
  signature: '签名值验证',
  certificate: '证书验证',
  seal: '印章状态验证',
} as const;

export const HINT = {
  // document integrity
  unchanged: '文档自签章后未被修改',
  revisionCovered: '签章覆盖其签署时的文档版本，之后的内容由后续签章覆盖',
  changed: '文档在签章后被修改',
  notWholeDocument: '签章未覆盖整个文档',
  unsupportedFormat: (subFilter: string): string => `不支持的签名格式：${subFilter}`,
  unsupportedDigest: '不支持的摘要算法',
  unreadable: '签名数据无法解析',
  // signature value
  signatureValid: '签名值有效',
  signatureInvalid: '签名值无效',
  // certificate
  certificateValid: '证书在签章时间处于有效期内，用途允许签名，且由受信任的机构签发',
  outsideValidity: '签章时间不在证书有效期内',
  usageNotSigning: '证书用途不允许数字签名',
  untrusted: '证书不是由受信任的机构签发',
  noCertificate: '签名中没有签章人证书',
  // seal
  sealEnabled: '印章状态正常',
  sealUnknown: '印章未在平台登记',
  sealCancelled: '印章已注销',
  sealSuspended: '印章已挂起',
  sealState: (state: number): string => `印章状态异常（状态 ${state}）`,
} as const;
