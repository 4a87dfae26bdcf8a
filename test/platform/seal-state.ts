// POST /api/v1/seals/state (seed 004 §6.1.3, tables 3 → 4): enable, suspend, cancel.
import { AgentError, badParam } from '../../main/common/errors';
import { ResultCode } from '../../main/common/codes';
import type { Endpoint } from './context';
import { checkFields } from './fields';
import type { Schema } from './fields';
import { findSeal, recordEvent } from './seal-store';

export const STATE_SCHEMA = {
  sealCode: { kind: 'string', required: true, maxLength: 64 },
  state: { kind: 'integer', required: true, oneOf: [1, 3, 4] },
} as const satisfies Schema;

const STATE_NAMES: Readonly<Record<number, string>> = {
  1: 'enabled',
  3: 'cancelled',
  4: 'suspended',
};

/**
 * Legal moves: 1 → 4, 4 → 1, 1 → 3, 4 → 3. Cancellation is final, and asking for the state a seal
 * is already in is refused so that the caller learns its view was stale.
 */
function checkTransition(from: number, to: number): void {
  if (from === 3) throw badParam('the seal is cancelled: cancellation is final');
  if (from === to) throw badParam(`the seal is already ${STATE_NAMES[to]}`);
}

/** Answers table 4's data: empty. */
export const stateEndpoint: Endpoint = (body) => {
  const f = checkFields(body, STATE_SCHEMA);
  return (ctx) =>
    ctx.db
      .transaction(() => {
        const seal = findSeal(ctx.db, f.sealCode);
        if (!seal) throw new AgentError(ResultCode.SEAL_INVALID, 'seal unknown');
        if (seal.app_id !== ctx.app.appId)
          throw new AgentError(ResultCode.APP_NOT_ALLOWED, 'the seal was filed by another app');
        checkTransition(seal.state, f.state);
        ctx.db
          .prepare('UPDATE seals SET state = ?, updated_at = ? WHERE seal_code = ?')
          .run(f.state, ctx.now, f.sealCode);
        // A seal leaving service expires its outstanding signIds (re-enabling revives none); they
        // are kept so that a signer presenting one is told the seal is not enabled (2006).
        if (f.state !== 1)
          ctx.db
            .prepare(
              'UPDATE sign_ids SET expires_at = MIN(expires_at, ?) WHERE seal_code = ? AND used_at IS NULL',
            )
            .run(ctx.now, f.sealCode);
        recordEvent(ctx.db, f.sealCode, ctx.app.appId, `state:${f.state}`, f.state, ctx.now);
        return null;
      })
      .immediate();
};
