import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { sm2KeyPairFromPrivate } from '../../main/core/crypto/sm2';
import { sm2Spki } from '../../main/core/pki/keys';
import { signRequest } from '../../main/core/platform/canonical';
import type { RequestSigner } from '../../main/core/platform/canonical';
import { createPlatformClient } from '../../main/core/platform/platform-client';
import type { PlatformClient } from '../../main/core/platform/platform-client';
import { sm2RequestSigner } from '../../main/core/platform/request-signer';
import { DEMO_APP_ID, DEMO_ORG_CODE, DEMO_ORIGINS } from '../../main/cli/demo-world';
import type { DemoFiles } from '../../main/cli/demo-world';

export const BIN = join(__dirname, '..', '..', '..', 'bin', 'ukey-agent.js');
export const DEMO_UKEY = 'SUKDEMO0001';

export interface CliResult {
  status: number | null;
  json: { code: string; message: string; data: unknown };
  out: string;
}

/** Runs the CLI to completion; `json` is its last stdout line parsed. */
export function cli(args: string[]): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
  let json = { code: '', message: '', data: null as unknown };
  try {
    json = JSON.parse(r.stdout.trim().split('\n').pop() ?? '');
  } catch {
    /* human output */
  }
  return { status: r.status, json, out: r.stdout + r.stderr };
}

export interface ServeChild {
  child: ChildProcess;
  pid: number;
  port: number;
  seals: Record<string, string>;
  /** The last stderr output (diagnostics). */
  stderr(): string;
  kill(signal: NodeJS.Signals): Promise<void>;
}

export interface ServeOptions {
  /**
   * `--demo` (default): the agent provisions the demo world and runs its reference platform in
   * its own process. false: the demo world was provisioned beforehand (startDemo in the test
   * process, which keeps its platform there) and the agent starts from the stored identity.
   */
  demo?: boolean;
  /** Extra `serve` arguments (e.g. `--console`, `--passphrase-file`). */
  args?: string[];
}

/** `ukey-agent serve [--demo] --pin-file` in a child process; resolves once it prints its JSON line. */
export async function startServe(
  dataDir: string,
  pinFile: string,
  o: ServeOptions = {},
): Promise<ServeChild> {
  const demo = o.demo ?? true;
  const child = spawn(
    process.execPath,
    [
      BIN,
      'serve',
      ...(demo ? ['--demo'] : []),
      '--data-dir',
      dataDir,
      '--port',
      '0',
      '--json',
      '--pin-file',
      pinFile,
      ...(o.args ?? []),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let err = '';
  child.stderr!.on('data', (d: Buffer) => {
    err = (err + d.toString()).slice(-4000);
  });
  const line = await new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`serve did not start: ${err}`)), 60_000);
    createInterface({ input: child.stdout! }).once('line', (l) => (clearTimeout(t), resolve(l)));
    child.once('exit', (c) => (clearTimeout(t), reject(new Error(`serve exited ${c}: ${err}`))));
  });
  const out = JSON.parse(line) as {
    data: { jsapi: string; demo?: { seals: Record<string, string> } };
  };
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    pid: child.pid!,
    port: Number(new URL(out.data.jsapi).port),
    seals: out.data.demo?.seals ?? demoFiles(dataDir).seals,
    stderr: () => err,
    kill: async (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

/** The child's resident set size in bytes (/proc/<pid>/status VmRSS). */
export function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

/** A standing policy for the demo app and seal (unattended signing). */
export function addPolicy(dataDir: string, sealCode: string, maxCount = 10_000): CliResult {
  return cli([
    'policy',
    'add',
    '--app-id',
    DEMO_APP_ID,
    '--seal-code',
    sealCode,
    '--max-count',
    String(maxCount),
    '--ttl',
    '2h',
    '--data-dir',
    dataDir,
    '--json',
  ]);
}

/** Registers the demo caller's key for `origins` (replacing the demo registration). */
export function registerOrigins(dataDir: string, origins: string[]): CliResult {
  const files = demoFiles(dataDir);
  const key = sm2KeyPairFromPrivate(Buffer.from(files.callerKeyHex, 'hex'));
  const f = join(dataDir, 'caller.spki.der');
  writeFileSync(f, sm2Spki(key.publicKey));
  return cli([
    'apps',
    'add',
    '--app-id',
    DEMO_APP_ID,
    '--public-key',
    f,
    ...origins.flatMap((o) => ['--origin', o]),
    '--replace',
    '--data-dir',
    dataDir,
    '--json',
  ]);
}

export function demoFiles(dataDir: string): DemoFiles {
  return JSON.parse(readFileSync(join(dataDir, 'demo', 'demo.json'), 'utf8')) as DemoFiles;
}

export interface SignOutcome {
  code: string;
  signId: string;
  /** ms for the JSAPI call alone. */
  ms: number;
  /** Set when no HTTP answer came (connection refused or reset). */
  error?: string;
  status?: number;
}

/** The demo web app: gets signIds from the platform and signs JSAPI requests with its key. */
export class DemoCaller {
  readonly signer: RequestSigner;
  readonly platform: PlatformClient;
  readonly seals: Record<string, string>;

  constructor(dataDir: string) {
    const files = demoFiles(dataDir);
    this.signer = sm2RequestSigner(
      DEMO_APP_ID,
      sm2KeyPairFromPrivate(Buffer.from(files.callerKeyHex, 'hex')),
    );
    this.platform = createPlatformClient({
      baseUrl: files.platformUrl!,
      signer: this.signer,
      platformKey: Buffer.from(files.platformCert!, 'base64'),
    });
    this.seals = files.seals;
  }

  async signId(ukeyId: string): Promise<{ signId: string; sealCode: string }> {
    const sealCode = this.seals[ukeyId]!;
    const seal = (
      await this.platform.querySeals({ orgCode: DEMO_ORG_CODE, sealType: '0', UKeyId: ukeyId })
    ).find((s) => s.sealCode === sealCode);
    if (!seal) throw new Error(`seal ${sealCode} not enabled`);
    return { signId: seal.signId, sealCode };
  }

  async body(
    ukeyId: string,
    s: { signId: string; sealCode: string },
    doc: Buffer,
  ): Promise<Record<string, unknown>> {
    return signRequest(
      {
        version: '1.0',
        appId: DEMO_APP_ID,
        signId: s.signId,
        sealCode: s.sealCode,
        hashType: 4,
        signFormat: 1,
        docHash: doc.toString('base64'),
        UKeyId: ukeyId,
      },
      this.signer,
    );
  }
}

/** POSTs a signed body to the agent's ukey/sign. */
export function postSign(
  port: number,
  body: Record<string, unknown>,
  origin: string = DEMO_ORIGINS[0]!,
): Promise<SignOutcome> {
  const bytes = Buffer.from(JSON.stringify(body));
  const t0 = performance.now();
  return new Promise((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/api/v1/ukey/sign',
        method: 'POST',
        agent: false,
        headers: {
          host: `127.0.0.1:${port}`,
          'content-type': 'application/json',
          'content-length': bytes.length,
          origin,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let code = '';
          try {
            code = (JSON.parse(text) as { code: string }).code;
          } catch {
            code = '';
          }
          resolve({
            code,
            signId: String(body.signId),
            ms: performance.now() - t0,
            status: res.statusCode,
          });
        });
        res.on('error', (e) =>
          resolve({ code: '', signId: String(body.signId), ms: 0, error: e.message }),
        );
      },
    );
    req.on('error', (e) =>
      resolve({ code: '', signId: String(body.signId), ms: 0, error: e.message }),
    );
    req.end(bytes);
  });
}

export { DEMO_ORIGINS };
