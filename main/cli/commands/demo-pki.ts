import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { AgentError } from '../../common/errors';
import { ResultCode } from '../../common/codes';
import { generateSm2KeyPair } from '../../core/crypto/sm2';
import { buildCsr } from '../../core/pki/csr';
import { certificateFromCsr, issuerFromCertificate, selfSignedCa } from '../../core/pki/issue';
import type { IssuerRef, KeyUsageName } from '../../core/pki/issue';
import { derToPem } from '../../core/pki/keys';
import { softwareRsaProvider, softwareSm2Provider } from '../../core/pki/signer';
import { TokenService } from '../../core/token/token-service';
import { builtinProfiles, resolveLibraryPath } from '../../core/token/vendor-profile';
import { CliPinHost } from '../pin-host';
import { emit } from '../io';
import type { GlobalOptions } from '../io';
import { action, globalOptions } from '../command';
import { provisionSoftUKey, softukeyLibrary } from './softukey';
import { devTokenDir } from '../token-context';

export const DEMO_PIN = '123456';
export const DEMO_SO_PIN = '12345678';

export interface DemoUKey {
  ukeyId: string;
  label: string;
  module: 'softukey' | 'softhsm2';
  algorithm: 'sm2' | 'rsa';
  signCertSerial: string;
  encCertSerial?: string;
  signSubject: string;
}

export interface DemoPki {
  dir: string;
  pin: string;
  soPin: string;
  sm2CaCert: string;
  rsaCaCert?: string;
  ukeys: DemoUKey[];
  created: boolean;
}

const SIGN_USAGE: KeyUsageName[] = ['digitalSignature', 'nonRepudiation'];
const ENC_USAGE: KeyUsageName[] = ['keyEncipherment', 'dataEncipherment', 'keyAgreement'];

async function enrol(
  tokens: TokenService,
  ukeyId: string,
  alg: 'sm2' | 'rsa2048',
  label: string,
  subject: string,
  ca: IssuerRef,
  keyUsage: KeyUsageName[],
): Promise<string> {
  await tokens.generateKeyPair(ukeyId, alg, label);
  const signer = await tokens.provider(ukeyId, { label }, `demo PKI: request for ${label}`);
  const csr = await buildCsr({ subject, signer });
  const cert = await certificateFromCsr(csr, ca, { keyUsage });
  const imported = await tokens.importCertificate(ukeyId, cert, label);
  return imported.info.serialNumberHex;
}

/**
 * Provisions development UKeys for the demo and tests: two SM2 software UKeys each with a signing
 * and an encryption certificate from a demo SM2 CA, and (where SoftHSM2 is installed) a SoftHSM
 * token with an RSA signing certificate from a demo RSA CA. The CA keys live only in memory and
 * are gone when this returns; only the CA certificates are written.
 */
