// The append-only audit log (seed 000 §8.7 b; seed 004 §8.1): every JSAPI call, operator action
// and platform exchange, as a normalized entry (structured columns + `normalized`) and the raw
// request (`raw`, redacted), hash-chained with SM3 and periodically sealed by a signature.
import { AgentError, badParam } from '../../common/errors';
import { ResultCode } from '../../common/codes';
import type { SignatureProvider } from '../pki/signer';
import type { Database } from '../store/database';
import { GENESIS_HASH, chainHash, entryOfRow } from './audit-entry';
import type { AuditEntry, AuditRow } from './audit-entry';
import { sealOfRow, signSeal } from './audit-seal';
import type { AuditSeal, SealRow } from './audit-seal';
import { canonicalJson } from './canonical-json';
import { exportAuditLog, writeAuditExport } from './audit-export';
import type { AuditExportOptions } from './audit-export';
import { MIN_RETENTION_MS, verifyAuditLog } from './audit-verify';
import type { AuditVerifyOptions, AuditVerifyResult } from './audit-verify';
import { redactForAudit } from './redact';
import type { Writable } from 'node:stream';

export type { AuditEntry } from './audit-entry';
export type { AuditSeal } from './audit-seal';
export type { AuditVerifyResult, AuditVerifyOptions } from './audit-verify';
export type { AuditExportOptions, AuditExportFormat } from './audit-export';
export { MIN_RETENTION_MS } from './audit-verify';

export const AUDIT_SOURCES = ['jsapi', 'operator', 'platform', 'relay', 'system'] as const;
export type AuditSource = (typeof AUDIT_SOURCES)[number];

export interface AuditInput {
  source: AuditSource;
  /** What was called, e.g. 'ukey.sign', 'apps.add'. */
  interface: string;
  /** The contract result code answered ('0' success). */
  resultCode: string;
  message?: string;
  /** The request's serial number / ID. */
  serialNumber?: string;
  appId?: string;
  origin?: string;
  durationMs?: number;
  /** Structured facts for search (sealCode, UKeyId, decision …); redacted like raw. */
  normalized?: Record<string, unknown>;
  /** The request as received; PINs, passwords and private keys are removed, big values cut. */
  raw?: unknown;
  time?: number;
}

export interface AuditHead {
  seq: number;
  hash: Buffer;
}

export interface PeriodicSealing {
  stop(): void;
}

const MAX_FIELD = 256;
const cut = (s: string | undefined, max = MAX_FIELD): string | null =>
  s === undefined || s === '' ? null : s.length > max ? s.slice(0, max) + '…' : s;

export class AuditLog {
  constructor(private readonly db: Database) {}

