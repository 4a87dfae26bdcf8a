// The agent's own platform app identity (CONTRACT §6 `platform identity import`): its SM2 key lives
// only encrypted in the secret store; appId, platform URL and platform certificate in settings.
import { badParam } from '../../common/errors';
import { sm2KeyPairFromPrivate } from '../crypto/sm2';
import type { Sm2KeyPair } from '../crypto/sm2';
import { parseCertificatePemOrDer } from '../pki/certificate';
import { derToPem, pemToDer, sm2Spki } from '../pki/keys';
import { softwareSm2Provider } from '../pki/signer';
import type { SignatureProvider } from '../pki/signer';
import { openAgentStore } from '../store/agent-store';
import type { AgentStore } from '../store/agent-store';
import { passphraseProtector } from '../store/passphrase-protector';
import { SettingsStore, urlSetting } from '../store/settings';
import type { SettingSpec, SettingSpecs } from '../store/settings';
import type { RequestSigner } from './canonical';
import { sm2RequestSigner } from './request-signer';
import { platformPublicPoint } from './response-sign';

/** Name of the secret holding the app key's 32-byte scalar. */
export const AGENT_KEY_SECRET = 'platform/app-sm2-key';

const APP_ID = /^[0-9A-Za-z._-]{1,64}$/;

const textSetting = (check: (v: string) => boolean, what: string): SettingSpec<string | null> => ({
  default: null,
  check: (v, key) => {
    if (v === null) return null;
    if (typeof v !== 'string' || !check(v)) throw badParam(`${key} must be ${what}`);
    return v;
  },
});

/**
 * The identity's non-secret half. Kept in the agent's settings table under keys of their own, so
 * the general AgentSettings (and what `settings.all()` lists) stay as they are.
 */
interface IdentitySettings {
  platformAppId: string | null;
  platformUrl: string | null;
  /** PEM CERTIFICATE of the platform's response-signing key. */
  platformCertificate: string | null;
  /** When the app key lives on a UKey: which key, and the key pair's label. */
  platformKeyUkeyId: string | null;
  platformKeyLabel: string | null;
  /** SPKI DER (Base64) of the UKey's key pair, read at import. */
  platformKeySpki: string | null;
}

const IDENTITY_SETTINGS: SettingSpecs<IdentitySettings> = {
  platformAppId: textSetting((v) => APP_ID.test(v), 'an app id'),
  platformUrl: urlSetting(null),
  platformCertificate: textSetting((v) => v.includes('-----BEGIN CERTIFICATE-----'), 'PEM'),
  platformKeyUkeyId: textSetting((v) => v.length > 0 && v.length <= 64, 'a UKeyId'),
  platformKeyLabel: textSetting((v) => v.length > 0 && v.length <= 64, 'a key label'),
  platformKeySpki: textSetting((v) => /^[A-Za-z0-9+/=]{40,400}$/.test(v), 'Base64 SPKI'),
};

/** The app key on a UKey instead of the encrypted store (CONTRACT §6 `--ukey-id --key-label`). */
export interface UKeyIdentityKey {
  ukeyId: string;
  keyLabel: string;
  /** SPKI DER of the key pair, read from the UKey at import. */
  spki: Buffer;
}

/** Signs with a key on a UKey: the token service of the running process, opened lazily. */
export interface TokenKeySource {
  provider(ukeyId: string, key: { label: string }, reason: string): Promise<SignatureProvider>;
}

export interface AgentIdentityImport {
  appId: string;
  /** The SM2 key, stored encrypted; or `ukey`, the key stays on the UKey. */
  key?: Sm2KeyPair;
  ukey?: UKeyIdentityKey;
  /** Base URL of the platform; also written to the agent's `platformUrl` setting. */
  platformUrl?: string;
  /** The platform's SM2 certificate (PEM or DER) that verifies its answers. */
  platformCert?: Buffer;
}

export interface ImportedIdentity {
  appId: string;
  /** SPKI DER of the app key: what the platform operator registers (`platform apps add`). */
  publicKey: Buffer;
  platformUrl?: string;
}

export interface AgentIdentity {
  appId: string;
  signer: RequestSigner;
  platformUrl?: string;
  /** DER. */
  platformCert?: Buffer;
  /** The same key as a SignatureProvider, for sealing the audit log. */
  auditSigner: SignatureProvider;
  /** Set when the key is on a UKey. */
  ukey?: { ukeyId: string; keyLabel: string };
}

const identitySettings = (store: AgentStore): SettingsStore<IdentitySettings> =>
  new SettingsStore(store.db, IDENTITY_SETTINGS);

