/**
 * The operator API over a running agent, for both transports (Electron IPC, the console's loopback
 * channel). Keys, certificates and PINs go to the TokenService (PINs are asked by the host's PIN
 * prompt, never carried in a request); apps, policies, approvals, audit and settings go to the
 * store. Platform, relay, document, cloud and PIN-prompt functions are injected (console.ts wires
 * them all: platform-operations.ts, relay-operations.ts, web-console-host.ts); a composition that
 * leaves one out answers 5000 'not available in this build', never a pretended success.
 * Every change is an audited operator action, as in the CLI.
 */
import { AgentError, badParam } from '../../common/errors';
import { ResultCode } from '../../common/codes';
import { signatureAlgorithmInfo } from '../pki/algorithms';
import type { PairingService } from '../bridge/pairing';
import type {
  ApprovalDecisionInput,
  AuditEntryView,
  CertificateView,
  KeyPairView,
  OperatorApi,
  OperatorMethod,
  OperatorRequest,
  OperatorResponse,
  PendingApprovalView,
  PinAnswerInput,
  PinPromptView,
  PolicyView,
  SettingsView,
  TrustedAppView,
  UKeyView,
} from '../../common/operator-api';
import { auditedOperatorAction } from '../audit/operator-audit';
import { buildCsr } from '../pki/csr';
import { derToPem, pemToDer } from '../pki/keys';
import type { AgentStore } from '../store/agent-store';
import { isPolicyActive } from '../store/policies';
import { moduleInventory } from './module-inventory';
import type { StandingPolicy } from '../store/policies';
import type { TrustedApp } from '../store/apps';
import type { TokenCertificate, TokenKey, TokenService, UKeyInfo } from '../token/token-service';

type Fn<K extends OperatorMethod> = OperatorApi[K];

/** Platform functions (seals, outbox, cloud signing), wired when the platform client is. */
export interface PlatformOperations {
  sealsQuery: Fn<'seals.query'>;
  sealsFile: Fn<'seals.file'>;
  sealsSetState: Fn<'seals.setState'>;
  outboxList: Fn<'outbox.list'>;
  cloudApply?: Fn<'cloud.apply'>;
  cloudResult?: Fn<'cloud.result'>;
  cloudSign?: Fn<'cloud.sign'>;
}

/** The relay agent's job controls. */
export interface RelayOperations {
  list: Fn<'relay.list'>;
  upload: Fn<'relay.upload'>;
  download: Fn<'relay.download'>;
  pause: Fn<'relay.pause'>;
  resume: Fn<'relay.resume'>;
  cancel: Fn<'relay.cancel'>;
}

/** The pending-approval queue (the desktop host, the web console host). */
export interface ApprovalQueue {
  pending(): PendingApprovalView[];
  decide(input: ApprovalDecisionInput): Promise<void>;
}

/** PIN prompts answered in the operator UI (the web console host). */
export interface PinPrompts {
  pendingPins(): PinPromptView[];
  answerPin(input: PinAnswerInput): void;
}

export interface OperatorServiceDeps {
  tokens: Pick<
    TokenService,
    | 'list'
    | 'certificates'
    | 'keys'
    | 'generateKeyPair'
    | 'provider'
    | 'importCertificate'
    | 'deleteObjects'
    | 'changePin'
    | 'initUserPin'
    | 'modules'
    | 'failures'
    | 'profiles'
    | 'profileDir'
  >;
  store: Pick<AgentStore, 'apps' | 'policies' | 'approvals' | 'audit' | 'settings'>;
  approvals: ApprovalQueue;
  pins?: PinPrompts;
  platform?: PlatformOperations;
  relay?: RelayOperations;
  documents?: { verify: Fn<'documents.verify'> };
  /** The platform URL, app id and certificate in use (the operator stack knows them). */
  platformInfo?: Fn<'settings.platform'>;
  /** Web apps asking to be trusted (bridge/pairing.ts). */
  pairing?: Pick<PairingService, 'list' | 'decide'>;
  now?: () => number;
}

const notAvailable = (): Promise<never> =>
  Promise.reject(new AgentError(ResultCode.INTERNAL, 'not available in this build'));

/** Methods answered 'not available in this build' when their dependency is not injected. */
export function unwiredMethods(deps: OperatorServiceDeps): OperatorMethod[] {
  const out: OperatorMethod[] = [];
  if (!deps.platform) out.push('seals.query', 'seals.file', 'seals.setState', 'outbox.list');
  if (!deps.platform?.cloudApply) out.push('cloud.apply');
  if (!deps.platform?.cloudResult) out.push('cloud.result');
  if (!deps.platform?.cloudSign) out.push('cloud.sign');
  if (!deps.relay)
    out.push(
      'relay.list',
      'relay.upload',
      'relay.download',
      'relay.pause',
      'relay.resume',
      'relay.cancel',
    );
  if (!deps.documents) out.push('documents.verify');
  if (!deps.pins) out.push('pins.pending', 'pins.answer');
  if (!deps.platformInfo) out.push('settings.platform');
  if (!deps.pairing) out.push('apps.pairingDecide');
  return out;
}