  /** Appends one entry; the head is read and extended in one IMMEDIATE transaction. */
  append(input: AuditInput): AuditEntry & { hash: string } {
    if (!AUDIT_SOURCES.includes(input.source))
      throw badParam(`source must be one of ${AUDIT_SOURCES.join(', ')}`);
    if (typeof input.interface !== 'string' || !/^[A-Za-z0-9._/-]{1,64}$/.test(input.interface))
      throw badParam('interface must be 1..64 characters of A-Z a-z 0-9 . _ / -');
    if (typeof input.resultCode !== 'string' || !/^\d{1,6}$/.test(input.resultCode))
      throw badParam('resultCode must be a result code such as "0" or "1001"');
    if (
      input.durationMs !== undefined &&
      (!Number.isSafeInteger(input.durationMs) || input.durationMs < 0)
    )
      throw badParam('durationMs must be a non-negative integer');
    const time = input.time ?? Date.now();
    if (!Number.isSafeInteger(time)) throw badParam('time must be an integer (ms)');
    const normalized = redactForAudit(input.normalized ?? {});
    const raw = redactForAudit(input.raw ?? null);
    return this.db
      .transaction(() => {
        const head = this.head();
        const entry: AuditEntry = {
          seq: head.seq + 1,
          time,
          source: input.source,
          serialNumber: cut(input.serialNumber),
          appId: cut(input.appId),
          origin: cut(input.origin, 512),
          interface: input.interface,
          durationMs: input.durationMs ?? null,
          resultCode: input.resultCode,
          message: cut(input.message, 1024) ?? '',
          normalized,
          raw,
        };
        const hash = chainHash(head.hash, entry);
        this.db
          .prepare(
            `INSERT INTO audit_log (seq, time, source, serial_number, app_id, origin, interface,
                                    duration_ms, result_code, message, normalized, raw, hash)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          )
          .run(
            entry.seq,
            entry.time,
            entry.source,
            entry.serialNumber,
            entry.appId,
            entry.origin,
            entry.interface,
            entry.durationMs,
            entry.resultCode,
            entry.message,
            canonicalJson(entry.normalized),
            canonicalJson(entry.raw),
            hash,
          );
        return { ...entry, hash: hash.toString('hex') };
      })
      .immediate();
  }

  /** The last entry's seq and hash; after pruning everything, the anchor; else seq 0. */
  head(): AuditHead {
    const last = this.db
      .prepare<[], AuditHead>('SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1')
      .get();
    if (last) return last;
    const anchor = this.db
      .prepare<[], AuditHead>('SELECT seq, hash FROM audit_anchor WHERE id = 1')
      .get();
    return anchor ?? { seq: 0, hash: GENESIS_HASH };
  }

  /** Entries after `afterSeq`, oldest first. */
  /** The result each request (by serial number / request id) was answered with, where audited. */
  resultsOf(serials: readonly string[]): Map<string, { resultCode: string; message: string }> {
    const out = new Map<string, { resultCode: string; message: string }>();
    for (let i = 0; i < serials.length; i += 500) {
      const part = serials.slice(i, i + 500);
      const rows = this.db
        .prepare<string[], { serial_number: string; result_code: string; message: string }>(
          `SELECT serial_number, result_code, message FROM audit_log
           WHERE serial_number IN (${part.map(() => '?').join(',')})`,
        )
        .all(...part);
      for (const r of rows)
        out.set(r.serial_number, { resultCode: r.result_code, message: r.message });
    }
    return out;
  }

  entries(opts: { afterSeq?: number; limit?: number } = {}): (AuditEntry & { hash: string })[] {
    const limit = Math.min(Math.max(opts.limit ?? 100, 1), 10_000);
    return this.db
      .prepare<[number, number], AuditRow>(
        'SELECT * FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?',
      )
      .all(opts.afterSeq ?? 0, limit)
      .map((r) => ({ ...entryOfRow(r), hash: r.hash.toString('hex') }));
  }

  seals(): AuditSeal[] {
    return this.db
      .prepare<[], SealRow>('SELECT * FROM audit_seals ORDER BY id')
      .all()
      .map(sealOfRow);
  }

  /** Signs the current head and stores the seal; undefined when the log is empty. */
  async seal(signer: SignatureProvider, now = Date.now()): Promise<AuditSeal | undefined> {
    const head = this.head();
    if (head.seq === 0) return undefined;
    const signature = await signSeal(signer, head.seq, head.hash, now);
    const row = this.db
      .prepare<unknown[], SealRow>(
        `INSERT INTO audit_seals (seq, hash, time, key_algorithm, spki, signature)
         VALUES (?, ?, ?, ?, ?, ?) RETURNING *`,
      )
      .get(head.seq, head.hash, now, signer.keyAlgorithm, signer.spki, signature)!;
    return sealOfRow(row);
  }

  /** The highest sealed seq (0 if never sealed). */
  lastSealedSeq(): number {
    return (
      this.db.prepare<[], { s: number | null }>('SELECT max(seq) AS s FROM audit_seals').get()?.s ??
      0
    );
  }

  /**
   * Seals every intervalMs when there are entries since the last seal. The timer does not keep the
   * process alive; a failing signer (key unplugged) is reported to onError and retried next time.
   */
  startPeriodicSealing(
    signer: SignatureProvider,
    intervalMs: number,
    onError: (e: unknown) => void = () => undefined,
  ): PeriodicSealing {
    if (!Number.isSafeInteger(intervalMs) || intervalMs < 1000)
      throw badParam('intervalMs must be an integer of at least 1000');
    let busy = false;
    const tick = async (): Promise<void> => {
      if (busy) return;
      busy = true;
      try {
        if (this.head().seq > this.lastSealedSeq()) await this.seal(signer);
      } catch (e) {
        onError(e);
      } finally {
        busy = false;
      }
    };
    const timer = setInterval(() => void tick(), intervalMs);
    timer.unref();
    return { stop: () => clearInterval(timer) };
  }

  verify(opts?: AuditVerifyOptions): AuditVerifyResult {
    return verifyAuditLog(this.db, opts);
  }

  /**
   * Removes entries older than olderThanMs (at least 183 days: seed 004 §8.1 c keeps logs 6 months).
   * The cut is made at a seal, which becomes the anchor the retained chain is verified from; a log
   * that does not verify is not pruned, so evidence of tampering is never deleted.
   */
  prune(opts: { olderThanMs: number; publicKey?: Buffer; now?: number }): {
    pruned: number;
    anchorSeq?: number;
  } {
    if (!Number.isSafeInteger(opts.olderThanMs) || opts.olderThanMs < MIN_RETENTION_MS)
      throw badParam('olderThanMs must be at least 183 days: audit entries are kept 6 months');
    const now = opts.now ?? Date.now();
    const check = this.verify({ publicKey: opts.publicKey, now });
    if (!check.ok)
      throw new AgentError(
        ResultCode.INTERNAL,
        `the audit log does not verify (${check.reason}); nothing was pruned`,
      );
    const cutoff = now - opts.olderThanMs;
    return this.db
      .transaction(() => {
        const anchor = this.db
          .prepare<[], { seq: number }>('SELECT seq FROM audit_anchor WHERE id = 1')
          .get();
        // The newest seal made before the cutoff: everything it covers is older than the cutoff.
        const seal = this.db
          .prepare<[number, number], SealRow>(
            `SELECT s.* FROM audit_seals s JOIN audit_log l ON l.seq = s.seq AND l.hash = s.hash
             WHERE s.time <= ? AND s.seq > ? ORDER BY s.seq DESC, s.id DESC LIMIT 1`,
          )
          .get(cutoff, anchor?.seq ?? 0);
        if (!seal) return { pruned: 0, ...(anchor ? { anchorSeq: anchor.seq } : {}) };
        this.db
          .prepare(
            `INSERT INTO audit_anchor (id, seq, hash, seal_id, pruned_at) VALUES (1, ?, ?, ?, ?)
             ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash,
               seal_id = excluded.seal_id, pruned_at = excluded.pruned_at`,
          )
          .run(seal.seq, seal.hash, seal.id, now);
        const pruned = this.db
          .prepare('DELETE FROM audit_log WHERE seq <= ?')
          .run(seal.seq).changes;
        return { pruned, anchorSeq: seal.seq };
      })
      .immediate();
  }

  /** The export line by line (streaming; see audit-export.ts for the formats). */
  export(opts: AuditExportOptions): AsyncGenerator<string> {
    return exportAuditLog(this.db, opts);
  }

  /** Writes the export to a stream; answers the number of entries written. */
  exportTo(out: Writable, opts: AuditExportOptions): Promise<number> {
    return writeAuditExport(this.db, out, opts);
  }
}
