import { readFileSync, writeFileSync } from 'node:fs';
import { Command } from 'commander';
import { badParam } from '../../common/errors';
import { buildCsr } from '../../core/pki/csr';
import { derToPem, pemToDer } from '../../core/pki/keys';
import { buildDetachedSignedData } from '../../core/pki/cms';
import type { HashName } from '../../core/pki/signer';
import { digest } from '../../core/token/digest-info';
import type { UKeyInfo } from '../../core/token/token-service';
import { identifyUsbKeys } from '../../core/token/usb-identify';
import { loadProfiles } from '../../core/token/vendor-profile';
import { dataDirOf } from '../io';
import { join } from 'node:path';
import { emit, requireOption } from '../io';
import { auditedTokenAction, tokenOptions, withTokens } from '../token-context';
import type { TokenCliOptions } from '../token-context';
import { globalOptions, action } from '../command';

const pinState = (k: UKeyInfo): string =>
  !k.tokenInitialized
    ? 'blank (not initialised)'
    : k.pin.locked
      ? 'PIN LOCKED'
      : k.pin.finalTry
        ? 'PIN: final try'
        : k.pin.countLow
          ? 'PIN: wrong tries recorded'
          : k.pin.initialized
            ? 'PIN ok'
            : 'no user PIN';

interface Opts extends TokenCliOptions {
  ukeyId?: string;
  label?: string;
  keyLabel?: string;
  alg?: string;
  subject?: string;
  out?: string;
  cert?: string;
  in?: string;
  format?: string;
  hash?: string;
}

const leaf = (parent: Command, name: string, description: string): Command =>
  globalOptions(tokenOptions(parent.command(name).description(description)));

/** Key operations are operator actions: each is recorded in the audit log with its outcome. */
const audited = (name: string, fn: (o: Opts) => Promise<void>) =>
  action<Opts>((o) =>
    auditedTokenAction(
      o,
      `token.${name}`,
      {
        ukeyId: o.ukeyId,
        label: o.label,
        keyLabel: o.keyLabel,
        alg: o.alg,
        subject: o.subject,
        format: o.format,
        hash: o.hash,
      },
      () => fn(o),
    ),
  );

