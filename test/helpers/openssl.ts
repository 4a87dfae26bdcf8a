import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { derToPem } from '../../main/core/pki/keys';
import { tempDir } from './dev-tokens';

/** Runs the openssl CLI; answers stdout+stderr text and the exit status instead of throwing. */
export function openssl(args: string[], input?: Buffer): { ok: boolean; out: string } {
  const r = spawnSync('openssl', args, { input });
  return { ok: r.status === 0, out: `${r.stdout?.toString() ?? ''}${r.stderr?.toString() ?? ''}` };
}

/** Writes files into a fresh temp dir and answers their paths. */
export function files(entries: Record<string, Buffer | string>): Record<string, string> {
  const dir = tempDir('files');
  const out: Record<string, string> = {};
  for (const [name, data] of Object.entries(entries)) {
    const p = join(dir, name);
    writeFileSync(p, data);
    out[name] = p;
  }
  return out;
}

/** Verifies an SM2-with-SM3 signature (DER) over message with OpenSSL and the default ID. */
export function opensslSm2Verify(
  spkiDer: Buffer,
  message: Buffer,
  signature: Buffer,
): { ok: boolean; out: string } {
  const f = files({ 'pub.pem': derToPem(spkiDer, 'PUBLIC KEY'), msg: message, sig: signature });
  return openssl([
    'pkeyutl',
    '-verify',
    '-rawin',
    '-digest',
    'sm3',
    '-pubin',
    '-inkey',
    f['pub.pem']!,
    '-in',
    f.msg!,
    '-sigfile',
    f.sig!,
    '-pkeyopt',
    'distid:1234567812345678',
  ]);
}

export function opensslDgstVerify(
  spkiDer: Buffer,
  hash: string,
  message: Buffer,
  signature: Buffer,
): { ok: boolean; out: string } {
  const f = files({ 'pub.pem': derToPem(spkiDer, 'PUBLIC KEY'), msg: message, sig: signature });
  return openssl(['dgst', `-${hash}`, '-verify', f['pub.pem']!, '-signature', f.sig!, f.msg!]);
}
