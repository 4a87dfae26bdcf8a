// One audit entry, its canonical bytes and its chain hash.
//   hash(n) = SM3( hash(n-1) ‖ UTF-8( JCS(entry n without hash) ) ),  hash(0) = 32 zero bytes
// where the entry is the object of the twelve fields below, every one present (null when empty).
import { sm3 } from '../crypto/sm3';
import { canonicalJson } from './canonical-json';
import type { JsonValue } from './canonical-json';

export const GENESIS_HASH = Buffer.alloc(32);

export interface AuditEntry {
  seq: number;
  /** ms since the epoch. */
  time: number;
  source: string;
  serialNumber: string | null;
  appId: string | null;
  origin: string | null;
  interface: string;
  durationMs: number | null;
  resultCode: string;
  message: string;
  normalized: JsonValue;
  raw: JsonValue;
}

export interface AuditRow {
  seq: number;
  time: number;
  source: string;
  serial_number: string | null;
  app_id: string | null;
  origin: string | null;
  interface: string;
  duration_ms: number | null;
  result_code: string;
  message: string;
  normalized: string;
  raw: string;
  hash: Buffer;
}

/** The entry a row holds; throws if its JSON columns do not parse. */
export const entryOfRow = (r: AuditRow): AuditEntry => ({
  seq: r.seq,
  time: r.time,
  source: r.source,
  serialNumber: r.serial_number,
  appId: r.app_id,
  origin: r.origin,
  interface: r.interface,
  durationMs: r.duration_ms,
  resultCode: r.result_code,
  message: r.message,
  normalized: JSON.parse(r.normalized) as JsonValue,
  raw: JSON.parse(r.raw) as JsonValue,
});

export const canonicalEntryBytes = (e: AuditEntry): Buffer =>
  Buffer.from(
    canonicalJson({
      seq: e.seq,
      time: e.time,
      source: e.source,
      serialNumber: e.serialNumber,
      appId: e.appId,
      origin: e.origin,
      interface: e.interface,
      durationMs: e.durationMs,
      resultCode: e.resultCode,
      message: e.message,
      normalized: e.normalized,
      raw: e.raw,
    }),
    'utf8',
  );

export const chainHash = (prev: Buffer, e: AuditEntry): Buffer =>
  sm3(Buffer.concat([prev, canonicalEntryBytes(e)]));
