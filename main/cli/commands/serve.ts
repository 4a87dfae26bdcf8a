import { Command } from 'commander';
import { AgentError, badParam } from '../../common/errors';
import { ResultCode } from '../../common/codes';
import { DEFAULT_JSAPI_PORT } from '../../common/jsapi';
import { createAgent } from '../../core/agent';
import { createPlatformClient } from '../../core/platform/platform-client';
import { identityKeyOnUKey, loadAgentIdentity } from '../../core/platform/agent-identity';
import type { Agent } from '../../core/agent';
import { openAgentStore } from '../../core/store/agent-store';
import { passphraseProtector } from '../../core/store/passphrase-protector';
import { ensureLocalTls } from '../../core/bridge/local-tls';
import type { LocalTlsIdentity } from '../../core/bridge/local-tls';
import { spawn } from 'node:child_process';
import { startOperatorConsole } from '../../core/operator/console';
import type { OperatorConsole } from '../../core/operator/console';
import { DEFAULT_CONSOLE_PORT } from '../../core/operator/console-server';
import { WebConsoleHost } from '../../core/operator/web-console-host';
import type { AgentHost } from '../../core/host';
import { ConsoleHost } from '../console-host';
import { dataDirOf, readSecretFile } from '../io';
import { action, globalOptions } from '../command';
import { prepareDevEnvironment, tokenOptions } from '../token-context';
import type { TokenCliOptions } from '../token-context';
import { startDemo } from '../demo-world';
import type { DemoWorld } from '../demo-world';

interface ServeOptions extends TokenCliOptions {
  port?: string;
  platform?: string;
  passphraseFile?: string;
  demo?: boolean;
  console?: boolean;
  consolePort?: string;
  consoleOpen?: boolean;
  tlsPort?: string;
}

/** The passphrase that unlocks the agent's key store: 0600 file, environment, or (demo) the demo one. */
function passphraseOf(o: ServeOptions, demo: DemoWorld | undefined): string {
  if (o.passphraseFile) return readSecretFile(o.passphraseFile, 'passphrase');
  if (process.env.UKEY_AGENT_PASSPHRASE) return process.env.UKEY_AGENT_PASSPHRASE;
  if (demo) return demo.passphrase;
  throw badParam(
    'the key store passphrase is needed: give --passphrase-file or set UKEY_AGENT_PASSPHRASE',
  );
}

function portOf(o: ServeOptions, fallback: number): number {
  if (o.port === undefined) return fallback;
  const p = Number(o.port);
  if (!Number.isInteger(p) || p < 0 || p > 65535) throw badParam('--port must be 0..65535');
  return p;
}

function tlsPortOf(o: ServeOptions): number | undefined {
  if (o.tlsPort === undefined) return undefined;
  const p = Number(o.tlsPort);
  if (!Number.isInteger(p) || p < 0 || p > 65535) throw badParam('--tls-port must be 0..65535');
  return p;
}

/** The bridge's HTTPS/WSS identity from the encrypted key store (made on first use). */
async function tlsOf(
  o: ServeOptions,
  dataDir: string,
  demo: DemoWorld | undefined,
): Promise<{ port: number; identity: LocalTlsIdentity } | undefined> {
  const port = tlsPortOf(o);
  if (port === undefined) return undefined;
  const store = openAgentStore(dataDir);
  try {
    const secrets = await store.openSecrets(passphraseProtector(passphraseOf(o, demo)));
    try {
      return { port, identity: await ensureLocalTls({ dataDir, secrets }) };
    } finally {
      secrets.close();
    }
  } finally {
    store.close();
  }
}

function consolePortOf(o: ServeOptions): number {
  if (o.consolePort === undefined) return DEFAULT_CONSOLE_PORT;
  const p = Number(o.consolePort);
  if (!Number.isInteger(p) || p < 0 || p > 65535) throw badParam('--console-port must be 0..65535');
  return p;
}

/** Best effort: the desktop's browser opens the one-time link (the URL is printed anyway). */
function openBrowser(url: string): void {
  const cmd =
    process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
  try {
    spawn(cmd, [url], { detached: true, stdio: 'ignore' })
      .on('error', () => undefined)
      .unref();
  } catch {
    /* no browser here: the URL was printed */
  }
}

