import { Command } from 'commander';
import { ensureLocalTls } from '../../core/bridge/local-tls';
import type { LocalTlsIdentity } from '../../core/bridge/local-tls';
import { auditedOperatorAction } from '../../core/audit/operator-audit';
import { passphraseProtector } from '../../core/store/passphrase-protector';
import { action, globalOptions } from '../command';
import { emit } from '../io';
import type { GlobalOptions } from '../io';
import { passphraseOf } from '../passphrase';
import { dataDirOf } from '../io';
import { withStore } from './apps';

interface Opts extends GlobalOptions {
  passphraseFile?: string;
}

/** How to make a browser trust the local CA, per OS (docs/JSAPI.md "HTTPS and WSS"). */
export function trustInstructions(caPath: string): string[] {
  return [
    `Windows:  certutil -user -addstore Root "${caPath}"`,
    `macOS:    security add-trusted-cert -r trustRoot -k ~/Library/Keychains/login.keychain-db "${caPath}"`,
    `Linux (Chromium/Chrome): certutil -d sql:$HOME/.pki/nssdb -A -t "C,," -n "UKey Agent Local CA" -i "${caPath}"`,
    'Firefox: Settings → Privacy & Security → Certificates → View Certificates → Authorities → Import',
  ];
}

/** The identity the CLI and the shell show: never the key. */
export const tlsView = (id: LocalTlsIdentity) => ({
  caPath: id.caPath,
  caFingerprintSha256: id.caFingerprint,
  notAfter: new Date(id.notAfter).toISOString(),
  created: id.created,
});

/**
 * `ukey-agent tls ca`: makes (first run) or shows the local CA behind the bridge's optional
 * HTTPS/WSS port, with how to trust it. The CA key is destroyed right after issuing.
 */
export function tlsCommand(): Command {
  const tls = new Command('tls').description(
    "the bridge's optional HTTPS/WSS port: its local CA and localhost certificate",
  );
  globalOptions(
    tls
      .command('ca')
      .description('create (first time) or show the local CA certificate and how to trust it'),
  )
    .option(
      '--passphrase-file <file>',
      "file (0600) with the passphrase of the agent's key store; or env UKEY_AGENT_PASSPHRASE",
    )
    .action(
      action<Opts>(async (o) => {
        const passphrase = await passphraseOf(o);
        const view = await withStore(o, async (s) => {
          const secrets = await s.openSecrets(passphraseProtector(passphrase));
          return auditedOperatorAction(
            s.audit,
            {
              interface: 'tls.ca',
              raw: {},
              normalized: (v) => ({
                caFingerprintSha256: v.caFingerprintSha256,
                created: v.created,
              }),
            },
            async () => tlsView(await ensureLocalTls({ dataDir: dataDirOf(o), secrets })),
          );
        });
        emit(o, view, (v) =>
          [
            `local CA: ${v.caPath}${v.created ? ' (new: trust it again)' : ''}`,
            `SHA-256:  ${v.caFingerprintSha256}`,
            `valid until ${v.notAfter}; its private key was destroyed after issuing the localhost certificate`,
            'trust it with:',
            ...trustInstructions(v.caPath).map((l) => `  ${l}`),
          ].join('\n'),
        );
      }),
    );
  return tls;
}
