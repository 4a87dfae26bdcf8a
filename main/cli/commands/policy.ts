import { Command } from 'commander';
import { badParam } from '../../common/errors';
import { auditedOperatorAction } from '../../core/audit/operator-audit';
import { isPolicyActive, parseDuration } from '../../core/store/policies';
import type { StandingPolicy } from '../../core/store/policies';
import { action, globalOptions } from '../command';
import { emit, requireOption } from '../io';
import type { GlobalOptions } from '../io';
import { withStore } from './apps';

interface Opts extends GlobalOptions {
  appId?: string;
  sealCode?: string;
  maxCount?: string;
  ttl?: string;
  origin?: string;
  all?: boolean;
  id?: string;
}

const intOption = (v: string | undefined, name: string, min: number, max: number): number => {
  const s = requireOption(v, name);
  const n = /^\d{1,9}$/.test(s) ? Number(s) : NaN;
  if (!(n >= min && n <= max)) throw badParam(`${name} must be an integer from ${min} to ${max}`);
  return n;
};

const view = (p: StandingPolicy, now = Date.now()) => ({
  id: p.id,
  appId: p.appId,
  sealCode: p.sealCode,
  origin: p.origin,
  maxCount: p.maxCount,
  used: p.used,
  active: isPolicyActive(p, now),
  createdAt: new Date(p.createdAt).toISOString(),
  expiresAt: new Date(p.expiresAt).toISOString(),
  revokedAt: p.revokedAt === undefined ? undefined : new Date(p.revokedAt).toISOString(),
});

const line = (p: ReturnType<typeof view>): string =>
  `#${p.id}\t${p.appId}\t${p.sealCode}\t${p.origin ?? '(any allowed origin)'}\tused ${p.used}/${p.maxCount}\tuntil ${p.expiresAt}${p.revokedAt ? '\tREVOKED' : p.active ? '' : '\tinactive'}`;

export function policyCommand(): Command {
  const policy = new Command('policy').description(
    'standing approvals: let an app sign with a seal N times until a deadline without a prompt',
  );

  globalOptions(policy.command('add').description('add a standing approval'))
    .requiredOption('--app-id <id>', 'the trusted app')
    .requiredOption('--seal-code <code>', 'the seal it may sign with')
    .requiredOption('--max-count <n>', 'how many signatures (1..10000)')
    .requiredOption('--ttl <duration>', 'how long it lasts: 90s, 10m, 2h, 7d (1 minute..30 days)')
    .option('--origin <url>', "only from this one of the app's origins")
    .action(
      action<Opts>(async (o) => {
        const appId = requireOption(o.appId, '--app-id');
        const sealCode = requireOption(o.sealCode, '--seal-code');
        const maxCount = intOption(o.maxCount, '--max-count', 1, 10_000);
        const ttlMs = parseDuration(requireOption(o.ttl, '--ttl'), '--ttl');
        const p = await withStore(o, (s) =>
          auditedOperatorAction(
            s.audit,
            {
              interface: 'policy.add',
              appId,
              raw: { appId, sealCode, maxCount, ttl: o.ttl, origin: o.origin },
              normalized: (r: StandingPolicy) => ({ policyId: r.id, expiresAt: r.expiresAt }),
            },
            () => s.policies.add({ appId, sealCode, maxCount, ttlMs, origin: o.origin }),
          ),
        );
        emit(o, view(p), (v) => `added ${line(v)}`);
      }),
    );

  globalOptions(policy.command('list').description('list active standing approvals'))
    .option('--all', 'include revoked, expired and used-up ones')
    .action(
      action<Opts>(async (o) => {
        const list = await withStore(o, async (s) =>
          s.policies.list({ includeInactive: o.all === true }).map((p) => view(p)),
        );
        emit(o, list, (l) => (l.length === 0 ? 'no standing approvals' : l.map(line).join('\n')));
      }),
    );

  globalOptions(policy.command('revoke').description('revoke a standing approval'))
    .requiredOption('--id <id>', 'the policy id (policy list shows it)')
    .action(
      action<Opts>(async (o) => {
        const id = intOption(o.id, '--id', 1, Number.MAX_SAFE_INTEGER);
        const p = await withStore(o, (s) =>
          auditedOperatorAction(
            s.audit,
            {
              interface: 'policy.revoke',
              raw: { id },
              normalized: (r: StandingPolicy) => ({ policyId: r.id, used: r.used }),
            },
            () => s.policies.revoke(id),
          ),
        );
        emit(o, view(p), (v) => `revoked #${v.id}`);
      }),
    );

  return policy;
}
