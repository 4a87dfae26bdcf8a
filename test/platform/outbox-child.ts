// A child process for the outbox crash tests: enqueues a platform operation in an agent data dir
// and dies by SIGKILL at a chosen moment, or resumes whatever is pending. Driven by the env var
// OUTBOX_CHILD (JSON); prints one JSON line of the outbox's items when it finishes normally.
import { readFileSync } from 'node:fs';
import { sm2KeyPairFromPrivate } from '../../main/core/crypto/sm2';
import { Outbox, OutboxWorker } from '../../main/core/platform/outbox';
import { createPlatformClient } from '../../main/core/platform/platform-client';
import { sm2RequestSigner } from '../../main/core/platform/request-signer';
import type { OutboxOperation } from '../../main/core/platform/outbox';
import { openAgentStore } from '../../main/core/store/agent-store';

export interface OutboxChildConfig {
  mode: 'kill-after-enqueue' | 'kill-after-answer' | 'resume';
  agentDir: string;
  platformUrl: string;
  platformCertPath: string;
  appId: string;
  keyHex: string;
  operation?: OutboxOperation;
}

async function main(): Promise<void> {
  const cfg = JSON.parse(process.env.OUTBOX_CHILD ?? '{}') as OutboxChildConfig;
  const store = openAgentStore(cfg.agentDir);
  const outbox = new Outbox(store.db);
  const client = createPlatformClient({
    baseUrl: cfg.platformUrl,
    signer: sm2RequestSigner(cfg.appId, sm2KeyPairFromPrivate(Buffer.from(cfg.keyHex, 'hex'))),
    platformKey: readFileSync(cfg.platformCertPath),
  });
  const die = (): void => {
    process.kill(process.pid, 'SIGKILL');
  };
  const worker = new OutboxWorker(outbox, client, {
    baseDelayMs: 20,
    maxDelayMs: 100,
    leaseMs: 300,
    onAnswered: cfg.mode === 'kill-after-answer' ? die : undefined,
  });
  if (cfg.operation) {
    const item = outbox.enqueue(cfg.operation);
    process.stdout.write(`${JSON.stringify({ enqueued: item.id })}\n`);
    if (cfg.mode === 'kill-after-enqueue') die();
  }
  const deadline = Date.now() + 15_000;
  while (outbox.list('pending').length > 0 && Date.now() < deadline) {
    await worker.runOnce();
    await new Promise((r) => setTimeout(r, 50));
  }
  process.stdout.write(`${JSON.stringify({ items: outbox.list() })}\n`);
  store.close();
}

void main();
