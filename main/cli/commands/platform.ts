// `ukey-agent platform …` (CONTRACT §6): the reference platform (serve, apps, ca) and the agent's
// platform operations under its stored app identity (identity, seals, verify-doc, cloud-sign).
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Command } from 'commander';
import { generate as qrcode } from 'qrcode-terminal';
import { ResultCode } from '../../common/codes';
import { AgentError, badParam } from '../../common/errors';
import { auditedOperatorAction } from '../../core/audit/operator-audit';
import { derToPem, spkiToPem } from '../../core/pki/keys';
import {
  identityKeyOnUKey,
  importAgentIdentity,
  loadAgentIdentity,
} from '../../core/platform/agent-identity';
import { waitForCloudAuth } from '../../core/platform/cloud-flow';
import { Outbox, OutboxWorker } from '../../core/platform/outbox';
import type { OutboxItem, OutboxOperation } from '../../core/platform/outbox';
import { createPlatformClient } from '../../core/platform/platform-client';
import type { PlatformClient } from '../../core/platform/platform-client';
import { parseSm2PrivateKey } from '../../core/platform/sm2-private-key';
import type { SealFilingParams, SealState, SealType } from '../../core/platform/types';
import { openAgentStore } from '../../core/store/agent-store';
import { action, globalOptions } from '../command';
import { dataDirOf, emit, requireOption } from '../io';
import type { GlobalOptions } from '../io';
import { readPublicKeyFile } from './apps';
import { openTokens } from '../token-context';
import type { TokenService } from '../../core/token/token-service';
import { PASSPHRASE_ENV, passphraseOf } from '../passphrase';

/** The token service a UKey-held identity signs with: opened on first use, closed at exit. */
function lazyTokens(o: Opts): () => TokenService {
  let t: TokenService | undefined;
  return () => {
    if (!t) {
      const opened = openTokens(o);
      process.once('exit', () => opened.close());
      t = opened;
    }
    return t;
  };
}

/** Env var holding the passphrase of the agent's secret store (for scripts; prefer a file). */

interface Opts extends GlobalOptions {
  port?: string;
  host?: string;
  appId?: string;
  publicKey?: string;
  orgCode?: string;
  platName?: string;
  destHost?: string;
  cert?: string;
  key?: string;
  platform?: string;
  platformCert?: string;
  passphraseFile?: string;
  publicKeyOut?: string;
  ukeyId?: string;
  keyLabel?: string;
  pinFile?: string;
  module?: string[];
  devDir?: string;
  sealType?: string;
  certType?: string;
  jsonFile?: string;
  wait?: string;
  sealCode?: string;
  state?: string;
  docHash?: string;
  format?: string;
  mobile?: string;
  credentNo?: string;
  idCard?: string;
  name?: string;
  signId?: string;
  redirectUrl?: string;
  timeout?: string;
  pollMs?: string;
  status?: string;
}

const readFile = (path: string, option: string): Buffer => {
  try {
    return readFileSync(path);
  } catch {
    throw badParam(`${option}: cannot read ${path}`);
  }
};

const seconds = (v: string | undefined, def: number, option: string): number => {
  if (v === undefined) return def * 1000;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0 || n > 86_400) throw badParam(`${option} must be 0 to 86400`);
  return n * 1000;
};

/** The platform client under the stored identity, with --platform/--platform-cert overrides. */
async function clientOf(o: Opts): Promise<PlatformClient> {
  const dataDir = dataDirOf(o);
  const onUKey = identityKeyOnUKey(dataDir) !== undefined;
  const identity = await loadAgentIdentity(
    dataDir,
    onUKey ? undefined : await passphraseOf(o),
    lazyTokens(o),
  );
  const baseUrl = o.platform ?? identity.platformUrl;
  if (!baseUrl) throw badParam('no platform URL: give --platform or import it with the identity');
  const platformKey = o.platformCert
    ? readFile(o.platformCert, '--platform-cert')
    : identity.platformCert;
  if (!platformKey)
    throw badParam('no platform certificate: give --platform-cert or import it with the identity');
  return createPlatformClient({ baseUrl, signer: identity.signer, platformKey });
}

/** Enqueues `op` in the agent's outbox and tries to deliver it within --wait seconds. */
async function throughOutbox(o: Opts, op: OutboxOperation): Promise<OutboxItem> {
  const client = await clientOf(o);
  const store = openAgentStore(dataDirOf(o));
  try {
    const outbox = new Outbox(store.db);
    const item = outbox.enqueue(op);
    const done = await new OutboxWorker(outbox, client).deliver(
      item.id,
      seconds(o.wait, 30, '--wait'),
    );
    if (done.status === 'failed')
      throw new AgentError(
        (done.errorCode ?? ResultCode.INTERNAL) as ResultCode,
        done.errorMessage ?? 'the platform refused the operation',
      );
    return done;
  } finally {
    store.close();
  }
}

