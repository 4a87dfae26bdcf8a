/**
 * The headless console's composition (`serve --console`): the operator service with every method
 * wired (tokens, store, the web console host's approvals and PINs, the platform client with its
 * outbox, the relay agent, document verification, cloud signing), the loopback server, and the
 * agent's events forwarded to every connected console.
 */
import { readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { badParam } from '../../common/errors';
import type { OperatorEvent, OperatorEvents } from '../../common/operator-api';
import type { Agent } from '../agent';
import type { RequestSigner } from '../platform/canonical';
import { Outbox, OutboxWorker } from '../platform/outbox';
import type { PlatformClient } from '../platform/platform-client';
import { RelayAgent } from '../relay/agent';
import type { ConsoleAuth } from './console-auth';
import { startConsoleServer } from './console-server';
import type { ConsoleServer } from './console-server';
import { createOperatorService } from './operator-service';
import { documentOperations, platformOperations } from './platform-operations';
import { finishedDownload, relayJobView, relayOperations } from './relay-operations';
import { StagingArea } from './staging';
import type { WebConsoleHost } from './web-console-host';

export interface OperatorConsoleOptions {
  agent: Pick<Agent, 'tokens' | 'store'>;
  host: WebConsoleHost;
  dataDir: string;
  platform: { client: PlatformClient; baseUrl: string; signer: RequestSigner };
  /** Default 18789; 0 = a free port. */
  port?: number;
  staticDir?: string;
  /** Tests give one with a short token lifetime. */
  auth?: ConsoleAuth;
  log?: (msg: string, detail?: unknown) => void;
}

export interface OperatorConsole {
  server: ConsoleServer;
  relay: RelayAgent;
  close(): Promise<void>;
}

interface Emitter {
  on(event: string, f: (p: never) => void): unknown;
  off(event: string, f: (p: never) => void): unknown;
}

async function readLocal(path: string, max: number): Promise<{ bytes: Buffer; name: string }> {
  const s = await stat(path).catch(() => undefined);
  if (!s || !s.isFile()) throw badParam('no such file');
  if (s.size > max) throw badParam('the file is too large for this');
  return { bytes: await readFile(path), name: basename(path) };
}

export async function startOperatorConsole(o: OperatorConsoleOptions): Promise<OperatorConsole> {
  const { agent, host } = o;
  host.bind({ store: agent.store, tokens: agent.tokens });
  const staging = new StagingArea(o.dataDir);
  const downloadsDir = join(o.dataDir, 'downloads');
  const outbox = new Outbox(agent.store.db);
  const worker = new OutboxWorker(outbox, o.platform.client);
  const relay = new RelayAgent({
    db: agent.store.db,
    signer: o.platform.signer,
    baseUrl: o.platform.baseUrl,
  });
  const service = createOperatorService({
    tokens: agent.tokens,
    store: agent.store,
    approvals: host,
    pins: host,
    platform: platformOperations({ client: o.platform.client, outbox, worker }),
    relay: relayOperations({ relay, staging, downloadsDir }),
    documents: documentOperations({ client: o.platform.client, staging, readLocal }),
  });
  const server = await startConsoleServer({
    service,
    staging,
    port: o.port,
    staticDir: o.staticDir,
    ...(o.auth ? { auth: o.auth } : {}),
    downloadOf: (id) => finishedDownload({ relay, downloadsDir }, id),
    log: o.log,
  });
  // Queued filings and state changes of earlier runs are delivered while the console runs.
  worker.start(5_000);

  // The sources are typed EventEmitters; here each is only a name → payload → event mapping.
  const offs: (() => void)[] = [];
  const forward = <E extends OperatorEvent>(
    src: unknown,
    from: string,
    to: E,
    map: (p: never) => OperatorEvents[E] = (p) => p,
  ): void => {
    const em = src as Emitter;
    const f = (p: never): void => server.publish(to, map(p));
    em.on(from, f);
    offs.push(() => em.off(from, f));
  };
  forward(host, 'approval.requested', 'approval.requested');
  forward(host, 'approval.resolved', 'approval.resolved');
  forward(host, 'pin.requested', 'pin.requested');
  forward(host, 'pin.resolved', 'pin.resolved');
  forward(agent.tokens, 'inserted', 'key.inserted', (e: { ukeyId: string }) => ({
    ukeyId: e.ukeyId,
  }));
  forward(agent.tokens, 'removed', 'key.removed', (e: { ukeyId: string }) => ({
    ukeyId: e.ukeyId,
  }));
  forward(relay, 'progress', 'relay.progress');
  forward(relay, 'state', 'relay.state', relayJobView);

  return {
    server,
    relay,
    close: async () => {
      for (const off of offs) off();
      host.closeAll();
      await worker.stop();
      await relay.stop();
      await server.close();
    },
  };
}
