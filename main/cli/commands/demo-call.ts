import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { Command } from 'commander';
import { badParam } from '../../common/errors';
import { DEFAULT_JSAPI_PORT, JSAPI_PATHS } from '../../common/jsapi';
import { sm2KeyPairFromPrivate, sm2Verify } from '../../core/crypto/sm2';
import { sm3 } from '../../core/crypto/sm3';
import { parseCertificate } from '../../core/pki/certificate';
import { signRequest } from '../../core/platform/canonical';
import { createPlatformClient } from '../../core/platform/platform-client';
import { sm2RequestSigner } from '../../core/platform/request-signer';
import { DEMO_APP_ID, DEMO_ORG_CODE, DEMO_ORIGINS, readDemoFiles } from '../demo-world';
import { dataDirOf, emit, requireOption } from '../io';
import type { GlobalOptions } from '../io';
import { action, globalOptions } from '../command';

interface Opts extends GlobalOptions {
  ukeyId?: string;
  port?: string;
  text?: string;
  file?: string;
  format?: string;
  type?: string;
}

function postJsapi(
  port: number,
  path: string,
  body: unknown,
): Promise<{ code: string; message: string; data: unknown }> {
  const bytes = Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-length': bytes.length,
          origin: DEMO_ORIGINS[0],
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          try {
            resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
          } catch {
            reject(badParam('the agent did not answer JSON'));
          }
        });
      },
    );
    req.on('error', () =>
      reject(badParam(`no agent answers on 127.0.0.1:${port}: start \`ukey-agent serve --demo\``)),
    );
    req.end(bytes);
  });
}

/**
 * Plays the demo web application's part against a running `serve --demo`: its server gets a signId
 * from the platform and signs the JSAPI request with the app key; the "page" posts it to the agent
 * with the demo origin. Useful to try the agent and to script the demo.
 */
export function demoCallCommand(): Command {
  const cmd = new Command('demo-call').description(
    'call the running demo agent as the demo web app would (development only)',
  );
  const common = (c: Command): Command =>
    globalOptions(c)
      .requiredOption('--ukey-id <id>', 'the UKey')
      .option('--port <port>', "the agent's JSAPI port", String(DEFAULT_JSAPI_PORT));
  common(cmd.command('info').description('ukey/info: read the signing (or encryption) certificate'))
    .option('--type <type>', '1 signing certificate, 2 encryption certificate', '1')
    .action(
      action<Opts>(async (o) => {
        const files = readDemoFiles(dataDirOf(o));
        const caller = sm2RequestSigner(
          DEMO_APP_ID,
          sm2KeyPairFromPrivate(Buffer.from(files.callerKeyHex, 'hex')),
        );
        const body = await signRequest(
          {
            version: '1.0',
            appId: DEMO_APP_ID,
            type: o.type,
            UKeyId: requireOption(o.ukeyId, '--ukey-id'),
          },
          caller,
        );
        const r = await postJsapi(Number(o.port), JSAPI_PATHS.info, body);
        const d = r.data as { certData?: string } | null;
        emit(o, r, () =>
          r.code === '0' && d?.certData
            ? `${r.code} ${parseCertificate(Buffer.from(d.certData, 'base64')).subject}`
            : `${r.code} ${r.message}`,
        );
      }),
    );
  common(
    cmd.command('sign').description('ukey/sign: have the UKey sign (asks the signer at the agent)'),
  )
    .option('--text <text>', 'the content to sign')
    .option('--file <file>', 'a file to sign')
    .option(
      '--format <fmt>',
      'p1 (the content is the message) or p7 (over the SM3 digest of the content)',
      'p1',
    )
    .action(
      action<Opts>(async (o) => {
        const ukeyId = requireOption(o.ukeyId, '--ukey-id');
        const content = o.file
          ? readFileSync(o.file)
          : Buffer.from(requireOption(o.text, '--text or --file'), 'utf8');
        if (o.format !== 'p1' && o.format !== 'p7') throw badParam('--format must be p1 or p7');
        const files = readDemoFiles(dataDirOf(o));
        if (!files.platformUrl || !files.platformCert)
          throw badParam('the demo is not running: start `ukey-agent serve --demo`');
        const key = sm2KeyPairFromPrivate(Buffer.from(files.callerKeyHex, 'hex'));
        const caller = sm2RequestSigner(DEMO_APP_ID, key);
        const platform = createPlatformClient({
          baseUrl: files.platformUrl,
          signer: caller,
          platformKey: Buffer.from(files.platformCert, 'base64'),
        });
        const sealCode = files.seals[ukeyId];
        if (!sealCode) throw badParam(`the demo has no seal for UKey ${ukeyId}`);
        const seal = (
          await platform.querySeals({ orgCode: DEMO_ORG_CODE, sealType: '0', UKeyId: ukeyId })
        ).find((s) => s.sealCode === sealCode);
        if (!seal) throw badParam(`seal ${sealCode} is not enabled on the platform`);
        const docHash = o.format === 'p1' ? content : sm3(content);
        const body = await signRequest(
          {
            version: '1.0',
            appId: DEMO_APP_ID,
            signId: seal.signId,
            sealCode,
            hashType: 4,
            signFormat: o.format === 'p1' ? 1 : 2,
            docHash: docHash.toString('base64'),
            UKeyId: ukeyId,
          },
          caller,
        );
        const r = await postJsapi(Number(o.port), JSAPI_PATHS.sign, body);
        let verified: boolean | undefined;
        if (r.code === '0' && o.format === 'p1') {
          const cert = seal.certList[0]?.signPublicKey;
          const point = cert
            ? parseCertificate(Buffer.from(cert, 'base64')).publicKey?.sm2Point
            : undefined;
          if (point) verified = sm2Verify(point, content, Buffer.from(r.data as string, 'base64'));
        }
        emit(o, { ...r, verified }, (d) =>
          d.code === '0'
            ? `signature ${String(d.data)}${verified === undefined ? '' : verified ? '\n(verified with the seal certificate)' : '\n(DOES NOT VERIFY)'}`
            : `${d.code} ${d.message}`,
        );
      }),
    );
  return cmd;
}