const outboxView = (i: OutboxItem) => ({
  outboxId: i.id,
  kind: i.kind,
  status: i.status,
  attempts: i.attempts,
  requestId: i.requestId,
  result: i.result,
  errorCode: i.errorCode,
  errorMessage: i.errorMessage,
});

const pendingLine = (i: OutboxItem): string =>
  `not delivered yet: outbox item ${i.id} stays pending (last error ${i.errorCode}: ${i.errorMessage}); the agent retries it`;

const leaf = (parent: Command, name: string, description: string): Command =>
  globalOptions(parent.command(name).description(description));

/** Options of every command that calls the platform. */
const platformOptions = (cmd: Command): Command =>
  cmd
    .option('--platform <url>', "the platform's base URL (default: the one imported)")
    .option('--platform-cert <file>', "the platform's certificate (default: the one imported)")
    .option(
      '--passphrase-file <file>',
      `the secret store passphrase (mode 0600); else $${PASSPHRASE_ENV} or a prompt`,
    )
    // When the agent's app key is on a UKey (identity import --ukey-id): how to reach it.
    .option(
      '--pin-file <file>',
      'UKey-held identity: file (0600) with the UKey PIN; or env UKEY_PIN',
    )
    .option(
      '--module <path>',
      'UKey-held identity: PKCS#11 module (repeatable)',
      (v: string, p: string[] = []) => [...p, v],
    )
    .option('--dev-dir <dir>', 'UKey-held identity: development tokens directory');

function serveCommand(platform: Command): void {
  leaf(platform, 'serve', 'run the reference platform until SIGINT/SIGTERM (its state: --data-dir)')
    .option('--port <port>', 'TCP port (0 picks a free one)', '0')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .action(
      action<Opts>(async (o) => {
        const port = Number(o.port);
        if (!Number.isInteger(port) || port < 0 || port > 65535)
          throw badParam('--port must be 0 to 65535');
        const dataDir = dataDirOf(o);
        // The reference platform is test code shipped for demos; load it only when asked to.
        const { createReferencePlatform } =
          await import('../../../test/platform/reference-platform');
        const server = await createReferencePlatform({
          dataDir,
          port,
          host: o.host ?? '127.0.0.1',
        });
        const cloudCaPath = join(dataDir, 'cloud-ca.pem');
        writeFileSync(cloudCaPath, derToPem(server.cloudCaCertificate, 'CERTIFICATE'));
        emit(
          o,
          {
            url: server.url,
            certificate: join(dataDir, 'platform-cert.pem'),
            cloudCaCertificate: cloudCaPath,
          },
          (d) =>
            `reference platform listening on ${d.url}\ncertificate: ${d.certificate}\ncloud CA: ${d.cloudCaCertificate}`,
        );
        await new Promise<void>((resolve) => {
          process.once('SIGINT', resolve);
          process.once('SIGTERM', resolve);
        });
        await server.close();
      }),
    );
}

function platformAdminCommands(platform: Command): void {
  const apps = new Command('apps').description("the reference platform's registered apps");
  leaf(apps, 'add', 'register an app with the reference platform in --data-dir (running or not)')
    .requiredOption('--app-id <id>', 'the appId')
    .requiredOption('--public-key <file>', "the app's public key (PEM PUBLIC KEY or DER SPKI)")
    .requiredOption('--org-code <code>', "the app's organisation code")
    .option('--plat-name <name>', "name of its e-seal system (a seal's platName)")
    .option('--dest-host <url>', "its client address (a UKey seal's destHost)")
    .action(
      action<Opts>(async (o) => {
        const { registerApp } = await import('../../../test/platform/apps');
        const rec = registerApp(dataDirOf(o), {
          appId: requireOption(o.appId, '--app-id'),
          publicKey: readPublicKeyFile(requireOption(o.publicKey, '--public-key')),
          orgCode: requireOption(o.orgCode, '--org-code'),
          ...(o.platName ? { platName: o.platName } : {}),
          ...(o.destHost ? { destHost: o.destHost } : {}),
        });
        const view = { appId: rec.appId, keyAlgorithm: rec.keyAlgorithm, orgCode: rec.orgCode };
        emit(o, view, (v) => `registered ${v.appId} (${v.keyAlgorithm}, ${v.orgCode})`);
      }),
    );
  platform.addCommand(apps);

  const ca = new Command('ca').description('CAs the reference platform trusts for verify-doc');
  leaf(ca, 'add', 'trust a CA certificate for document verification (platform --data-dir)')
    .requiredOption('--cert <file>', 'the CA certificate (PEM or DER)')
    .action(
      action<Opts>(async (o) => {
        const { trustCa } = await import('../../../test/platform/trust');
        const fingerprint = trustCa(
          dataDirOf(o),
          readFile(requireOption(o.cert, '--cert'), '--cert'),
        );
        emit(o, { fingerprint }, (d) => `trusted CA sm3:${d.fingerprint}`);
      }),
    );
  platform.addCommand(ca);
}

