import { createWriteStream, openSync } from 'node:fs';
import { finished } from 'node:stream/promises';
import { Command } from 'commander';
import { badParam } from '../../common/errors';
import { auditedOperatorAction } from '../../core/audit/operator-audit';
import type { AuditExportFormat } from '../../core/audit/audit-log';
import { action, globalOptions } from '../command';
import { emit } from '../io';
import type { GlobalOptions } from '../io';
import { readPublicKeyFile, withStore } from './apps';

interface Opts extends GlobalOptions {
  publicKey?: string;
  format?: string;
  out?: string;
  from?: string;
  to?: string;
}

const isoOption = (v: string | undefined, name: string): number | undefined => {
  if (v === undefined) return undefined;
  const ms = /^\d{4}-\d{2}-\d{2}/.test(v) ? Date.parse(v) : NaN;
  if (!Number.isFinite(ms))
    throw badParam(`${name} must be an ISO 8601 time, e.g. 2025-01-31T00:00:00Z`);
  return ms;
};

export function auditCommand(): Command {
  const audit = new Command('audit').description(
    'the audit log: hash-chained, sealed entries of every call and operator action',
  );

  globalOptions(
    audit
      .command('verify')
      .description('recompute the hash chain and check the seals; exit code 1 when tampered'),
  )
    .option('--public-key <file>', 'the key the seals must be signed with (PEM or DER SPKI)')
    .action(
      action<Opts>(async (o) => {
        const publicKey = o.publicKey ? readPublicKeyFile(o.publicKey) : undefined;
        const r = await withStore(o, async (s) => s.audit.verify({ publicKey }));
        emit(o, r, (v) =>
          v.ok
            ? `audit log OK: ${v.entries} entries (head seq ${v.headSeq}), ${v.seals} seals, ${v.unsealed} entries not yet sealed${publicKey ? '' : '\nwarning: without --public-key the seals prove only self-consistency'}`
            : `audit log TAMPERED${v.firstBadSeq !== undefined ? ` at seq ${v.firstBadSeq}` : ''}${v.badSealId !== undefined ? ` (seal ${v.badSealId})` : ''}: ${v.reason}`,
        );
        if (!r.ok) process.exitCode = 1;
      }),
    );

  globalOptions(audit.command('export').description('export entries as JSON lines or CSV'))
    .option('--format <fmt>', 'jsonl or csv', 'jsonl')
    .option('--out <file>', 'write to this file (mode 0600) instead of stdout')
    .option('--from <iso>', 'entries at or after this time')
    .option('--to <iso>', 'entries before this time')
    .action(
      action<Opts>(async (o) => {
        if (o.format !== 'jsonl' && o.format !== 'csv')
          throw badParam('--format must be jsonl or csv');
        const format: AuditExportFormat = o.format;
        const from = isoOption(o.from, '--from');
        const to = isoOption(o.to, '--to');
        if (from !== undefined && to !== undefined && from > to)
          throw badParam('--from must not be after --to');
        // With --json the envelope is the output, so the export itself needs a file.
        if (o.json && !o.out) throw badParam('--out is required with --json');
        const out = o.out;
        const count = await withStore(o, (s) =>
          auditedOperatorAction(
            s.audit,
            { interface: 'audit.export', raw: { format, from: o.from, to: o.to, out } },
            async () => {
              if (!out) return s.audit.exportTo(process.stdout, { format, from, to });
              let fd: number;
              try {
                fd = openSync(out, 'w', 0o600);
              } catch {
                throw badParam(`--out: cannot write ${out}`);
              }
              const file = createWriteStream('', { fd });
              try {
                const n = await s.audit.exportTo(file, { format, from, to });
                file.end();
                await finished(file);
                return n;
              } catch (e) {
                file.destroy();
                throw e;
              }
            },
          ),
        );
        if (out)
          emit(
            o,
            { format, out, entries: count },
            (d) => `exported ${d.entries} entries to ${d.out}`,
          );
      }),
    );

  return audit;
}