/**
 * `ukey-agent serve`: the headless agent — SQLite store, token service, platform client and the JSAPI
 * bridge on 127.0.0.1. Signature requests are approved at this terminal (or by standing policies);
 * `--demo` also provisions development UKeys, a reference platform and a demo caller.
 */
export function serveCommand(): Command {
  return globalOptions(
    tokenOptions(
      new Command('serve').description(
        'run the headless agent (JSAPI on 127.0.0.1; --console adds the operator UI)',
      ),
    ),
  )
    .option(
      '--port <port>',
      `JSAPI port on 127.0.0.1 (default ${DEFAULT_JSAPI_PORT} or the stored setting)`,
    )
    .option('--platform <url>', "the central platform's base URL (default: the stored setting)")
    .option(
      '--passphrase-file <file>',
      "file (0600) with the passphrase of the agent's key store; or env UKEY_AGENT_PASSPHRASE",
    )
    .option('--demo', 'provision demo UKeys, start a reference platform and register a demo caller')
    .option(
      '--console',
      'serve the operator UI on 127.0.0.1 (one-time link printed); approvals and PINs are answered there',
    )
    .option(
      '--console-port <port>',
      `the console's port on 127.0.0.1 (default ${DEFAULT_CONSOLE_PORT}, 0 = free)`,
    )
    .option('--console-open', 'open the console link in the default browser')
    .option(
      '--tls-port <port>',
      'also serve the JSAPI over HTTPS/WSS on this 127.0.0.1 port (0 = free) with the local CA (`tls ca`)',
    )
    .action(
      action<ServeOptions>(async (o) => {
        const dataDir = dataDirOf(o);
        prepareDevEnvironment(o);
        const demo = o.demo ? await startDemo(dataDir, o) : undefined;
        try {
          // A UKey-held identity signs through the agent's own token service, once it exists.
          const running: { agent?: Agent } = {};
          const onUKey = identityKeyOnUKey(dataDir) !== undefined;
          const identity = await loadAgentIdentity(
            dataDir,
            onUKey ? undefined : passphraseOf(o, demo),
            () => {
              if (!running.agent)
                throw new AgentError(ResultCode.INTERNAL, 'the agent is not running yet');
              return running.agent.tokens;
            },
          );
          const platformUrl = o.platform ?? identity.platformUrl;
          if (!platformUrl)
            throw badParam('no platform URL: give --platform or import the identity with one');
          if (!identity.platformCert) {
            throw badParam(
              "the platform's certificate is not configured: import the identity with --platform-cert",
            );
          }
          const store = openAgentStore(dataDir);
          const settings = store.settings.all();
          store.close();
          const tls = await tlsOf(o, dataDir, demo);
          const pinFile = o.pinFile;
          const webHost = o.console
            ? new WebConsoleHost({
                ...(pinFile ? { userPin: () => readSecretFile(pinFile, 'PIN') } : {}),
              })
            : undefined;
          const host: AgentHost =
            webHost ??
            new ConsoleHost({
              input: process.stdin,
              output: process.stderr,
              interactive: !!process.stdin.isTTY,
              pinFile,
            });
          const platformClient = createPlatformClient({
            baseUrl: platformUrl,
            signer: identity.signer,
            platformKey: identity.platformCert,
          });
          const agent = await createAgent({
            dataDir,
            port: portOf(o, settings.jsapiPort),
            modules: o.module,
            platform: platformClient,
            host,
            approvalTimeoutMs: settings.approvalTimeoutMs,
            auditSigner: identity.auditSigner,
            auditSealIntervalMs: settings.auditSealIntervalMs,
            ...(tls
              ? { tls: { port: tls.port, key: tls.identity.key, cert: tls.identity.cert } }
              : {}),
            log: (msg) => process.stderr.write(`agent: ${msg}\n`),
          }).catch((e: unknown) => {
            if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE') {
              throw new AgentError(
                ResultCode.INTERNAL,
                'the JSAPI port is in use: is another agent running? (use --port)',
              );
            }
            throw e;
          });
          running.agent = agent;
          let operatorConsole: OperatorConsole | undefined;
          if (webHost) {
            operatorConsole = await startOperatorConsole({
              agent,
              host: webHost,
              dataDir,
              platform: {
                client: platformClient,
                baseUrl: platformUrl,
                signer: identity.signer,
                certificate: identity.platformCert,
              },
              port: consolePortOf(o),
              log: (msg) => process.stderr.write(`console: ${msg}\n`),
            }).catch(async (e: unknown) => {
              await agent.close();
              if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE') {
                throw new AgentError(
                  ResultCode.INTERNAL,
                  'the console port is in use: is another agent running? (use --console-port)',
                );
              }
              throw e;
            });
          }
          const consoleUrl = operatorConsole?.server.issueUrl();
          // A new one-time link on demand (the first expires after 5 minutes). Registered before the
          // first line is printed: unhandled, SIGUSR1 would start Node's inspector instead.
          const newLink = (): void => {
            const url = operatorConsole?.server.issueUrl();
            if (!url) return;
            process.stdout.write(
              o.json
                ? JSON.stringify({
                    code: '0',
                    message: 'console link',
                    data: { consoleUrl: url },
                  }) + '\n'
                : `operator console: ${url}\n`,
            );
          };
          if (operatorConsole) process.on('SIGUSR1', newLink);
          const keys = agent.tokens.list();
          const out = {
            jsapi: agent.bridge.url,
            ...(tls
              ? {
                  jsapiTls: agent.bridge.tlsUrl,
                  tlsCa: tls.identity.caPath,
                  tlsCaFingerprint: tls.identity.caFingerprint,
                }
              : {}),
            platform: platformUrl,
            ukeys: keys.map((k) => ({
              UKeyId: k.ukeyId,
              label: k.label,
              development: k.development,
            })),
            interactive: !!process.stdin.isTTY,
            ...(consoleUrl ? { consoleUrl } : {}),
            demo: demo?.summary,
          };
          if (o.json)
            process.stdout.write(
              JSON.stringify({ code: '0', message: 'listening', data: out }) + '\n',
            );
          else {
            process.stdout.write(
              `ukey-agent listening on ${out.jsapi} (platform ${out.platform})\n`,
            );
            if (tls)
              process.stdout.write(
                `  HTTPS/WSS on ${agent.bridge.tlsUrl}; trust the local CA ${tls.identity.caPath}${tls.identity.created ? ' (new: trust it again)' : ''} — see \`ukey-agent tls ca\`\n`,
              );
            for (const k of out.ukeys)
              process.stdout.write(
                `  UKey ${k.UKeyId} "${k.label}"${k.development ? ' [DEVELOPMENT TOKEN]' : ''}\n`,
              );
            if (consoleUrl)
              process.stdout.write(
                `  operator console: ${consoleUrl}\n    (one-time link, valid 5 minutes; kill -USR1 ${process.pid} prints a new one)\n`,
              );
            else if (!out.interactive)
              process.stdout.write(
                '  no terminal: only requests covered by a standing policy are signed\n',
              );
            if (demo) process.stdout.write(demo.instructions(agent.bridge.port));
          }
          if (consoleUrl && o.consoleOpen) openBrowser(consoleUrl);
          agent.tokens.on('inserted', (e) =>
            process.stderr.write(`agent: UKey ${e.ukeyId} plugged in\n`),
          );
          agent.tokens.on('removed', (e) =>
            process.stderr.write(`agent: UKey ${e.ukeyId} removed\n`),
          );
          await new Promise<void>((resolve) => {
            const stop = (): void => {
              process.off('SIGINT', stop);
              process.off('SIGTERM', stop);
              resolve();
            };
            process.on('SIGINT', stop);
            process.on('SIGTERM', stop);
          });
          process.off('SIGUSR1', newLink);
          await operatorConsole?.close();
          await agent.close();
        } finally {
          await demo?.close();
        }
      }),
    );
}