/** PEM text, or base64 DER. */
function derOf(text: string, what: string, pemLabel?: string): Buffer {
  if (text.includes('-----BEGIN')) {
    try {
      return pemToDer(text, pemLabel);
    } catch {
      throw badParam(`${what} is not valid PEM`);
    }
  }
  const s = text.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(s) || s.length % 4 !== 0)
    throw badParam(`${what} must be PEM or base64 DER`);
  return Buffer.from(s, 'base64');
}

const ukeyView = (k: UKeyInfo): UKeyView => ({
  ukeyId: k.ukeyId,
  label: k.label,
  manufacturer: k.manufacturer,
  model: k.model,
  vendor: { id: k.vendor.id, name: k.vendor.name },
  development: k.development,
  tokenInitialized: k.tokenInitialized,
  pin: {
    initialized: k.pin.initialized,
    countLow: k.pin.countLow,
    finalTry: k.pin.finalTry,
    locked: k.pin.locked,
  },
  loggedIn: k.loggedIn,
});

/** A readable name for a certificate's signature algorithm OID. */
function signatureAlgorithmName(oid: string): string {
  const info = signatureAlgorithmInfo(oid);
  if (!info) return oid;
  if (info.key === 'sm2') return 'SM2-with-SM3';
  return `${info.key === 'rsa' ? 'RSA' : 'ECDSA'}-${info.hash.toUpperCase()}`;
}

const certView = (c: TokenCertificate): CertificateView => ({
  ukeyId: c.ukeyId,
  keyId: c.keyId,
  label: c.label,
  subject: c.info.subject,
  issuer: c.info.issuer,
  serialNumberHex: c.info.serialNumberHex,
  notBefore: c.info.notBefore.getTime(),
  notAfter: c.info.notAfter.getTime(),
  keyAlgorithm: c.info.keyAlgorithm,
  usage: c.info.usage,
  ...(c.info.keyUsagePresent
    ? { keyUsage: Object.entries(c.info.keyUsage).flatMap(([n, on]) => (on ? [n] : [])) }
    : {}),
  signatureAlgorithm: signatureAlgorithmName(c.info.signatureAlgorithmOid),
  sha256: c.info.fingerprints.sha256,
  sm3: c.info.fingerprints.sm3,
  der: c.der.toString('base64'),
});

const keyView = (k: TokenKey): KeyPairView => ({
  ukeyId: k.ukeyId,
  keyId: k.keyId,
  label: k.label,
  algorithm: k.algorithm,
  ...(k.spki ? { publicKey: k.spki.toString('base64') } : {}),
});

const appView = (a: TrustedApp): TrustedAppView => ({
  appId: a.appId,
  ...(a.name !== undefined ? { name: a.name } : {}),
  publicKey: a.publicKey.toString('base64'),
  keyAlgorithm: a.keyAlgorithm,
  origins: [...a.origins],
  createdAt: a.createdAt,
  updatedAt: a.updatedAt,
  ...(a.revokedAt !== undefined ? { revokedAt: a.revokedAt } : {}),
});

const policyView = (p: StandingPolicy, now: number): PolicyView => ({
  ...p,
  active: isPolicyActive(p, now),
});

const AUDIT_SCAN_MAX = 20_000;
const AUDIT_EXPORT_MAX_CHARS = 16 * 1024 * 1024;