export async function provisionDemoPki(dirIn: string): Promise<DemoPki> {
  const dir = resolve(dirIn);
  const summaryFile = join(dir, 'demo-pki.json');
  if (existsSync(summaryFile)) {
    return { ...(JSON.parse(readFileSync(summaryFile, 'utf8')) as DemoPki), created: false };
  }
  mkdirSync(join(dir, 'ca'), { recursive: true, mode: 0o700 });
  const sm2CaSigner = softwareSm2Provider(generateSm2KeyPair());
  const sm2CaCert = await selfSignedCa({
    subject: 'CN=UKey Agent Demo SM2 CA,O=UKey Agent Demo,C=CN',
    signer: sm2CaSigner,
  });
  const sm2Ca = issuerFromCertificate(sm2CaCert, sm2CaSigner);
  writeFileSync(join(dir, 'ca', 'demo-sm2-ca.pem'), derToPem(sm2CaCert, 'CERTIFICATE'));

  const specs = [
    { serial: 'SUKDEMO0001', label: '演示签章UKey-1', who: '张三' },
    { serial: 'SUKDEMO0002', label: '演示签章UKey-2', who: '李四' },
  ];
  for (const s of specs)
    await provisionSoftUKey({
      dir,
      serial: s.serial,
      label: s.label,
      pin: DEMO_PIN,
      soPin: DEMO_SO_PIN,
    });

  const modules = [softukeyLibrary()];
  let rsa: { serial: string; label: string } | undefined;
  const softhsmLib = resolveLibraryPath(builtinProfiles.find((p) => p.id === 'softhsm2')!);
  let rsaCaCertPath: string | undefined;
  let rsaCa: IssuerRef | undefined;
  if (softhsmLib) {
    const hsmDir = join(dir, 'softhsm');
    mkdirSync(join(hsmDir, 'tokens'), { recursive: true, mode: 0o700 });
    const conf = join(hsmDir, 'softhsm2.conf');
    writeFileSync(
      conf,
      `directories.tokendir = ${join(hsmDir, 'tokens')}\nobjectstore.backend = file\nlog.level = ERROR\n`,
    );
    process.env.SOFTHSM2_CONF = conf;
    const label = 'Demo RSA UKey';
    try {
      execFileSync(
        'softhsm2-util',
        ['--init-token', '--free', '--label', label, '--so-pin', DEMO_SO_PIN, '--pin', DEMO_PIN],
        {
          stdio: 'pipe',
        },
      );
    } catch {
      throw new AgentError(
        ResultCode.INTERNAL,
        'softhsm2-util could not create the demo RSA token',
      );
    }
    modules.push(softhsmLib);
    rsa = { serial: '', label };
    const rsaCaSigner = softwareRsaProvider(
      generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey,
    );
    const rsaCaCert = await selfSignedCa({
      subject: 'CN=UKey Agent Demo RSA CA,O=UKey Agent Demo,C=CN',
      signer: rsaCaSigner,
    });
    rsaCa = issuerFromCertificate(rsaCaCert, rsaCaSigner);
    rsaCaCertPath = join(dir, 'ca', 'demo-rsa-ca.pem');
    writeFileSync(rsaCaCertPath, derToPem(rsaCaCert, 'CERTIFICATE'));
  }

  process.env.SOFTUKEY_DIR = dir;
  const tokens = new TokenService({
    modules,
    host: new CliPinHost({ literal: { user: DEMO_PIN } }),
    pollIntervalMs: 0,
    loginIdleMs: 60_000,
  });
  const ukeys: DemoUKey[] = [];
  try {
    for (const s of specs) {
      const subject = `CN=${s.who},OU=演示签章,O=示例单位,C=CN`;
      const signCertSerial = await enrol(
        tokens,
        s.serial,
        'sm2',
        'sign',
        subject,
        sm2Ca,
        SIGN_USAGE,
      );
      const encCertSerial = await enrol(tokens, s.serial, 'sm2', 'enc', subject, sm2Ca, ENC_USAGE);
      ukeys.push({
        ukeyId: s.serial,
        label: s.label,
        module: 'softukey',
        algorithm: 'sm2',
        signCertSerial,
        encCertSerial,
        signSubject: subject,
      });
    }
    if (rsa && rsaCa) {
      const k = tokens.list().find((x) => x.vendor.id === 'softhsm2' && x.label === rsa!.label);
      if (!k) throw new AgentError(ResultCode.INTERNAL, 'the demo RSA token did not appear');
      const subject = 'CN=王五,OU=演示签章,O=示例单位,C=CN';
      const signCertSerial = await enrol(
        tokens,
        k.ukeyId,
        'rsa2048',
        'sign',
        subject,
        rsaCa,
        SIGN_USAGE,
      );
      ukeys.push({
        ukeyId: k.ukeyId,
        label: rsa.label,
        module: 'softhsm2',
        algorithm: 'rsa',
        signCertSerial,
        signSubject: subject,
      });
    }
  } finally {
    tokens.close();
  }
  const result: DemoPki = {
    dir,
    pin: DEMO_PIN,
    soPin: DEMO_SO_PIN,
    sm2CaCert: join(dir, 'ca', 'demo-sm2-ca.pem'),
    rsaCaCert: rsaCaCertPath,
    ukeys,
    created: true,
  };
  // The summary names the demo PINs because they are printed anyway: they are test PINs by design.
  writeFileSync(summaryFile, JSON.stringify({ ...result, created: undefined }, null, 2), {
    mode: 0o600,
  });
  return result;
}

interface Opts extends GlobalOptions {
  dir?: string;
}

export function demoPkiCommand(): Command {
  return globalOptions(
    new Command('demo-pki').description(
      'provision development UKeys with a demo SM2 CA (sign + encryption certificates) and a SoftHSM RSA token',
    ),
  )
    .option('--dir <dir>', 'where the development tokens go (default <data-dir>/dev-tokens)')
    .action(
      action<Opts>(async (o) => {
        const pki = await provisionDemoPki(o.dir ?? devTokenDir(o));
        emit(o, pki, (p) =>
          [
            p.created
              ? `demo PKI created in ${p.dir}`
              : `demo PKI already present in ${p.dir} (reused)`,
            `user PIN ${p.pin}, SO PIN ${p.soPin} (demo PINs: development tokens only)`,
            `SM2 CA certificate: ${p.sm2CaCert}`,
            ...(p.rsaCaCert ? [`RSA CA certificate: ${p.rsaCaCert}`] : []),
            ...p.ukeys.map(
              (k) =>
                `  ${k.ukeyId}  ${k.label}  ${k.algorithm.toUpperCase()}  ${k.signSubject}  sign cert ${k.signCertSerial}${k.encCertSerial ? `, enc cert ${k.encCertSerial}` : ''}`,
            ),
          ].join('\n'),
        );
      }),
    );
}