/** The SM2 key pair on a UKey that will sign for the agent: its SPKI, read with the PIN. */
async function ukeyIdentityKey(
  o: Opts,
): Promise<{ ukeyId: string; keyLabel: string; spki: Buffer }> {
  const ukeyId = requireOption(o.ukeyId, '--ukey-id');
  const keyLabel = requireOption(o.keyLabel, '--key-label');
  const tokens = openTokens(o);
  try {
    const p = await tokens.provider(
      ukeyId,
      { label: keyLabel },
      "use this key as the agent's platform identity",
    );
    if (p.keyAlgorithm !== 'sm2') throw badParam('the platform identity key must be an SM2 key');
    return { ukeyId, keyLabel, spki: p.spki };
  } finally {
    tokens.close();
  }
}

function identityCommand(platform: Command): void {
  const identity = new Command('identity').description("the agent's own platform app identity");
  platformOptions(
    leaf(identity, 'import', "store the agent's SM2 app key, encrypted, with its appId"),
  )
    .requiredOption('--app-id <id>', 'the appId the platform registered for this agent')
    .option(
      '--key <file>',
      'PKCS #8 PEM SM2 private key (openssl genpkey -algorithm SM2) or 64 hex digits',
    )
    .option(
      '--ukey-id <id>',
      'instead of --key: the UKey holding the app key (it never leaves the key)',
    )
    .option('--key-label <label>', 'with --ukey-id: the label of the SM2 key pair on the UKey')
    .option('--public-key-out <file>', 'write the public key (PEM) for `platform apps add`')
    .action(
      action<Opts>(async (o) => {
        const appId = requireOption(o.appId, '--app-id');
        if (!o.key === !o.ukeyId)
          throw badParam('give either --key FILE or --ukey-id ID --key-label L');
        const key = o.key ? parseSm2PrivateKey(readFile(o.key, '--key')) : undefined;
        const ukey = o.ukeyId ? await ukeyIdentityKey(o) : undefined;
        const platformCert = o.platformCert
          ? readFile(o.platformCert, '--platform-cert')
          : undefined;
        const passphrase = key ? await passphraseOf(o) : '';
        const dataDir = dataDirOf(o);
        const imported = await importAgentIdentity(dataDir, passphrase, {
          appId,
          ...(key ? { key } : { ukey }),
          ...(o.platform !== undefined ? { platformUrl: o.platform } : {}),
          ...(platformCert ? { platformCert } : {}),
        });
        key?.privateKey.fill(0);
        const publicKey = spkiToPem(imported.publicKey);
        if (o.publicKeyOut) writeFileSync(o.publicKeyOut, publicKey);
        const store = openAgentStore(dataDir);
        try {
          await auditedOperatorAction(
            store.audit,
            {
              interface: 'platform.identity.import',
              appId,
              raw: { appId, platformUrl: o.platform, publicKey },
            },
            () => undefined,
          );
        } finally {
          store.close();
        }
        emit(
          o,
          { appId, publicKey, platformUrl: imported.platformUrl ?? null },
          (d) => `imported platform identity ${d.appId}; register this public key:\n${d.publicKey}`,
        );
      }),
    );
  platform.addCommand(identity);
}