export function createOperatorService(deps: OperatorServiceDeps): OperatorApi {
  const { tokens, store } = deps;
  const now = deps.now ?? Date.now;
  /** Runs a change as an audited operator action (interface = the method's name). */
  const audited = <T>(
    method: OperatorMethod,
    raw: Record<string, unknown>,
    fn: () => T | Promise<T>,
    appId?: string,
  ): Promise<T> =>
    auditedOperatorAction(store.audit, { interface: method, raw, ...(appId ? { appId } : {}) }, fn);

  const platform = deps.platform;
  const relay = deps.relay;

  const api: OperatorApi = {
    'keys.list': async () => tokens.list().map(ukeyView),
    'keys.certificates': async ({ ukeyId }) => (await tokens.certificates(ukeyId)).map(certView),
    'keys.pairs': async ({ ukeyId }) => (await tokens.keys(ukeyId)).map(keyView),
    'keys.generate': (r) =>
      audited('keys.generate', { ...r }, async () =>
        keyView(await tokens.generateKeyPair(r.ukeyId, r.algorithm, r.label)),
      ),
    'keys.csr': (r) =>
      audited('keys.csr', { ...r }, async () => {
        const signer = await tokens.provider(
          r.ukeyId,
          { label: r.keyLabel },
          `sign a certificate request for "${r.subject}"`,
        );
        return {
          pem: derToPem(await buildCsr({ subject: r.subject, signer }), 'CERTIFICATE REQUEST'),
        };
      }),
    'keys.importCert': async (r) => {
      const der = derOf(r.certificate, 'certificate', 'CERTIFICATE');
      return audited('keys.importCert', { ukeyId: r.ukeyId, keyLabel: r.keyLabel }, async () =>
        certView(await tokens.importCertificate(r.ukeyId, der, r.keyLabel)),
      );
    },
    'keys.delete': (r) =>
      audited('keys.delete', { ...r }, async () => ({
        deleted: await tokens.deleteObjects(r.ukeyId, r.label),
      })),
    'keys.exportCert': async (r) => {
      if (r.keyId === undefined && r.sha256 === undefined)
        throw badParam('request.keyId or request.sha256 is needed');
      const hit = (await tokens.certificates(r.ukeyId)).filter(
        (c) =>
          (r.keyId === undefined || c.keyId === r.keyId) &&
          (r.sha256 === undefined || c.info.fingerprints.sha256 === r.sha256.toLowerCase()),
      );
      if (hit.length === 0) throw badParam('no such certificate on this UKey');
      if (hit.length > 1) throw badParam('several certificates match: give request.sha256');
      const c = hit[0]!;
      const base = (c.label || c.keyId || 'certificate').replace(/[^\w.-]+/g, '_').slice(0, 64);
      return { pem: derToPem(c.der, 'CERTIFICATE'), filename: `${base}.pem` };
    },
    'keys.changePin': (r) =>
      audited('keys.changePin', { ...r }, async () => {
        await tokens.changePin(r.ukeyId);
        return null;
      }),
    'keys.unblockPin': (r) =>
      audited('keys.unblockPin', { ...r }, async () => {
        await tokens.initUserPin(r.ukeyId);
        return null;
      }),

    'pins.pending': async () => (deps.pins ? deps.pins.pendingPins() : notAvailable()),
    'pins.answer': async (r) => {
      if (!deps.pins) return notAvailable();
      deps.pins.answerPin(r);
      return null;
    },

    'seals.query': (r) => (platform ? platform.sealsQuery(r) : notAvailable()),
    'seals.file': (r) =>
      platform
        ? audited('seals.file', { fields: Object.keys(r.filing) }, () => platform.sealsFile(r))
        : notAvailable(),
    'seals.setState': (r) =>
      platform
        ? audited('seals.setState', { ...r }, () => platform.sealsSetState(r))
        : notAvailable(),
    'outbox.list': (r) => (platform ? platform.outboxList(r) : notAvailable()),

    'approvals.pending': async () => deps.approvals.pending(),
    'approvals.decide': async (r) => {
      await deps.approvals.decide(r);
      return null;
    },
    'approvals.list': async (r) => {
      // Each decision with its outcome (signed, or the error the page got) from the audit log.
      const rows = store.approvals.list(r);
      const results = store.audit.resultsOf(rows.map((a) => a.requestId));
      return rows.map((a) => {
        const res = results.get(a.requestId);
        return res ? { ...a, result: { code: res.resultCode, message: res.message } } : a;
      });
    },
    'policies.list': async (r) => {
      const t = now();
      return store.policies.list({ ...r, now: t }).map((p) => policyView(p, t));
    },
    'policies.add': (r) =>
      audited(
        'policies.add',
        { ...r },
        () => policyView(store.policies.add({ ...r, now: now() }), now()),
        r.appId,
      ),
    'policies.revoke': (r) =>
      audited('policies.revoke', { ...r }, () =>
        policyView(store.policies.revoke(r.id, now()), now()),
      ),

    'apps.list': async () => store.apps.list().map(appView),
    'apps.add': async (r) => {
      const publicKey = derOf(r.publicKey, 'publicKey', 'PUBLIC KEY');
      return audited(
        'apps.add',
        { appId: r.appId, name: r.name, origins: r.origins, replace: r.replace },
        () => appView(store.apps.add({ ...r, publicKey, now: now() })),
        r.appId,
      );
    },
    'apps.revoke': (r) =>
      audited('apps.revoke', { ...r }, () => appView(store.apps.revoke(r.appId, now())), r.appId),
    'apps.pairings': async () => (deps.pairing ? deps.pairing.list() : []),
    'apps.pairingDecide': (r) => {
      const pairing = deps.pairing;
      if (!pairing) return notAvailable();
      const view = pairing.list().find((p) => p.pairingId === r.pairingId);
      return audited(
        'apps.pairingDecide',
        { ...r, origin: view?.origin, appId: view?.appId },
        () => {
          const app = pairing.decide(r.pairingId, r.decision);
          return app ? appView(app) : null;
        },
        view?.appId,
      );
    },

    'relay.list': (r) => (relay ? relay.list(r) : notAvailable()),
    'relay.upload': (r) =>
      relay ? audited('relay.upload', { ...r }, () => relay.upload(r)) : notAvailable(),
    'relay.download': (r) =>
      relay ? audited('relay.download', { ...r }, () => relay.download(r)) : notAvailable(),
    'relay.pause': (r) => (relay ? relay.pause(r) : notAvailable()),
    'relay.resume': (r) => (relay ? relay.resume(r) : notAvailable()),
    'relay.cancel': (r) =>
      relay ? audited('relay.cancel', { ...r }, () => relay.cancel(r)) : notAvailable(),

    'documents.verify': (r) => (deps.documents ? deps.documents.verify(r) : notAvailable()),

    'cloud.apply': (r) =>
      platform?.cloudApply
        ? audited('cloud.apply', { sealCode: r.sealCode, hashType: r.hashType }, () =>
            platform.cloudApply!(r),
          )
        : notAvailable(),
    'cloud.result': (r) => (platform?.cloudResult ? platform.cloudResult(r) : notAvailable()),
    'cloud.sign': (r) =>
      platform?.cloudSign
        ? audited('cloud.sign', { ...r }, () => platform.cloudSign!(r))
        : notAvailable(),

    'audit.search': async (r) => searchAudit(store.audit, r),
    'audit.verify': async (r) => {
      const publicKey =
        r.publicKey === undefined ? undefined : derOf(r.publicKey, 'publicKey', 'PUBLIC KEY');
      const v = store.audit.verify(publicKey ? { publicKey } : {});
      return {
        ok: v.ok,
        entries: v.entries,
        seals: v.seals,
        headSeq: v.headSeq,
        unsealed: v.unsealed,
        ...(v.firstBadSeq !== undefined ? { firstBadSeq: v.firstBadSeq } : {}),
        ...(v.badSealId !== undefined ? { badSealId: v.badSealId } : {}),
        ...(v.reason !== undefined ? { reason: v.reason } : {}),
      };
    },
    'audit.export': async (r) => {
      if (r.from !== undefined && r.to !== undefined && r.from > r.to)
        throw badParam('from must not be after to');
      return audited('audit.export', { ...r }, async () => {
        let content = '';
        let lines = 0;
        for await (const line of store.audit.export(r)) {
          content += line;
          lines++;
          if (content.length > AUDIT_EXPORT_MAX_CHARS)
            throw badParam('the export is too large for the window: choose a shorter time range');
        }
        // CSV starts with a header line.
        return {
          format: r.format,
          entries: r.format === 'csv' ? Math.max(0, lines - 1) : lines,
          content,
        };
      });
    },

    'settings.get': async () => store.settings.all() as SettingsView,
    'settings.set': (r) =>
      audited('settings.set', { ...r }, () => {
        store.settings.setUnknown(r.key, r.value);
        return store.settings.all() as SettingsView;
      }),
    'settings.modules': async () => moduleInventory(tokens),
    'settings.platform': (r) => (deps.platformInfo ? deps.platformInfo(r) : notAvailable()),
  };
  return api;
}

