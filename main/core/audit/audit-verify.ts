// Verification of the audit log: recompute the chain from the first retained entry, check every
// seal's signature and that each seal matches the recomputed chain. Streams the entries in pages.
import type { Database } from '../store/database';
import { GENESIS_HASH, chainHash, entryOfRow } from './audit-entry';
import type { AuditRow } from './audit-entry';
import { sealSignatureValid } from './audit-seal';
import type { SealRow } from './audit-seal';

export const MIN_RETENTION_MS = 183 * 86_400_000;

export interface AuditVerifyOptions {
  /** SPKI DER every seal must be signed with. Without it a seal proves only self-consistency. */
  publicKey?: Buffer;
  now?: number;
}

export interface AuditVerifyResult {
  ok: boolean;
  /** Entries checked. */
  entries: number;
  /** Seals checked. */
  seals: number;
  /** The last retained seq (0 if none). */
  headSeq: number;
  /** Where the retained chain starts after pruning. */
  anchorSeq?: number;
  /** The highest seq a valid seal covers. */
  lastSealedSeq?: number;
  /** Entries after the last seal: protected by the chain only. */
  unsealed: number;
  /** The first entry that is changed, missing or out of place. */
  firstBadSeq?: number;
  /** The first seal that does not verify. */
  badSealId?: number;
  reason?: string;
}

interface Problem {
  seq: number;
  entry: boolean;
  sealId?: number;
  reason: string;
}

interface AnchorRow {
  seq: number;
  hash: Buffer;
  seal_id: number;
  pruned_at: number;
}

const PAGE = 500;

export function verifyAuditLog(db: Database, opts: AuditVerifyOptions = {}): AuditVerifyResult {
  const now = opts.now ?? Date.now();
  const problems: Problem[] = [];
  const anchor = db
    .prepare<[], AnchorRow>('SELECT seq, hash, seal_id, pruned_at FROM audit_anchor WHERE id = 1')
    .get();
  const sealRows = db.prepare<[], SealRow>('SELECT * FROM audit_seals ORDER BY seq, id').all();

  // Seals first: which are trustworthy, by seq.
  const validSeals = new Map<number, SealRow[]>();
  for (const s of sealRows) {
    if (opts.publicKey && !s.spki.equals(opts.publicKey)) {
      problems.push({
        seq: s.seq,
        entry: false,
        sealId: s.id,
        reason: `seal ${s.id} (seq ${s.seq}) was not made with the given public key`,
      });
    } else if (!sealSignatureValid(s)) {
      problems.push({
        seq: s.seq,
        entry: false,
        sealId: s.id,
        reason: `seal ${s.id} (seq ${s.seq}): its signature does not verify`,
      });
    } else {
      const list = validSeals.get(s.seq) ?? [];
      list.push(s);
      validSeals.set(s.seq, list);
    }
  }

  // The anchor must be a valid seal old enough to have allowed pruning.
  const startSeq = anchor?.seq ?? 0;
  let running = anchor?.hash ?? GENESIS_HASH;
  let lastGood = startSeq;
  if (anchor) {
    const seal = sealRows.find((s) => s.id === anchor.seal_id);
    const valid = validSeals.get(anchor.seq)?.some((s) => s.id === anchor.seal_id) ?? false;
    if (!seal || !valid || seal.seq !== anchor.seq || !seal.hash.equals(anchor.hash))
      problems.push({
        seq: anchor.seq + 1,
        entry: true,
        reason: `the retention anchor (seq ${anchor.seq}) is not backed by a valid seal`,
      });
    else if (seal.time > now - MIN_RETENTION_MS)
      problems.push({
        seq: anchor.seq + 1,
        entry: true,
        reason: `entries up to seq ${anchor.seq} were pruned less than 183 days after they were sealed`,
      });
  }

  let entries = 0;
  let expected = startSeq + 1;
  let chainBroken = false;
  const page = db.prepare<[number], AuditRow>(
    `SELECT * FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ${PAGE}`,
  );
  for (let after = startSeq; !chainBroken;) {
    const rows = page.all(after);
    if (rows.length === 0) break;
    for (const row of rows) {
      entries++;
      if (row.seq !== expected) {
        problems.push({
          seq: expected,
          entry: true,
          reason:
            expected === row.seq - 1
              ? `entry ${expected} is missing`
              : `entries ${expected}..${row.seq - 1} are missing`,
        });
        chainBroken = true;
        break;
      }
      let computed: Buffer;
      try {
        computed = chainHash(running, entryOfRow(row));
      } catch {
        computed = Buffer.alloc(0);
      }
      if (!computed.equals(row.hash)) {
        problems.push({
          seq: row.seq,
          entry: true,
          reason: `entry ${row.seq} was changed, replaced or moved: its hash does not match`,
        });
        chainBroken = true;
        break;
      }
      for (const s of validSeals.get(row.seq) ?? []) {
        if (!s.hash.equals(computed) && !chainBroken) {
          problems.push({
            seq: lastGood + 1,
            entry: true,
            reason: `entries ${lastGood + 1}..${row.seq} were rewritten: seal ${s.id} does not match the chain`,
          });
          chainBroken = true;
        }
      }
      if (chainBroken) break;
      if (validSeals.has(row.seq)) lastGood = row.seq;
      running = computed;
      expected++;
    }
    after = rows[rows.length - 1]!.seq;
  }
  const headSeq =
    db.prepare<[], { head: number | null }>('SELECT max(seq) AS head FROM audit_log').get()?.head ??
    startSeq;

  if (!chainBroken) {
    // A seal beyond the head means entries were cut off the end.
    const beyond = sealRows.find((s) => s.seq > headSeq && validSeals.get(s.seq)?.includes(s));
    if (beyond)
      problems.push({
        seq: headSeq + 1,
        entry: true,
        reason: `entries from seq ${headSeq + 1} are missing: seal ${beyond.id} covers up to seq ${beyond.seq}`,
      });
  }

  problems.sort((a, b) => a.seq - b.seq || Number(b.entry) - Number(a.entry));
  const first = problems[0];
  const firstEntry = problems.find((p) => p.entry);
  const firstSeal = problems.find((p) => p.sealId !== undefined);
  return {
    ok: problems.length === 0,
    entries,
    seals: sealRows.length,
    headSeq,
    ...(anchor ? { anchorSeq: anchor.seq } : {}),
    ...(lastGood > startSeq || (anchor && lastGood === startSeq)
      ? { lastSealedSeq: lastGood }
      : {}),
    unsealed: Math.max(0, headSeq - lastGood),
    ...(firstEntry ? { firstBadSeq: firstEntry.seq } : {}),
    ...(firstSeal?.sealId !== undefined ? { badSealId: firstSeal.sealId } : {}),
    ...(first ? { reason: first.reason } : {}),
  };
}
