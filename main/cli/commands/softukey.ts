import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { badParam } from '../../common/errors';
import { AgentError } from '../../common/errors';
import { ResultCode } from '../../common/codes';
import { TokenService } from '../../core/token/token-service';
import { builtinProfiles, resolveLibraryPath } from '../../core/token/vendor-profile';
import { CliPinHost } from '../pin-host';
import { emit, requireOption } from '../io';
import { action, globalOptions } from '../command';
import type { GlobalOptions } from '../io';

export interface SoftUKeySpec {
  dir: string;
  label: string;
  serial: string;
  soPin: string;
  pin: string;
  model?: string;
}

/** The project's software UKey library, built by native/build.sh. */
export function softukeyLibrary(): string {
  const p = builtinProfiles.find((x) => x.id === 'softukey')!;
  const lib = resolveLibraryPath(p);
  if (!lib) {
    throw new AgentError(
      ResultCode.INTERNAL,
      'the software UKey module is not built: run `npm run build:native`',
    );
  }
  return lib;
}

/**
 * Provisions a software UKey the way a factory-blank USB key is provisioned: the blank key is
 * "plugged in" (a one-line file), then initialised through PKCS#11 (C_InitToken, C_InitPIN).
 */
export async function provisionSoftUKey(
  spec: SoftUKeySpec,
): Promise<{ ukeyId: string; file: string }> {
  if (!/^[A-Za-z0-9_-]{1,16}$/.test(spec.serial))
    throw badParam('--serial must be 1 to 16 letters, digits, "-" or "_"');
  if (!spec.label || Buffer.byteLength(spec.label) > 32)
    throw badParam('--label must be 1 to 32 bytes');
  if (spec.pin.length < 4 || spec.soPin.length < 4)
    throw badParam('PINs must be at least 4 characters');
  const dir = resolve(spec.dir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, `${spec.serial}.suk`);
  if (
    existsSync(file) &&
    !readFileSync(file).subarray(0, 14).toString('latin1').startsWith('SOFTUKEY-BLANK')
  ) {
    throw badParam(`a software UKey with serial ${spec.serial} already exists in ${dir}`);
  }
  writeFileSync(
    file,
    `SOFTUKEY-BLANK serial=${spec.serial}${spec.model ? ` model=${spec.model}` : ''}\n`,
    { mode: 0o600 },
  );
  const before = process.env.SOFTUKEY_DIR;
  process.env.SOFTUKEY_DIR = dir;
  const tokens = new TokenService({
    modules: [softukeyLibrary()],
    host: new CliPinHost({ literal: { so: spec.soPin, 'new-user': spec.pin } }),
    pollIntervalMs: 0,
    loginIdleMs: 0,
  });
  try {
    await tokens.initToken(spec.serial, spec.label);
  } finally {
    tokens.close();
    if (before === undefined) delete process.env.SOFTUKEY_DIR;
    else process.env.SOFTUKEY_DIR = before;
  }
  return { ukeyId: spec.serial, file };
}

interface InitOpts extends GlobalOptions {
  dir?: string;
  label?: string;
  serial?: string;
  soPin?: string;
  pin?: string;
  model?: string;
}

export function softukeyCommand(): Command {
  const cmd = new Command('softukey').description(
    'the SM2 software UKey (DEVELOPMENT AND TEST ONLY)',
  );
  globalOptions(
    cmd
      .command('init')
      .description('create one software UKey file (plugging it in) and initialise it'),
  )
    .requiredOption(
      '--dir <dir>',
      'directory of software UKey files (the module reads it from $SOFTUKEY_DIR)',
    )
    .requiredOption('--label <label>', 'token label')
    .requiredOption('--serial <serial>', 'token serial, the UKeyId (up to 16 characters)')
    .requiredOption(
      '--so-pin <pin>',
      'SO PIN (test provisioning only: PINs on argv are visible to other users)',
    )
    .requiredOption('--pin <pin>', 'user PIN (test provisioning only)')
    .option('--model <model>', 'model string reported by the token')
    .action(
      action<InitOpts>(async (o) => {
        const r = await provisionSoftUKey({
          dir: requireOption(o.dir, '--dir'),
          label: requireOption(o.label, '--label'),
          serial: requireOption(o.serial, '--serial'),
          soPin: requireOption(o.soPin, '--so-pin'),
          pin: requireOption(o.pin, '--pin'),
          model: o.model,
        });
        emit(
          o,
          { ukeyId: r.ukeyId, file: r.file, development: true },
          (d) =>
            `software UKey ${d.ukeyId} created in ${d.file} (development token — not for production)`,
        );
      }),
    );
  return cmd;
}
