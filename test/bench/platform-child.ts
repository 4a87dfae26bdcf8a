/**
 * Runs the reference platform in its own process for benchmarks (so its SM2 work does not share the
 * agent's event loop). Prints one JSON line {url, cert} and serves until stdin closes.
 * argv: dataDir, then JSON [{appId, publicKeyHex}]
 */
import { sm2Spki } from '../../main/core/pki/keys';
import { createReferencePlatform } from '../platform/reference-platform';

async function main(): Promise<void> {
  const [dataDir, appsJson] = process.argv.slice(2);
  const platform = await createReferencePlatform({ dataDir: dataDir! });
  for (const a of JSON.parse(appsJson ?? '[]') as { appId: string; publicKeyHex: string }[]) {
    platform.registerApp({
      appId: a.appId,
      publicKey: sm2Spki(Buffer.from(a.publicKeyHex, 'hex')),
      orgCode: '91110000MA00000001',
    });
  }
  process.stdout.write(
    JSON.stringify({ url: platform.url, cert: platform.platformCertificate.toString('base64') }) +
      '\n',
  );
  process.stdin.resume();
  process.stdin.on('end', () => void platform.close().then(() => process.exit(0)));
}

void main();