export function tokenCommand(): Command {
  const token = new Command('token').description(
    'UKeys over PKCS#11: list, certificates, keys, PINs, signing',
  );

  leaf(token, 'list', 'list the UKeys plugged in').action(
    action<Opts>(async (o) => {
      const keys = await withTokens(o, async (t) => t.list());
      emit(o, keys, (ks) =>
        ks.length === 0
          ? 'no UKey plugged in'
          : ks
              .map(
                (k) =>
                  `${k.ukeyId}\t${k.label}\t${k.vendor.name}${k.development ? ' [DEVELOPMENT TOKEN — not for production]' : ''}\t${k.model}\t${pinState(k)}`,
              )
              .join('\n'),
      );
    }),
  );

  globalOptions(
    token
      .command('usb')
      .description('UKeys recognised on USB by their vendor profile (before any module is loaded)'),
  ).action(
    action<Opts>(async (o) => {
      const keys = identifyUsbKeys(loadProfiles(join(dataDirOf(o), 'profiles')));
      emit(o, keys, (ks) =>
        ks.length === 0
          ? 'no known UKey on USB'
          : ks
              .map(
                (k) =>
                  `${k.vendorId}:${k.productId}\t${k.profile?.name ?? ''}\t${k.product ?? ''}\t${k.serialNumber ?? ''}`,
              )
              .join('\n'),
      );
    }),
  );

  leaf(token, 'certs', "list a UKey's certificates")
    .requiredOption('--ukey-id <id>', "the UKey (its serial, the seed's UKeyId)")
    .action(
      action<Opts>(async (o) => {
        const certs = await withTokens(o, (t) =>
          t.certificates(requireOption(o.ukeyId, '--ukey-id')),
        );
        const data = certs.map((c) => ({
          ukeyId: c.ukeyId,
          keyId: c.keyId,
          label: c.label,
          usage: c.info.usage,
          subject: c.info.subject,
          issuer: c.info.issuer,
          serialNumber: c.info.serialNumberHex,
          notBefore: c.info.notBefore.toISOString(),
          notAfter: c.info.notAfter.toISOString(),
          keyAlgorithm: c.info.keyAlgorithm,
          certData: c.der.toString('base64'),
        }));
        emit(o, data, (cs) =>
          cs.length === 0
            ? 'no certificates on this UKey'
            : cs
                .map(
                  (c) =>
                    `[${c.usage}] ${c.subject}\n  issuer ${c.issuer}\n  serial ${c.serialNumber}  ${c.keyAlgorithm}  valid ${c.notBefore} .. ${c.notAfter}  label "${c.label}"`,
                )
                .join('\n'),
        );
      }),
    );

  leaf(token, 'keygen', 'generate a key pair on the UKey')
    .requiredOption('--ukey-id <id>', 'the UKey')
    .requiredOption('--alg <alg>', 'sm2, rsa2048 or ec-p256')
    .requiredOption('--label <label>', 'label of the new key pair')
    .action(
      audited('keygen', async (o) => {
        if (o.alg !== 'sm2' && o.alg !== 'rsa2048' && o.alg !== 'ec-p256')
          throw badParam('--alg must be sm2, rsa2048 or ec-p256');
        const alg = o.alg;
        const key = await withTokens(o, (t) =>
          t.generateKeyPair(
            requireOption(o.ukeyId, '--ukey-id'),
            alg,
            requireOption(o.label, '--label'),
          ),
        );
        emit(
          o,
          {
            ukeyId: key.ukeyId,
            keyId: key.keyId,
            label: key.label,
            algorithm: key.algorithm,
            publicKey: key.spki?.toString('base64'),
          },
          (k) => `generated ${k.algorithm} key "${k.label}" (id ${k.keyId}) on ${k.ukeyId}`,
        );
      }),
    );

  leaf(token, 'csr', 'make a PKCS#10 request signed by a key on the UKey')
    .requiredOption('--ukey-id <id>', 'the UKey')
    .requiredOption('--key-label <label>', 'the key pair')
    .requiredOption('--subject <dn>', 'e.g. "CN=张三,O=Example Bank,C=CN"')
    .requiredOption('--out <file>', 'where to write the PEM request')
    .action(
      audited('csr', async (o) => {
        const pem = await withTokens(o, async (t) => {
          const signer = await t.provider(
            requireOption(o.ukeyId, '--ukey-id'),
            { label: o.keyLabel },
            `sign a certificate request for "${o.subject}"`,
          );
          return derToPem(
            await buildCsr({ subject: requireOption(o.subject, '--subject'), signer }),
            'CERTIFICATE REQUEST',
          );
        });
        writeFileSync(requireOption(o.out, '--out'), pem);
        emit(o, { out: o.out, pem }, (d) => `wrote ${d.out}`);
      }),
    );

  leaf(token, 'import-cert', 'import a certificate next to its key pair')
    .requiredOption('--ukey-id <id>', 'the UKey')
    .option('--key-label <label>', 'the key pair it belongs to (default: found by public key)')
    .requiredOption('--cert <file>', 'PEM or DER certificate')
    .action(
      audited('import-cert', async (o) => {
        let raw: Buffer;
        try {
          raw = readFileSync(requireOption(o.cert, '--cert'));
        } catch {
          throw badParam(`cannot read ${o.cert}`);
        }
        const der = raw.toString('latin1').includes('-----BEGIN')
          ? pemToDer(raw.toString('utf8'), 'CERTIFICATE')
          : raw;
        const c = await withTokens(o, (t) =>
          t.importCertificate(requireOption(o.ukeyId, '--ukey-id'), der, o.keyLabel),
        );
        emit(
          o,
          {
            keyId: c.keyId,
            label: c.label,
            usage: c.info.usage,
            subject: c.info.subject,
            serialNumber: c.info.serialNumberHex,
          },
          (d) => `imported [${d.usage}] ${d.subject} next to key "${d.label}"`,
        );
      }),
    );

  leaf(token, 'delete', 'delete the objects with a label (certificate and key pair)')
    .requiredOption('--ukey-id <id>', 'the UKey')
    .requiredOption('--label <label>', 'label of the objects')
    .action(
      audited('delete', async (o) => {
        const n = await withTokens(o, (t) =>
          t.deleteObjects(requireOption(o.ukeyId, '--ukey-id'), requireOption(o.label, '--label')),
        );
        emit(o, { deleted: n }, (d) => `deleted ${d.deleted} object(s)`);
      }),
    );

  leaf(token, 'change-pin', 'change the user PIN (current PIN, then the new one)')
    .requiredOption('--ukey-id <id>', 'the UKey')
    .option(
      '--new-pin-file <file>',
      'file (0600) with the new PIN; or env UKEY_NEW_PIN; else a hidden prompt',
    )
    .action(
      audited('change-pin', async (o) => {
        await withTokens(o, (t) => t.changePin(requireOption(o.ukeyId, '--ukey-id')));
        emit(o, { changed: true }, () => 'PIN changed');
      }),
    );

  leaf(
    token,
    'unblock-pin',
    'set a new user PIN with the SO PIN (unblocks a locked PIN, keeps the keys)',
  )
    .requiredOption('--ukey-id <id>', 'the UKey')
    .option(
      '--so-pin-file <file>',
      'file (0600) with the SO PIN; or env UKEY_SO_PIN; else a hidden prompt',
    )
    .option(
      '--new-pin-file <file>',
      'file (0600) with the new user PIN; or env UKEY_NEW_PIN; else a hidden prompt',
    )
    .action(
      audited('unblock-pin', async (o) => {
        await withTokens(o, (t) => t.initUserPin(requireOption(o.ukeyId, '--ukey-id')));
        emit(o, { unblocked: true }, () => 'user PIN set; the key is unblocked');
      }),
    );

  leaf(token, 'init', 'initialise (wipe) a UKey: SO PIN, label and user PIN')
    .requiredOption('--ukey-id <id>', 'the UKey')
    .requiredOption('--label <label>', 'the new token label')
    .option('--so-pin-file <file>', 'file (0600) with the SO PIN; or env UKEY_SO_PIN')
    .option('--new-pin-file <file>', 'file (0600) with the user PIN; or env UKEY_NEW_PIN')
    .action(
      audited('init', async (o) => {
        await withTokens(o, (t) =>
          t.initToken(requireOption(o.ukeyId, '--ukey-id'), requireOption(o.label, '--label')),
        );
        emit(o, { initialised: true }, () => 'UKey initialised');
      }),
    );

  leaf(token, 'sign', 'sign a file with a key on the UKey; prints Base64')
    .requiredOption('--ukey-id <id>', 'the UKey')
    .requiredOption('--in <file>', 'the bytes to sign (the message; SM2 computes SM3(Z‖M))')
    .option(
      '--format <fmt>',
      "p1 (bare signature) or p7 (detached CMS over the file's digest)",
      'p1',
    )
    .option('--hash <hash>', 'sm3 for SM2; sha256, sha1 or md5 for RSA (default: by key type)')
    .option('--key-label <label>', "the key pair (default: the signing certificate's)")
    .action(
      audited('sign', async (o) => {
        if (o.format !== 'p1' && o.format !== 'p7') throw badParam('--format must be p1 or p7');
        if (o.hash && !['sm3', 'sha256', 'sha1', 'md5'].includes(o.hash))
          throw badParam('--hash must be sm3, sha256, sha1 or md5');
        let message: Buffer;
        try {
          message = readFileSync(requireOption(o.in, '--in'));
        } catch {
          throw badParam(`cannot read ${o.in}`);
        }
        const ukeyId = requireOption(o.ukeyId, '--ukey-id');
        const out = await withTokens(o, async (t) => {
          const signer = await t.provider(
            ukeyId,
            o.keyLabel ? { label: o.keyLabel } : undefined,
            `sign ${o.in}`,
          );
          const hash = (o.hash ?? (signer.keyAlgorithm === 'sm2' ? 'sm3' : 'sha256')) as HashName;
          if (o.format === 'p1') return signer.sign(message, hash);
          const cert = (await t.certificates(ukeyId)).find((c) => c.info.spki.equals(signer.spki));
          if (!cert) throw badParam("a P7 signature needs the key's certificate on the UKey");
          return buildDetachedSignedData({
            messageDigest: digest(hash, message),
            hash,
            signer,
            signerCertificate: cert.der,
          });
        });
        emit(o, { format: o.format, signature: out.toString('base64') }, (d) => d.signature);
      }),
    );

  return token;
}
