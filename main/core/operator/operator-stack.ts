/**
 * The operator API's composition without a transport, shared by the headless console (console.ts)
 * and the desktop shell: the operator service over the agent with the web console host's approvals
 * and PINs and, with a platform identity, the platform client and its outbox, the relay agent,
 * document verification and cloud signing. The platform may be given at once (the console) or
 * attached later (the desktop asks the key store passphrase first); until then every
 * platform-dependent method answers 3001 with the reason, never 5000 and never a pretended success.
 * The agent's events come out of one subscription, for the transport to push.
 */
import { readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { AgentError, badParam } from '../../common/errors';
import { ResultCode } from '../../common/codes';
import type { OperatorApi, OperatorEvent, OperatorEvents } from '../../common/operator-api';
import type { Agent } from '../agent';
import type { RequestSigner } from '../platform/canonical';
import { Outbox, OutboxWorker } from '../platform/outbox';
import type { PlatformClient } from '../platform/platform-client';
import { RelayAgent } from '../relay/agent';
import { relayCapFromSettings } from '../relay/bandwidth';
import { platformView } from './module-inventory';
import { createOperatorService } from './operator-service';
import type { PlatformOperations, RelayOperations } from './operator-service';
import { documentOperations, platformOperations } from './platform-operations';
import { finishedDownload, relayJobView, relayOperations } from './relay-operations';
import { StagingArea } from './staging';
import type { WebConsoleHost } from './web-console-host';

/** What the platform-dependent methods need: the agent's identity at one platform. */
export interface PlatformBinding {
  client: PlatformClient;
  baseUrl: string;
  signer: RequestSigner;
  /** The platform's certificate (DER or PEM), shown in the operator's settings. */
  certificate?: Uint8Array;
}

export interface OperatorStackOptions {
  agent: Pick<Agent, 'tokens' | 'store'> & Partial<Pick<Agent, 'events' | 'pairing'>>;
  host: WebConsoleHost;
  dataDir: string;
  platform?: PlatformBinding;
  /** Why there is no platform (the 3001 message) until one is attached. */
  platformMissing?: string;
  /** How often the outbox worker looks for queued filings (default 5 s). */
  outboxPollMs?: number;
}

export type OperatorEventListener = <E extends OperatorEvent>(
  event: E,
  payload: OperatorEvents[E],
) => void;

export interface OperatorStack {
  service: OperatorApi;
  staging: StagingArea;
  /** Present once a platform is attached. */
  readonly relay: RelayAgent | undefined;
  readonly outbox: Outbox | undefined;
  events: { subscribe(listener: OperatorEventListener): () => void };
  /** Wires the platform-dependent methods (once; a second call is refused). */
  attachPlatform(platform: PlatformBinding): void;
  /** Changes the reason answered while no platform is attached. */
  setPlatformMissing(reason: string): void;
  /** A finished download in the downloads folder (the console's GET /operator/download/<id>). */
  downloadOf(jobId: number): { path: string; name: string } | undefined;
  /** Stops forwarding, declines what still waits in the host, stops the outbox and the relay. */
  close(): Promise<void>;
}

export const DEFAULT_PLATFORM_MISSING =
  'the platform identity is not configured: import it with `ukey-agent platform identity import` and restart the agent';

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

interface Wired {
  binding: PlatformBinding;
  platform: PlatformOperations;
  relayOps: RelayOperations;
  documents: { verify: OperatorApi['documents.verify'] };
  relay: RelayAgent;
  outbox: Outbox;
  worker: OutboxWorker;
  unforward: () => void;
}

export function createOperatorStack(o: OperatorStackOptions): OperatorStack {
  const { agent, host } = o;
  host.bind({ store: agent.store, tokens: agent.tokens });
  const staging = new StagingArea(o.dataDir);
  const downloadsDir = join(o.dataDir, 'downloads');
  let missing = o.platformMissing ?? DEFAULT_PLATFORM_MISSING;
  let wired: Wired | undefined;
  let closed = false;

  const listeners = new Set<OperatorEventListener>();
  const publish = <E extends OperatorEvent>(event: E, payload: OperatorEvents[E]): void => {
    for (const l of listeners) l(event, payload);
  };
  // The sources are typed EventEmitters; here each is only a name → payload → event mapping.
  const forward = <E extends OperatorEvent>(
    src: unknown,
    from: string,
    to: E,
    map: (p: never) => OperatorEvents[E] = (p) => p,
  ): (() => void) => {
    const em = src as Emitter;
    const f = (p: never): void => publish(to, map(p));
    em.on(from, f);
    return () => em.off(from, f);
  };
  const offs = [
    forward(host, 'approval.requested', 'approval.requested'),
    forward(host, 'approval.resolved', 'approval.resolved'),
    forward(host, 'pin.requested', 'pin.requested'),
    forward(host, 'pin.resolved', 'pin.resolved'),
    forward(agent.tokens, 'inserted', 'key.inserted', (e: { ukeyId: string }) => ({
      ukeyId: e.ukeyId,
    })),
    forward(agent.tokens, 'removed', 'key.removed', (e: { ukeyId: string }) => ({
      ukeyId: e.ukeyId,
    })),
    ...(agent.events ? [forward(agent.events, 'approval.recorded', 'approval.recorded')] : []),
    ...(agent.pairing
      ? [
          forward(agent.pairing, 'requested', 'pairing.requested'),
          forward(agent.pairing, 'resolved', 'pairing.resolved'),
        ]
      : []),
  ];

  const unavailable = (): Promise<never> =>
    Promise.reject(new AgentError(ResultCode.PLATFORM_UNAVAILABLE, missing));
  /** Each call goes to the wired platform, or answers why there is none. */
  const need = <T>(f: (w: Wired) => Promise<T>): Promise<T> => (wired ? f(wired) : unavailable());

  const service = createOperatorService({
    tokens: agent.tokens,
    store: agent.store,
    approvals: host,
    pins: host,
    ...(agent.pairing ? { pairing: agent.pairing } : {}),
    platform: {
      sealsQuery: (r) => need((w) => w.platform.sealsQuery(r)),
      sealsFile: (r) => need((w) => w.platform.sealsFile(r)),
      sealsSetState: (r) => need((w) => w.platform.sealsSetState(r)),
      outboxList: (r) => need((w) => w.platform.outboxList(r)),
      cloudApply: (r) => need((w) => call(w.platform.cloudApply, r)),
      cloudResult: (r) => need((w) => call(w.platform.cloudResult, r)),
      cloudSign: (r) => need((w) => call(w.platform.cloudSign, r)),
    },
    relay: {
      list: (r) => need((w) => w.relayOps.list(r)),
      upload: (r) => need((w) => w.relayOps.upload(r)),
      download: (r) => need((w) => w.relayOps.download(r)),
      pause: (r) => need((w) => w.relayOps.pause(r)),
      resume: (r) => need((w) => w.relayOps.resume(r)),
      cancel: (r) => need((w) => w.relayOps.cancel(r)),
    },
    documents: { verify: (r) => need((w) => w.documents.verify(r)) },
    platformInfo: async () =>
      platformView({
        connected: wired !== undefined,
        reason: missing,
        url: wired?.binding.baseUrl ?? agent.store.settings.get('platformUrl'),
        ...(wired ? { appId: wired.binding.signer.appId } : {}),
        ...(wired?.binding.certificate ? { certificate: wired.binding.certificate } : {}),
      }),
  });

  const attachPlatform = (p: PlatformBinding): void => {
    if (closed) throw new AgentError(ResultCode.INTERNAL, 'the operator service is closed');
    if (wired) throw new AgentError(ResultCode.INTERNAL, 'a platform is attached already');
    const outbox = new Outbox(agent.store.db);
    const worker = new OutboxWorker(outbox, p.client);
    const relay = new RelayAgent({
      db: agent.store.db,
      signer: p.signer,
      baseUrl: p.baseUrl,
      maxBytesPerSecond: relayCapFromSettings(agent.store.settings),
    });
    const relayOffs = [
      forward(relay, 'progress', 'relay.progress'),
      forward(relay, 'state', 'relay.state', relayJobView),
    ];
    wired = {
      binding: p,
      platform: platformOperations({ client: p.client, outbox, worker }),
      relayOps: relayOperations({ relay, staging, downloadsDir }),
      documents: documentOperations({ client: p.client, staging, readLocal }),
      relay,
      outbox,
      worker,
      unforward: () => relayOffs.forEach((off) => off()),
    };
    // Queued filings and state changes of earlier runs are delivered while the agent runs.
    worker.start(o.outboxPollMs ?? 5_000);
    // Transfers a crash or a restart interrupted resume now (only those: a job a CLI queues later
    // is that CLI's; the lease keeps two processes off one job either way).
    for (const job of relay.jobs.pending()) relay.run(job.id);
  };
  if (o.platform) attachPlatform(o.platform);

  return {
    service,
    staging,
    get relay() {
      return wired?.relay;
    },
    get outbox() {
      return wired?.outbox;
    },
    events: {
      subscribe: (listener) => {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
    },
    attachPlatform,
    setPlatformMissing: (reason) => {
      missing = reason;
    },
    downloadOf: (jobId) =>
      wired ? finishedDownload({ relay: wired.relay, downloadsDir }, jobId) : undefined,
    close: async () => {
      if (closed) return;
      closed = true;
      for (const off of offs) off();
      listeners.clear();
      host.closeAll();
      if (!wired) return;
      wired.unforward();
      await wired.worker.stop();
      await wired.relay.stop();
    },
  };
}

/** An optional platform function (cloud signing) that the operations always provide. */
function call<Req, Res>(f: ((r: Req) => Promise<Res>) | undefined, r: Req): Promise<Res> {
  if (!f) return Promise.reject(new AgentError(ResultCode.INTERNAL, 'not available'));
  return f(r);
}
