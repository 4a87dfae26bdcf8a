/**
 * The headless console's composition (`serve --console`): the operator stack with every method
 * wired (operator-stack.ts: tokens, store, the web console host's approvals and PINs, the platform
 * client with its outbox, the relay agent, document verification, cloud signing), the loopback
 * server, and the agent's events forwarded to every connected console.
 */
import type { Agent } from '../agent';
import type { RelayAgent } from '../relay/agent';
import type { ConsoleAuth } from './console-auth';
import { startConsoleServer } from './console-server';
import type { ConsoleServer } from './console-server';
import { createOperatorStack } from './operator-stack';
import type { PlatformBinding } from './operator-stack';
import type { WebConsoleHost } from './web-console-host';

export interface OperatorConsoleOptions {
  agent: Pick<Agent, 'tokens' | 'store'>;
  host: WebConsoleHost;
  dataDir: string;
  platform: PlatformBinding;
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

export async function startOperatorConsole(o: OperatorConsoleOptions): Promise<OperatorConsole> {
  const stack = createOperatorStack({
    agent: o.agent,
    host: o.host,
    dataDir: o.dataDir,
    platform: o.platform,
  });
  const relay = stack.relay;
  let server: ConsoleServer;
  try {
    if (!relay) throw new Error('the platform was not attached');
    server = await startConsoleServer({
      service: stack.service,
      staging: stack.staging,
      port: o.port,
      staticDir: o.staticDir,
      ...(o.auth ? { auth: o.auth } : {}),
      downloadOf: (id) => stack.downloadOf(id),
      log: o.log,
    });
  } catch (e) {
    await stack.close();
    throw e;
  }
  const unsubscribe = stack.events.subscribe((event, payload) => server.publish(event, payload));
  return {
    server,
    relay,
    close: async () => {
      unsubscribe();
      await stack.close();
      await server.close();
    },
  };
}
