// Operator actions (apps, policies, exports …) go into the audit log like JSAPI calls do: who
// changed what trust, when, and whether it worked.
import { toAgentError } from '../../common/errors';
import { ResultCode } from '../../common/codes';
import type { AuditLog } from './audit-log';

export interface OperatorAction<T> {
  /** e.g. 'apps.add'. */
  interface: string;
  appId?: string;
  /** The operator's input (redacted like any raw entry). */
  raw: Record<string, unknown>;
  /** Structured facts about the outcome. */
  normalized?: (result: T) => Record<string, unknown>;
}

/** Runs `fn` and records its outcome with source 'operator'; the outcome is passed on unchanged. */
export async function auditedOperatorAction<T>(
  log: AuditLog,
  action: OperatorAction<T>,
  fn: () => T | Promise<T>,
): Promise<T> {
  const started = Date.now();
  const base = {
    source: 'operator' as const,
    interface: action.interface,
    appId: action.appId,
    raw: action.raw,
  };
  try {
    const result = await fn();
    log.append({
      ...base,
      resultCode: ResultCode.OK,
      message: 'ok',
      durationMs: Date.now() - started,
      normalized: action.normalized?.(result),
    });
    return result;
  } catch (e) {
    const err = toAgentError(e);
    log.append({
      ...base,
      resultCode: err.code,
      message: err.message,
      durationMs: Date.now() - started,
    });
    throw e;
  }
}
