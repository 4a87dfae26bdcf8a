import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { provisionSoftUKey, softukeyLibrary } from '../../main/cli/commands/softukey';

export const SOFTHSM_LIB = [
  '/usr/lib/softhsm/libsofthsm2.so',
  '/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so',
].find((p) => existsSync(p))!;

export const tempDir = (prefix: string): string => mkdtempSync(join(tmpdir(), `ukey-${prefix}-`));

export interface SoftHsmToken {
  conf: string;
  label: string;
  serial: string;
  pin: string;
  soPin: string;
}

/** A fresh SoftHSM2 token in its own config; sets SOFTHSM2_CONF for this process. */
export function makeSoftHsmToken(
  label = 'RSA Test',
  pin = '654321',
  soPin = '87654321',
): SoftHsmToken {
  const dir = tempDir('softhsm');
  const tokens = join(dir, 'tokens');
  mkdirSync(tokens);
  const conf = join(dir, 'softhsm2.conf');
  writeFileSync(
    conf,
    `directories.tokendir = ${tokens}\nobjectstore.backend = file\nlog.level = ERROR\n`,
  );
  process.env.SOFTHSM2_CONF = conf;
  execFileSync(
    'softhsm2-util',
    ['--init-token', '--free', '--label', label, '--so-pin', soPin, '--pin', pin],
    {
      env: process.env,
      stdio: 'pipe',
    },
  );
  const out = execFileSync('softhsm2-util', ['--show-slots'], { env: process.env }).toString();
  const block =
    out.split(/^Slot /m).find((b) => new RegExp(`Label:\\s+${label}\\s*$`, 'm').test(b)) ?? '';
  const serial = /Serial number:[ \t]+(\S+)/.exec(block)?.[1];
  if (!serial) throw new Error('SoftHSM token serial not found');
  return { conf, label, serial, pin, soPin };
}

export interface SoftUKeyFixture {
  dir: string;
  serial: string;
  label: string;
  pin: string;
  soPin: string;
  lib: string;
}

/** A software UKey directory with one initialised token; sets SOFTUKEY_DIR for this process. */
export async function makeSoftUKey(
  serial = 'SUKTEST0001',
  label = 'Test UKey',
  pin = '123456',
  soPin = '12345678',
  dir = tempDir('softukey'),
): Promise<SoftUKeyFixture> {
  await provisionSoftUKey({ dir, serial, label, pin, soPin });
  process.env.SOFTUKEY_DIR = dir;
  return { dir, serial, label, pin, soPin, lib: softukeyLibrary() };
}