function sealCommands(platform: Command): void {
  const seals = new Command('seals').description('seal query, filing and state on the platform');
  platformOptions(leaf(seals, 'query', "an organisation's seals, each with a fresh signId"))
    .requiredOption('--org-code <code>', 'the organisation code')
    .option('--ukey-id <id>', 'only seals on this UKey')
    .option('--seal-type <type>', 'seal type 01..08 (default 0: all)', '0')
    .option('--cert-type <n>', '1 UKey, 2 cloud (default 0: all)')
    .action(
      action<Opts>(async (o) => {
        const client = await clientOf(o);
        const certType = o.certType === undefined ? undefined : Number(o.certType);
        if (certType !== undefined && ![0, 1, 2].includes(certType))
          throw badParam('--cert-type must be 0, 1 or 2');
        const list = await client.querySeals({
          orgCode: requireOption(o.orgCode, '--org-code'),
          sealType: (o.sealType ?? '0') as SealType | '0',
          ...(o.ukeyId ? { UKeyId: o.ukeyId } : {}),
          ...(certType !== undefined ? { certType: certType as 0 | 1 | 2 } : {}),
        });
        emit(o, list, (l) =>
          l.length === 0
            ? 'no seals'
            : l
                .map((s) => `${s.sealCode}\t${s.sealType}\t${s.sealName}\tsignId ${s.signId}`)
                .join('\n'),
        );
      }),
    );

  platformOptions(leaf(seals, 'file', 'file (or extend, change) a seal through the outbox'))
    .requiredOption('--json-file <file>', 'the filing fields (seed table 1) as a JSON object')
    .option('--wait <seconds>', 'how long to try before leaving it to the outbox', '30')
    .action(
      action<Opts>(async (o) => {
        let params: unknown;
        try {
          params = JSON.parse(
            readFile(requireOption(o.jsonFile, '--json-file'), '--json-file').toString('utf8'),
          );
        } catch (e) {
          if (e instanceof AgentError) throw e;
          throw badParam('--json-file does not hold JSON');
        }
        if (typeof params !== 'object' || params === null || Array.isArray(params))
          throw badParam('--json-file must hold a JSON object');
        const item = await throughOutbox(o, {
          kind: 'seal.filing',
          params: params as SealFilingParams,
        });
        emit(
          o,
          { ...outboxView(item), sealCode: item.status === 'delivered' ? item.result : null },
          (d) => (d.status === 'delivered' ? String(d.sealCode) : pendingLine(item)),
        );
      }),
    );

  platformOptions(
    leaf(seals, 'state', 'enable (1), cancel (3) or suspend (4) a seal, through the outbox'),
  )
    .requiredOption('--seal-code <code>', 'the seal')
    .requiredOption('--state <n>', '1 enable, 3 cancel, 4 suspend')
    .option('--wait <seconds>', 'how long to try before leaving it to the outbox', '30')
    .action(
      action<Opts>(async (o) => {
        const state = Number(o.state);
        if (![1, 3, 4].includes(state)) throw badParam('--state must be 1, 3 or 4');
        const item = await throughOutbox(o, {
          kind: 'seal.state',
          params: { sealCode: requireOption(o.sealCode, '--seal-code'), state: state as SealState },
        });
        emit(o, outboxView(item), (d) =>
          d.status === 'delivered'
            ? `seal ${o.sealCode} is now in state ${state}`
            : pendingLine(item),
        );
      }),
    );
  platform.addCommand(seals);

  const outbox = new Command('outbox').description("the agent's undelivered platform operations");
  leaf(outbox, 'list', 'outbox items (--status pending|delivered|failed)')
    .option('--status <status>', 'only items in this status')
    .action(
      action<Opts>(async (o) => {
        if (o.status && !['pending', 'delivered', 'failed'].includes(o.status))
          throw badParam('--status must be pending, delivered or failed');
        const store = openAgentStore(dataDirOf(o));
        try {
          const items = new Outbox(store.db)
            .list(o.status as OutboxItem['status'] | undefined)
            .map(outboxView);
          emit(o, items, (l) =>
            l.length === 0
              ? 'outbox empty'
              : l
                  .map(
                    (i) =>
                      `${i.outboxId}\t${i.kind}\t${i.status}\t${i.attempts}\t${i.errorCode ?? ''}`,
                  )
                  .join('\n'),
          );
        } finally {
          store.close();
        }
      }),
    );
  platform.addCommand(outbox);
}

function verifyDocCommand(platform: Command): void {
  platformOptions(leaf(platform, 'verify-doc', "verify a signed PDF's signatures on the platform"))
    .argument('<file>', 'the PDF')
    .action(
      action<Opts>(async (o, cmd) => {
        const file = cmd.args[0]!;
        const client = await clientOf(o);
        const result = await client.verifyDocument(readFile(file, 'FILE'), basename(file));
        emit(o, result, (r) =>
          [
            `${r.fileName}: ${r.verifyResult ? 'VERIFIED' : 'NOT VERIFIED'} (${r.signCount} signature${r.signCount === 1 ? '' : 's'})`,
            ...r.details.flatMap((d, i) => [
              `#${i + 1} ${d.sealCode || '(unknown seal)'} ${d.cert0wner} ${d.signTime}`,
              ...d.flowVoList.map(
                (s) => `   ${s.status === 1 ? 'ok  ' : 'FAIL'} ${s.step}: ${s.hint}`,
              ),
            ]),
          ].join('\n'),
        );
        if (!result.verifyResult) process.exitCode = 1;
      }),
    );
}

