// A relay agent in its own process, for tests that kill it (SIGKILL) and start it again.
// argv: dataDir baseUrl chunkBytes (upload PATH | download ID OUT | resume); env RELAY_APP_ID and
// RELAY_SM2_KEY (hex private key). Prints one JSON line per finished job on stdout.
import { sm2KeyPairFromPrivate } from '../../main/core/crypto/sm2';
import { sm2RequestSigner } from '../../main/core/platform/request-signer';
import { RelayAgent } from '../../main/core/relay/agent';
import { openAgentStore } from '../../main/core/store/agent-store';

async function main(): Promise<void> {
  const [dataDir, baseUrl, chunk, op, a, b] = process.argv.slice(2);
  const key = sm2KeyPairFromPrivate(Buffer.from(process.env.RELAY_SM2_KEY ?? '', 'hex'));
  const store = openAgentStore(dataDir!);
  const agent = new RelayAgent({
    db: store.db,
    signer: sm2RequestSigner(process.env.RELAY_APP_ID ?? '', key),
    baseUrl: baseUrl!,
    chunkBytes: Number(chunk),
    retry: { baseMs: 50, maxMs: 500, maxAttempts: 40 },
  });
  let ids: number[];
  if (op === 'upload') ids = [agent.upload(a!).id];
  else if (op === 'download') ids = [agent.download(a!, b!).id];
  else {
    ids = agent.jobs.pending().map((j) => j.id);
    agent.start();
  }
  for (const id of ids) process.stdout.write(`${JSON.stringify(await agent.waitFor(id))}\n`);
  store.close();
}

main().catch((e: unknown) => {
  process.stderr.write(`relay child: ${String(e)}\n`);
  process.exit(1);
});
