import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { badParam } from '../../common/errors';
import { auditedOperatorAction } from '../../core/audit/operator-audit';
import { pemToDer } from '../../core/pki/keys';
import { openAgentStore } from '../../core/store/agent-store';
import type { AgentStore } from '../../core/store/agent-store';
import type { TrustedApp } from '../../core/store/apps';
import { action, globalOptions } from '../command';
import { dataDirOf, emit, requireOption } from '../io';
import type { GlobalOptions } from '../io';

interface Opts extends GlobalOptions {
  appId?: string;
  publicKey?: string;
  origin?: string[];
  name?: string;
  replace?: boolean;
}

const collect = (v: string, acc: string[]): string[] => [...acc, v];

/** An SPKI from a PEM PUBLIC KEY file or a DER file. */
export function readPublicKeyFile(path: string, option = '--public-key'): Buffer {
  let raw: Buffer;
  try {
    raw = readFileSync(path);
  } catch {
    throw badParam(`${option}: cannot read ${path}`);
  }
  return raw.toString('latin1').includes('-----BEGIN') ? pemToDer(raw, 'PUBLIC KEY') : raw;
}

const iso = (ms: number | undefined): string | undefined =>
  ms === undefined ? undefined : new Date(ms).toISOString();

const view = (a: TrustedApp) => ({
  appId: a.appId,
  name: a.name,
  keyAlgorithm: a.keyAlgorithm,
  publicKey: a.publicKey.toString('base64'),
  origins: a.origins,
  createdAt: iso(a.createdAt),
  updatedAt: iso(a.updatedAt),
  revokedAt: iso(a.revokedAt),
});

const line = (a: ReturnType<typeof view>): string =>
  `${a.appId}\t${a.keyAlgorithm}\t${a.origins.join(' ')}${a.name ? `\t"${a.name}"` : ''}${a.revokedAt ? `\tREVOKED ${a.revokedAt}` : ''}`;

/** Opens the store for the command's data dir and closes it afterwards. */
export async function withStore<T>(
  o: GlobalOptions,
  fn: (s: AgentStore) => Promise<T>,
): Promise<T> {
  const store = openAgentStore(dataDirOf(o));
  try {
    return await fn(store);
  } finally {
    store.close();
  }
}

export function appsCommand(): Command {
  const apps = new Command('apps').description(
    'trusted JSAPI callers: their request-signing keys and allowed web origins',
  );

  globalOptions(
    apps.command('add').description('trust an app (its SM2/RSA public key and origins)'),
  )
    .requiredOption('--app-id <id>', 'the appId the app puts in its requests')
    .requiredOption('--public-key <file>', "the app's public key (PEM PUBLIC KEY or DER SPKI)")
    .requiredOption(
      '--origin <url>',
      'a web origin it may call from, e.g. https://app.example (repeatable)',
      collect,
      [],
    )
    .option('--name <name>', 'a name for operators')
    .option('--replace', 'overwrite (and un-revoke) an existing registration')
    .action(
      action<Opts>(async (o) => {
        const appId = requireOption(o.appId, '--app-id');
        const publicKey = readPublicKeyFile(requireOption(o.publicKey, '--public-key'));
        const app = await withStore(o, (s) =>
          auditedOperatorAction(
            s.audit,
            {
              interface: 'apps.add',
              appId,
              raw: { appId, publicKey, origins: o.origin, name: o.name, replace: !!o.replace },
              normalized: (a: TrustedApp) => ({ keyAlgorithm: a.keyAlgorithm, origins: a.origins }),
            },
            () =>
              s.apps.add({
                appId,
                publicKey,
                origins: o.origin ?? [],
                name: o.name,
                replace: o.replace === true,
              }),
          ),
        );
        emit(o, view(app), (a) => `trusted ${line(a)}`);
      }),
    );

  globalOptions(apps.command('list').description('list trusted apps (revoked ones marked)')).action(
    action<Opts>(async (o) => {
      const list = await withStore(o, async (s) => s.apps.list().map(view));
      emit(o, list, (l) => (l.length === 0 ? 'no trusted apps' : l.map(line).join('\n')));
    }),
  );

  globalOptions(apps.command('revoke').description('stop trusting an app (kept, marked revoked)'))
    .requiredOption('--app-id <id>', 'the app')
    .action(
      action<Opts>(async (o) => {
        const appId = requireOption(o.appId, '--app-id');
        const app = await withStore(o, (s) =>
          auditedOperatorAction(s.audit, { interface: 'apps.revoke', appId, raw: { appId } }, () =>
            s.apps.revoke(appId),
          ),
        );
        emit(o, view(app), (a) => `revoked ${a.appId}`);
      }),
    );

  return apps;
}
