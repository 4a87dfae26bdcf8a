// The record of every approval decision: who (the signer or a standing policy) let which app sign
// what digest with which seal, or declined, or did not answer.
import { badParam } from '../../common/errors';
import type { Database } from './database';
import { checkId, checkInt, checkText } from './validate';

export type ApprovalDecision = 'approved' | 'declined' | 'timeout';
export type ApprovalDecider = 'signer' | 'policy';
export type SignFormatName = 'p1' | 'p7';

export interface ApprovalInput {
  requestId: string;
  appId: string;
  /** The request's Origin, if it carried one. */
  origin?: string;
  sealCode: string;
  ukeyId: string;
  /** Hex of the digest that was (or would have been) signed. */
  digestHex: string;
  format: SignFormatName;
  decision: ApprovalDecision;
  decidedBy: ApprovalDecider;
  /** Required when decidedBy is 'policy'. */
  policyId?: number;
  now?: number;
}

export interface ApprovalRecord extends Omit<ApprovalInput, 'now'> {
  id: number;
  decidedAt: number;
}

interface ApprovalRow {
  id: number;
  request_id: string;
  app_id: string;
  origin: string | null;
  seal_code: string;
  ukey_id: string;
  digest_hex: string;
  format: SignFormatName;
  decision: ApprovalDecision;
  decided_by: ApprovalDecider;
  policy_id: number | null;
  decided_at: number;
}

const DECISIONS: readonly string[] = ['approved', 'declined', 'timeout'];
const DECIDERS: readonly string[] = ['signer', 'policy'];
const FORMATS: readonly string[] = ['p1', 'p7'];

const toRecord = (r: ApprovalRow): ApprovalRecord => ({
  id: r.id,
  requestId: r.request_id,
  appId: r.app_id,
  ...(r.origin !== null ? { origin: r.origin } : {}),
  sealCode: r.seal_code,
  ukeyId: r.ukey_id,
  digestHex: r.digest_hex,
  format: r.format,
  decision: r.decision,
  decidedBy: r.decided_by,
  ...(r.policy_id !== null ? { policyId: r.policy_id } : {}),
  decidedAt: r.decided_at,
});

export class ApprovalStore {
  constructor(private readonly db: Database) {}

  record(input: ApprovalInput): ApprovalRecord {
    const requestId = checkText(input.requestId, 'requestId', 128);
    const appId = checkId(input.appId, 'appId');
    const origin = input.origin === undefined ? null : checkText(input.origin, 'origin', 512);
    const sealCode = checkId(input.sealCode, 'sealCode');
    const ukeyId = checkText(input.ukeyId, 'ukeyId', 128);
    if (typeof input.digestHex !== 'string' || !/^([0-9a-f]{2}){1,64}$/i.test(input.digestHex))
      throw badParam('digestHex must be 1..64 bytes of hex');
    if (!FORMATS.includes(input.format)) throw badParam('format must be p1 or p7');
    if (!DECISIONS.includes(input.decision))
      throw badParam('decision must be approved, declined or timeout');
    if (!DECIDERS.includes(input.decidedBy)) throw badParam('decidedBy must be signer or policy');
    let policyId: number | null = null;
    if (input.decidedBy === 'policy') {
      policyId = checkInt(input.policyId, 'policyId', 1, Number.MAX_SAFE_INTEGER);
      if (input.decision !== 'approved') throw badParam('decision by a policy is always approved');
      if (!this.db.prepare('SELECT 1 FROM policies WHERE id = ?').get(policyId))
        throw badParam(`policyId ${policyId}: no such policy`);
    } else if (input.policyId !== undefined) {
      throw badParam('policyId is given only when decidedBy is policy');
    }
    const row = this.db
      .prepare<unknown[], ApprovalRow>(
        `INSERT INTO approvals (request_id, app_id, origin, seal_code, ukey_id, digest_hex, format,
                                decision, decided_by, policy_id, decided_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
      )
      .get(
        requestId,
        appId,
        origin,
        sealCode,
        ukeyId,
        input.digestHex.toLowerCase(),
        input.format,
        input.decision,
        input.decidedBy,
        policyId,
        input.now ?? Date.now(),
      )!;
    return toRecord(row);
  }

  /** The newest decisions first. */
  list(opts: { limit?: number; appId?: string } = {}): ApprovalRecord[] {
    const limit = checkInt(opts.limit ?? 100, 'limit', 1, 10_000);
    const rows =
      opts.appId === undefined
        ? this.db
            .prepare<[number], ApprovalRow>('SELECT * FROM approvals ORDER BY id DESC LIMIT ?')
            .all(limit)
        : this.db
            .prepare<[string, number], ApprovalRow>(
              'SELECT * FROM approvals WHERE app_id = ? ORDER BY id DESC LIMIT ?',
            )
            .all(checkId(opts.appId, 'appId'), limit);
    return rows.map(toRecord);
  }
}
