// Streaming export of the audit log. Entries are read in pages by seq, so memory stays flat and the
// connection is never held by an open cursor across an await (appends can go on meanwhile).
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { badParam } from '../../common/errors';
import type { Database } from '../store/database';
import { entryOfRow } from './audit-entry';
import type { AuditRow } from './audit-entry';
import { canonicalJson } from './canonical-json';

export type AuditExportFormat = 'jsonl' | 'csv';

export interface AuditExportOptions {
  /** Entries at or after this time (ms or Date). */
  from?: number | Date;
  /** Entries before this time. */
  to?: number | Date;
  format: AuditExportFormat;
}

const PAGE = 500;

export const CSV_COLUMNS = [
  'seq',
  'time',
  'source',
  'serialNumber',
  'appId',
  'origin',
  'interface',
  'durationMs',
  'resultCode',
  'message',
  'normalized',
  'raw',
  'hash',
] as const;

/** RFC 4180 field: quoted when it holds a comma, quote or line break. */
const csvField = (v: string): string => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

const msOf = (v: number | Date | undefined, field: string, dflt: number): number => {
  if (v === undefined) return dflt;
  const ms = v instanceof Date ? v.getTime() : v;
  if (!Number.isFinite(ms)) throw badParam(`${field} must be a valid time`);
  return ms;
};

/**
 * The export, one line (with its newline) at a time. jsonl: each line is the entry's canonical
 * JSON (the exact bytes the chain hashes) plus "hash"; csv: a header, then time in ISO 8601 and
 * normalized/raw as JSON text.
 */
export async function* exportAuditLog(
  db: Database,
  opts: AuditExportOptions,
): AsyncGenerator<string> {
  if (opts.format !== 'jsonl' && opts.format !== 'csv')
    throw badParam('format must be jsonl or csv');
  const from = msOf(opts.from, 'from', -8.64e15);
  const to = msOf(opts.to, 'to', 8.64e15);
  if (from > to) throw badParam('from must not be after to');
  const page = db.prepare<[number, number, number], AuditRow>(
    `SELECT * FROM audit_log WHERE seq > ? AND time >= ? AND time < ? ORDER BY seq LIMIT ${PAGE}`,
  );
  if (opts.format === 'csv') yield CSV_COLUMNS.join(',') + '\r\n';
  for (let after = 0; ;) {
    const rows = page.all(after, from, to);
    if (rows.length === 0) return;
    for (const row of rows) {
      const e = entryOfRow(row);
      const hash = row.hash.toString('hex');
      if (opts.format === 'jsonl') {
        yield canonicalJson({ ...e, hash }) + '\n';
      } else {
        const cells = [
          String(e.seq),
          new Date(e.time).toISOString(),
          e.source,
          e.serialNumber ?? '',
          e.appId ?? '',
          e.origin ?? '',
          e.interface,
          e.durationMs === null ? '' : String(e.durationMs),
          e.resultCode,
          e.message,
          canonicalJson(e.normalized),
          canonicalJson(e.raw),
          hash,
        ];
        yield cells.map(csvField).join(',') + '\r\n';
      }
    }
    after = rows[rows.length - 1]!.seq;
    // Let other work (appends, I/O) run between pages.
    await new Promise<void>((r) => setImmediate(r));
  }
}

/** Writes the export to a stream, honouring backpressure; answers the number of entries. */
export async function writeAuditExport(
  db: Database,
  out: Writable,
  opts: AuditExportOptions,
): Promise<number> {
  let lines = 0;
  for await (const line of exportAuditLog(db, opts)) {
    lines++;
    if (!out.write(line)) await once(out, 'drain');
  }
  return opts.format === 'csv' ? lines - 1 : lines;
}
