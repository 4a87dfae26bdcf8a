/**
 * The desktop's approval and PIN windows load the renderer on `#/approval/<requestId>` and
 * `#/pin/<requestId>` (main/desktop/main.ts): such a window shows that one dialog and nothing else.
 */
export interface DialogRoute {
  kind: 'approval' | 'pin';
  requestId: string;
}

export function dialogRoute(hash: string): DialogRoute | undefined {
  const m = /^#\/(approval|pin)\/([^/?#]{1,128})$/.exec(hash);
  if (!m) return undefined;
  try {
    return { kind: m[1] as DialogRoute['kind'], requestId: decodeURIComponent(m[2]!) };
  } catch {
    return undefined;
  }
}
