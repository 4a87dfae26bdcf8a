/**
 * The desktop's platform identity (what `ukey-agent platform identity import` stored), loaded at
 * start so the desktop has what `serve` has: the signId check, the platform client, the relay. A key
 * on a UKey needs no secret (it signs through the agent's token service). A key in the encrypted
 * store needs the key store passphrase, asked in the agent's own PIN window (prompt kind
 * 'passphrase'); a wrong one is reported in the next prompt and asked again, at most `maxTries`
 * times. Cancelled, unanswered or still wrong, the desktop runs without the platform and says why.
 * The passphrase only goes to the store's protector: it is never logged and never kept.
 */
import { AgentError } from '../common/errors';
import { ResultCode } from '../common/codes';
import type { PlatformBinding } from '../core/operator/operator-stack';
import {
  hasAgentIdentity,
  identityKeyOnUKey,
  loadAgentIdentity,
} from '../core/platform/agent-identity';
import type { AgentIdentity, TokenKeySource } from '../core/platform/agent-identity';
import { createPlatformClient } from '../core/platform/platform-client';
import type { PlatformClient, PlatformClientConfig } from '../core/platform/platform-client';

export const IDENTITY_NOT_CONFIGURED =
  'the platform identity is not configured: import it with `ukey-agent platform identity import --data-dir <the desktop data folder>` and restart the agent';
export const IDENTITY_UNLOCKING =
  'the platform identity is not unlocked yet: answer the key store passphrase prompt';
export const PASSPHRASE_REASON =
  'unlock the platform identity (e-seal platform signing) with the key store passphrase';

export type IdentityOutcome =
  { ok: true; identity: AgentIdentity; platform: PlatformBinding } | { ok: false; reason: string };

export interface LoadIdentityOptions {
  dataDir: string;
  /** The agent's token service, for a key on a UKey (asked lazily, when it signs). */
  tokens: () => TokenKeySource;
  /** The PIN window with kind 'passphrase'; null when cancelled or unanswered. */
  askPassphrase(req: { reason: string; previousAttemptFailed?: boolean }): Promise<string | null>;
  /** Default 3. */
  maxTries?: number;
  /** Client options beyond the identity's own (tests shorten the retries). */
  client?: Partial<Omit<PlatformClientConfig, 'baseUrl' | 'signer' | 'platformKey'>>;
}

const isWrongPassphrase = (e: unknown): boolean =>
  e instanceof AgentError &&
  e.code === ResultCode.BAD_PARAM &&
  /passphrase is wrong/.test(e.message);

/** Loads the stored identity; never throws: a failure is the reason the platform is missing. */
export async function loadDesktopIdentity(o: LoadIdentityOptions): Promise<IdentityOutcome> {
  try {
    if (!hasAgentIdentity(o.dataDir)) return { ok: false, reason: IDENTITY_NOT_CONFIGURED };
    let identity: AgentIdentity | undefined;
    if (identityKeyOnUKey(o.dataDir)) {
      identity = await loadAgentIdentity(o.dataDir, undefined, o.tokens);
    } else {
      const maxTries = o.maxTries ?? 3;
      for (let attempt = 1; !identity; attempt++) {
        if (attempt > maxTries)
          return {
            ok: false,
            reason: `the platform identity is locked: the key store passphrase was wrong ${maxTries} times; restart the agent to try again`,
          };
        const passphrase = await o.askPassphrase({
          reason: PASSPHRASE_REASON,
          ...(attempt > 1 ? { previousAttemptFailed: true } : {}),
        });
        if (passphrase === null)
          return {
            ok: false,
            reason:
              'the platform identity is locked: the key store passphrase was not given; restart the agent to unlock it',
          };
        try {
          identity = await loadAgentIdentity(o.dataDir, passphrase, o.tokens);
        } catch (e) {
          if (!isWrongPassphrase(e)) throw e;
        }
      }
    }
    return bind(identity, o.client);
  } catch (e) {
    const why = e instanceof AgentError ? e.message : 'it could not be read';
    return { ok: false, reason: `the platform identity is not usable: ${why}` };
  }
}

function bind(identity: AgentIdentity, extra: LoadIdentityOptions['client']): IdentityOutcome {
  const baseUrl = identity.platformUrl;
  if (!baseUrl)
    return {
      ok: false,
      reason:
        'the platform identity has no platform URL: import it again with --platform <url> and restart the agent',
    };
  if (!identity.platformCert)
    return {
      ok: false,
      reason:
        "the platform's certificate is not configured: import the identity again with --platform-cert and restart the agent",
    };
  const client = createPlatformClient({
    ...extra,
    baseUrl,
    signer: identity.signer,
    platformKey: identity.platformCert,
  });
  return {
    ok: true,
    identity,
    platform: { client, baseUrl, signer: identity.signer, certificate: identity.platformCert },
  };
}

/**
 * The agent's signId check, which exists before the identity is loaded: until a client is opened
 * it fails closed with 3001 and the reason, so no signature ever skips the check.
 */
export class PlatformGate implements Pick<PlatformClient, 'verifySignId'> {
  private client: Pick<PlatformClient, 'verifySignId'> | undefined;

  constructor(private reason: string) {}

  open(client: Pick<PlatformClient, 'verifySignId'>): void {
    this.client = client;
  }

  refuse(reason: string): void {
    this.client = undefined;
    this.reason = reason;
  }

  readonly verifySignId: PlatformClient['verifySignId'] = (params) =>
    this.client
      ? this.client.verifySignId(params)
      : Promise.reject(new AgentError(ResultCode.PLATFORM_UNAVAILABLE, this.reason));
}
