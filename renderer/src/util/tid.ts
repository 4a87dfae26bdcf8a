/**
 * Stable test hooks for props objects antd does not type data-* keys on (okButtonProps, onRow).
 * JSX attributes take data-testid directly.
 */
import type { HTMLAttributes } from 'react';

export function tid(id: string): Record<string, string> {
  return { 'data-testid': id };
}

/** A table row's hooks: data-testid plus data-<name> for each field. */
export function rowTid(
  id: string,
  fields: Record<string, string | number> = {},
): HTMLAttributes<HTMLElement> {
  const out: Record<string, string> = { 'data-testid': id };
  for (const [k, v] of Object.entries(fields)) out[`data-${k}`] = String(v);
  return out as HTMLAttributes<HTMLElement>;
}