/** Stores the identity in dataDir: the key encrypted under `passphrase`, the rest in settings. */
export async function importAgentIdentity(
  dataDir: string,
  passphrase: string,
  identity: AgentIdentityImport,
): Promise<ImportedIdentity> {
  if (!APP_ID.test(identity.appId))
    throw badParam('appId must be letters, digits, . _ or -, at most 64 characters');
  let certPem: string | undefined;
  if (identity.platformCert) {
    const der = identity.platformCert.toString('latin1').includes('-----BEGIN')
      ? pemToDer(identity.platformCert, 'CERTIFICATE')
      : identity.platformCert;
    parseCertificatePemOrDer(der);
    platformPublicPoint(der); // must hold an SM2 key, or no answer could ever verify
    certPem = derToPem(der, 'CERTIFICATE');
  }
  if (!identity.key === !identity.ukey)
    throw badParam('give either the key or the UKey that holds it');
  const store = openAgentStore(dataDir);
  try {
    const secrets = identity.key
      ? await store.openSecrets(passphraseProtector(passphrase))
      : undefined;
    try {
      const settings = identitySettings(store);
      store.db.transaction(() => {
        if (identity.key) {
          secrets!.put(AGENT_KEY_SECRET, identity.key.privateKey);
          settings.set('platformKeyUkeyId', null);
          settings.set('platformKeyLabel', null);
          settings.set('platformKeySpki', null);
        } else {
          settings.set('platformKeyUkeyId', identity.ukey!.ukeyId);
          settings.set('platformKeyLabel', identity.ukey!.keyLabel);
          settings.set('platformKeySpki', identity.ukey!.spki.toString('base64'));
        }
        settings.set('platformAppId', identity.appId);
        if (identity.platformUrl !== undefined) {
          settings.set('platformUrl', identity.platformUrl);
          store.settings.set('platformUrl', identity.platformUrl);
        }
        if (certPem !== undefined) settings.set('platformCertificate', certPem);
      })();
    } finally {
      secrets?.close();
    }
  } finally {
    store.close();
  }
  return {
    appId: identity.appId,
    publicKey: identity.key ? sm2Spki(identity.key.publicKey) : identity.ukey!.spki,
    ...(identity.platformUrl !== undefined ? { platformUrl: identity.platformUrl } : {}),
  };
}

/** Whether `platform identity import` has stored an identity in dataDir (nothing is unlocked). */
export function hasAgentIdentity(dataDir: string): boolean {
  const store = openAgentStore(dataDir);
  try {
    return identitySettings(store).get('platformAppId') !== null;
  } finally {
    store.close();
  }
}

/** Where the stored identity's key is: on a UKey (no passphrase needed) or in the encrypted store. */
export function identityKeyOnUKey(
  dataDir: string,
): { ukeyId: string; keyLabel: string } | undefined {
  const store = openAgentStore(dataDir);
  try {
    const settings = identitySettings(store);
    const ukeyId = settings.get('platformKeyUkeyId');
    const keyLabel = settings.get('platformKeyLabel');
    return ukeyId !== null && keyLabel !== null ? { ukeyId, keyLabel } : undefined;
  } finally {
    store.close();
  }
}

/** The identity `platform identity import` stored; 1001 if there is none or the passphrase is wrong. */
export async function loadAgentIdentity(
  dataDir: string,
  passphrase: string | undefined,
  tokens?: () => TokenKeySource,
): Promise<AgentIdentity> {
  const store = openAgentStore(dataDir);
  try {
    const settings = identitySettings(store);
    const appId = settings.get('platformAppId');
    if (appId === null)
      throw badParam('no platform identity: run `ukey-agent platform identity import` first');
    const platformUrl = settings.get('platformUrl') ?? store.settings.get('platformUrl');
    const certPem = settings.get('platformCertificate');
    const ukeyId = settings.get('platformKeyUkeyId');
    const keyLabel = settings.get('platformKeyLabel');
    if (ukeyId !== null && keyLabel !== null) {
      if (!tokens)
        throw badParam(
          `the platform identity key is on UKey ${ukeyId}: this command cannot use a UKey`,
        );
      const reason = 'sign a request to the e-seal platform';
      // One provider per signature: the token service resolves and caches the key itself.
      const auditSigner: SignatureProvider = {
        keyAlgorithm: 'sm2',
        spki: Buffer.from(settings.get('platformKeySpki') ?? '', 'base64'),
        sign: async (m, h) =>
          (await tokens().provider(ukeyId, { label: keyLabel }, reason)).sign(m, h),
      };
      return {
        appId,
        signer: { appId, sign: (canonical) => auditSigner.sign(canonical, 'sm3') },
        auditSigner,
        ukey: { ukeyId, keyLabel },
        ...(platformUrl !== null ? { platformUrl } : {}),
        ...(certPem !== null ? { platformCert: pemToDer(certPem, 'CERTIFICATE') } : {}),
      };
    }
    if (passphrase === undefined) {
      throw badParam(
        'the key store passphrase is needed: give --passphrase-file or set UKEY_AGENT_PASSPHRASE',
      );
    }
    const secrets = await store.openSecrets(passphraseProtector(passphrase));
    let d: Buffer | undefined;
    try {
      d = secrets.get(AGENT_KEY_SECRET);
    } finally {
      secrets.close();
    }
    if (!d) throw badParam('the platform identity key is missing: import it again');
    const key = sm2KeyPairFromPrivate(d);
    d.fill(0);
    return {
      appId,
      signer: sm2RequestSigner(appId, key),
      auditSigner: softwareSm2Provider(key),
      ...(platformUrl !== null ? { platformUrl } : {}),
      ...(certPem !== null ? { platformCert: pemToDer(certPem, 'CERTIFICATE') } : {}),
    };
  } finally {
    store.close();
  }
}
