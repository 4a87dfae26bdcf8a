/**
 * What every approval host shares (desktop windows, web console): the bounds of a batch approval
 * and the standing policy a batch creates, as an audited operator action.
 */
import { AgentError, badParam } from '../../common/errors';
import { ResultCode } from '../../common/codes';
import type { BatchApproval, PendingApprovalView } from '../../common/operator-api';
import { auditedOperatorAction } from '../audit/operator-audit';
import type { AgentStore } from '../store/agent-store';

/** Batch approval bounds: a signer can pre-approve a little, never a blank cheque. */
export const BATCH_MAX_COUNT = 50;
export const BATCH_MIN_TTL_MS = 60_000;
export const BATCH_MAX_TTL_MS = 8 * 3_600_000;

/** The batch, checked against the bounds; 1001 naming the bound otherwise. */
export function checkBatch(b: BatchApproval): BatchApproval {
  if (!Number.isSafeInteger(b.count) || b.count < 1 || b.count > BATCH_MAX_COUNT)
    throw badParam(`batch.count must be from 1 to ${BATCH_MAX_COUNT}`);
  if (!Number.isSafeInteger(b.ttlMs) || b.ttlMs < BATCH_MIN_TTL_MS || b.ttlMs > BATCH_MAX_TTL_MS)
    throw badParam(`batch.ttlMs must be from 1 minute to 8 hours`);
  return b;
}

/** The standing policy "the next `count` requests of this origin for this seal", audited. */
export async function createBatchPolicy(
  store: Pick<AgentStore, 'policies' | 'audit'> | undefined,
  view: PendingApprovalView,
  batch: BatchApproval,
  now: number,
): Promise<void> {
  if (!store) throw new AgentError(ResultCode.INTERNAL, 'not available in this build');
  await auditedOperatorAction(
    store.audit,
    {
      interface: 'approvals.batch',
      appId: view.appId,
      raw: { requestId: view.requestId, origin: view.origin, sealCode: view.sealCode, ...batch },
      normalized: (p: { id: number }) => ({ policyId: p.id }),
    },
    () =>
      store.policies.add({
        appId: view.appId,
        sealCode: view.sealCode,
        origin: view.origin,
        maxCount: batch.count,
        ttlMs: batch.ttlMs,
        now,
      }),
  );
}

/** A batch that came with a decision: only with 'approved', and within the bounds. */
export function checkDecisionBatch(
  decision: 'approved' | 'declined',
  batch: BatchApproval | undefined,
): void {
  if (batch === undefined) return;
  if (decision !== 'approved') throw badParam('batch is given only when approving');
  checkBatch(batch);
}
