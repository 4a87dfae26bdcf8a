/**
 * An origin as the browser sends it: scheme://host[:port], nothing after. The UI checks the shape
 * and shows exactly what was typed; the agent decides (and compares byte for byte).
 */
const ORIGIN = /^(https?):\/\/([a-z0-9](?:[a-z0-9.-]*[a-z0-9])?|\[[0-9a-f:.]+\])(?::(\d{1,5}))?$/;

export function isOrigin(text: string): boolean {
  const m = ORIGIN.exec(text);
  if (!m) return false;
  const port = m[3];
  return port === undefined || (Number(port) >= 1 && Number(port) <= 65535);
}

/** One origin per line or comma; blanks dropped, nothing else changed. */
export const splitOrigins = (text: string): string[] =>
  text
    .split(/[\n,]/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
