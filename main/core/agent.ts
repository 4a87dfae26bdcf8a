import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import type { AgentHost } from './host';
import type { SignatureProvider } from './pki/signer';
import type { PlatformClient } from './platform/platform-client';
import { SqliteNonceStore } from './platform/nonce-store';
import { openAgentStore } from './store/agent-store';
import type { AgentStore } from './store/agent-store';
import { TokenService } from './token/token-service';
import { JsapiService } from './bridge/jsapi-service';
import type { CallerApp, CallerRegistry, PolicyMatcher } from './bridge/jsapi-service';
import { startBridge } from './bridge/bridge-server';
import { PairingService } from './bridge/pairing';
import type { Bridge } from './bridge/bridge-server';

export interface AgentConfig {
  dataDir: string;
  /** JSAPI port on 127.0.0.1 (0: a free port, for tests); default the stored setting. */
  port?: number;
  /** PKCS#11 libraries; empty = every known module found here. */
  modules?: string[];
  /** The central platform as the agent's identity reaches it (signId checks). */
  platform: Pick<PlatformClient, 'verifySignId'>;
  host: AgentHost;
  approvalTimeoutMs?: number;
  pollIntervalMs?: number;
  loginIdleMs?: number;
  /** Seals the audit chain head periodically (the agent's own key). */
  auditSigner?: SignatureProvider;
  auditSealIntervalMs?: number;
  ratePerSecond?: number;
  rateBurst?: number;
  /** The optional HTTPS/WSS port and its local TLS identity (bridge/local-tls.ts). */
  tls?: { port: number; key: string; cert: string };
  log?: (msg: string, detail?: unknown) => void;
}

/** What the agent tells its front ends beyond the token service's key events. */
export interface AgentEvents {
  /** A decision entered the approval history (the signer's or a standing policy's). */
  'approval.recorded': [
    {
      requestId: string;
      decision: 'approved' | 'declined' | 'timeout';
      decidedBy: 'signer' | 'policy';
      policyId?: number;
    },
  ];
}

export interface Agent {
  readonly tokens: TokenService;
  readonly store: AgentStore;
  readonly events: EventEmitter<AgentEvents>;
  readonly bridge: Bridge;
  readonly service: JsapiService;
  /** Web apps asking the operator to trust their origin (POST /api/v1/pair). */
  readonly pairing: PairingService;
  close(): Promise<void>;
}

/** The trusted-apps table as the bridge sees it: revoked apps are unknown. */
export function callerRegistry(store: AgentStore): CallerRegistry {
  return {
    get: (appId: string): CallerApp | undefined => {
      const a = store.apps.get(appId);
      return a && { appId: a.appId, name: a.name, publicKey: a.publicKey, origins: a.origins };
    },
    isOriginAllowed: (appId, origin) => store.apps.isOriginAllowed(appId, origin),
    isKnownOrigin: (origin) =>
      store.apps.list().some((a) => !a.revokedAt && a.origins.includes(origin)),
  };
}

function policyMatcher(store: AgentStore): PolicyMatcher {
  return {
    consume: (q) => {
      const p = store.policies.consume(q);
      return p && { id: String(p.id) };
    },
  };
}

/**
 * The composition root: store, tokens, JSAPI service and bridge, wired once. The CLI's `serve`,
 * the desktop shell and the tests all build the agent here.
 */
export async function createAgent(cfg: AgentConfig): Promise<Agent> {
  const store = openAgentStore(cfg.dataDir);
  const events = new EventEmitter<AgentEvents>();
  // The operator's stored settings, unless the caller overrides them (tests, CLI flags).
  const settings = store.settings.all();
  const ratePerSecond = cfg.ratePerSecond ?? settings.rateLimitPerMinute / 60;
  let tokens: TokenService | undefined;
  let sealing: { stop(): void } | undefined;
  let pairing: PairingService | undefined;
  try {
    tokens = new TokenService({
      modules: cfg.modules,
      // Operator vendor profiles (docs/VENDOR-PROFILES.md), as the CLI's token commands read them.
      profileDir: join(cfg.dataDir, 'profiles'),
      host: cfg.host,
      pollIntervalMs: cfg.pollIntervalMs ?? 300,
      loginIdleMs: cfg.loginIdleMs,
    });
    const service = new JsapiService({
      tokens,
      apps: callerRegistry(store),
      platform: cfg.platform,
      host: cfg.host,
      policies: policyMatcher(store),
      approvals: {
        record: (r) => {
          const rec = store.approvals.record({
            ...r,
            format: r.format === 'P7' ? 'p7' : 'p1',
            policyId: r.policyId === undefined ? undefined : Number(r.policyId),
          });
          events.emit('approval.recorded', {
            requestId: rec.requestId,
            decision: rec.decision,
            decidedBy: rec.decidedBy,
            ...(rec.policyId !== undefined && rec.policyId !== null
              ? { policyId: rec.policyId }
              : {}),
          });
          return rec;
        },
      },
      audit: { append: (r) => store.audit.append(r) },
      nonces: new SqliteNonceStore(store.db),
      approvalTimeoutMs: cfg.approvalTimeoutMs ?? settings.approvalTimeoutMs,
    });
    pairing = new PairingService({
      apps: store.apps,
      nonces: new SqliteNonceStore(store.db),
      audit: { append: (r) => store.audit.append(r) },
    });
    const bridge = await startBridge({
      service,
      pairing,
      apps: callerRegistry(store),
      tokens,
      port: cfg.port ?? settings.jsapiPort,
      ratePerSecond,
      rateBurst: cfg.rateBurst ?? Math.max(1, Math.round(2 * ratePerSecond)),
      tls: cfg.tls,
      log: cfg.log,
    });
    if (cfg.auditSigner) {
      sealing = store.audit.startPeriodicSealing(
        cfg.auditSigner,
        cfg.auditSealIntervalMs ?? settings.auditSealIntervalMs,
        (e) => cfg.log?.('audit sealing failed', e),
      );
    }
    const t = tokens;
    return {
      tokens: t,
      store,
      events,
      bridge,
      service,
      pairing,
      close: async () => {
        sealing?.stop();
        pairing?.close();
        await bridge.close();
        if (cfg.auditSigner && store.audit.head().seq > (store.audit.lastSealedSeq() ?? 0)) {
          await store.audit.seal(cfg.auditSigner).catch(() => undefined);
        }
        t.close();
        store.close();
      },
    };
  } catch (e) {
    sealing?.stop();
    tokens?.close();
    store.close();
    throw e;
  }
}