function cloudSignCommand(platform: Command): void {
  platformOptions(
    leaf(platform, 'cloud-sign', "sign a digest with a cloud seal after its holder's consent"),
  )
    .requiredOption('--seal-code <code>', 'the cloud seal')
    .requiredOption(
      '--doc-hash <base64>',
      'P7: the SM3 digest of the document; P1: the bytes to sign',
    )
    .requiredOption('--mobile <number>', "the holder's telephone number (the code goes there)")
    .requiredOption('--credent-no <id>', "the holder's ID number")
    .option('--format <p1|p7>', 'signature structure', 'p7')
    .option(
      '--org-code <code>',
      'the organisation (required to fetch a signId when --sign-id is absent)',
    )
    .option('--sign-id <id>', 'a signId from `platform seals query` (default: query one)')
    .option('--id-card <id>', "the holder's ID card number, sent with the application")
    .option('--name <name>', "the holder's name, sent with the application")
    .option('--redirect-url <url>', 'where the H5 page sends the holder afterwards')
    .option('--timeout <seconds>', 'how long to wait for the holder', '300')
    .option('--poll-ms <ms>', 'how often to ask for the result', '2000')
    .action(
      action<Opts>(async (o) => {
        const format = (o.format ?? 'p7').toLowerCase();
        if (format !== 'p1' && format !== 'p7') throw badParam('--format must be p1 or p7');
        const sealCode = requireOption(o.sealCode, '--seal-code');
        const pollMs = Number(o.pollMs);
        if (!Number.isInteger(pollMs) || pollMs < 50 || pollMs > 60_000)
          throw badParam('--poll-ms must be 50 to 60000');
        const client = await clientOf(o);
        let signId = o.signId;
        if (!signId) {
          const orgCode = requireOption(o.orgCode, '--org-code (or --sign-id)');
          const seal = (await client.querySeals({ orgCode, sealType: '0', certType: 2 })).find(
            (s) => s.sealCode === sealCode,
          );
          if (!seal)
            throw new AgentError(
              ResultCode.SEAL_INVALID,
              `no enabled cloud seal ${sealCode} for ${orgCode}`,
            );
          signId = seal.signId;
        }
        const app = await client.applyCloudAuth({
          sealCode,
          mobile: requireOption(o.mobile, '--mobile'),
          ...(o.orgCode ? { orgCode: o.orgCode } : {}),
          ...(o.idCard ? { idCard: o.idCard } : {}),
          ...(o.name ? { name: o.name } : {}),
          ...(o.redirectUrl ? { redirectUrl: o.redirectUrl } : {}),
        });
        // The holder opens the page on a phone: a QR code on a terminal, a plain line otherwise.
        const out = o.json ? process.stderr : process.stdout;
        if (out.isTTY) qrcode(app.authUrl, { small: true }, (q) => out.write(`${q}\n`));
        out.write(`authUrl: ${app.authUrl}\n`);
        const auth = await waitForCloudAuth(client, app.authId, sealCode, {
          timeoutMs: seconds(o.timeout, 300, '--timeout'),
          pollMs,
        });
        const signed = await client.cloudSign({
          sealCode,
          authId: app.authId,
          authCode: auth.authCode,
          type: format === 'p1' ? 'P1' : 'P7',
          docHash: requireOption(o.docHash, '--doc-hash'),
          credentNo: requireOption(o.credentNo, '--credent-no'),
          signId,
          hashType: 4,
          ...(o.orgCode ? { orgCode: o.orgCode } : {}),
        });
        emit(o, { ...signed, authId: app.authId }, (d) => d.signData);
      }),
    );
}

export function platformCommand(): Command {
  const platform = new Command('platform').description(
    'the central e-seal platform: reference server, app identity, seals, documents, cloud signing',
  );
  serveCommand(platform);
  platformAdminCommands(platform);
  identityCommand(platform);
  sealCommands(platform);
  verifyDocCommand(platform);
  cloudSignCommand(platform);
  return platform;
}