type AuditSearch = OperatorRequest<'audit.search'>;

/** Pages through the chain from `afterSeq`, filtering, up to a bounded scan. */
function searchAudit(log: AgentStore['audit'], q: AuditSearch): OperatorResponse<'audit.search'> {
  const limit = q.limit ?? 100;
  const out: AuditEntryView[] = [];
  let after = q.afterSeq ?? 0;
  let scanned = 0;
  for (;;) {
    const page = log.entries({ afterSeq: after, limit: 500 });
    if (page.length === 0) return { entries: out, nextAfterSeq: null };
    for (const e of page) {
      after = e.seq;
      scanned++;
      if (q.source !== undefined && e.source !== q.source) continue;
      if (q.appId !== undefined && e.appId !== q.appId) continue;
      if (q.interface !== undefined && e.interface !== q.interface) continue;
      if (q.failuresOnly && e.resultCode === ResultCode.OK) continue;
      if (q.from !== undefined && e.time < q.from) continue;
      if (q.to !== undefined && e.time >= q.to) continue;
      out.push({
        seq: e.seq,
        time: e.time,
        source: e.source,
        appId: e.appId,
        origin: e.origin,
        interface: e.interface,
        resultCode: e.resultCode,
        message: e.message,
        durationMs: e.durationMs,
        hash: e.hash,
      });
      if (out.length >= limit) return { entries: out, nextAfterSeq: after };
    }
    // A bounded scan per call: the UI asks again from nextAfterSeq.
    if (scanned >= AUDIT_SCAN_MAX) return { entries: out, nextAfterSeq: after };
  }
}
