import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { TokenService } from '../core/token/token-service';
import { auditedOperatorAction } from '../core/audit/operator-audit';
import { openAgentStore } from '../core/store/agent-store';
import { CliPinHost } from './pin-host';
import type { PinSources } from './pin-host';
import { dataDirOf } from './io';
import type { GlobalOptions } from './io';

export interface TokenCliOptions extends GlobalOptions {
  module?: string[];
  devDir?: string;
  pinFile?: string;
  soPinFile?: string;
  newPinFile?: string;
}

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

/** Options every `token` command shares. */
export function tokenOptions(cmd: Command): Command {
  return cmd
    .option(
      '--module <path>',
      'PKCS#11 module library (repeatable; default: every known module found here)',
      collect,
    )
    .option(
      '--dev-dir <dir>',
      'development tokens: software UKey files and demo SoftHSM (default $SOFTUKEY_DIR or <data-dir>/dev-tokens)',
    )
    .option(
      '--pin-file <file>',
      'file (mode 0600) holding the user PIN; or env UKEY_PIN; else a hidden prompt',
    );
}

/** Where development tokens live, and the environment their modules read at C_Initialize. */
export function devTokenDir(opts: TokenCliOptions): string {
  return resolve(opts.devDir ?? process.env.SOFTUKEY_DIR ?? join(dataDirOf(opts), 'dev-tokens'));
}

export function prepareDevEnvironment(opts: TokenCliOptions): void {
  const dir = devTokenDir(opts);
  process.env.SOFTUKEY_DIR = dir;
  const conf = join(dir, 'softhsm', 'softhsm2.conf');
  if (!process.env.SOFTHSM2_CONF && existsSync(conf)) process.env.SOFTHSM2_CONF = conf;
}

export function openTokens(opts: TokenCliOptions, pins: PinSources = {}): TokenService {
  prepareDevEnvironment(opts);
  return new TokenService({
    modules: opts.module,
    profileDir: join(dataDirOf(opts), 'profiles'),
    host: new CliPinHost({
      pinFile: opts.pinFile,
      soPinFile: opts.soPinFile,
      newPinFile: opts.newPinFile,
      ...pins,
    }),
    pollIntervalMs: 0,
    loginIdleMs: 0,
  });
}

/** Runs fn with an open token service, always closing it. */
export async function withTokens<T>(
  opts: TokenCliOptions,
  fn: (t: TokenService) => Promise<T>,
  pins?: PinSources,
): Promise<T> {
  const t = openTokens(opts, pins);
  try {
    return await fn(t);
  } finally {
    t.close();
  }
}

/** Runs an operator action on keys and records it in the agent's audit log (outcome included). */
export async function auditedTokenAction<T>(
  opts: TokenCliOptions,
  action: string,
  raw: Record<string, unknown>,
  fn: () => Promise<T>,
): Promise<T> {
  const store = openAgentStore(dataDirOf(opts));
  try {
    return await auditedOperatorAction(store.audit, { interface: action, raw }, fn);
  } finally {
    store.close();
  }
}
