import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import * as p11 from 'pkcs11js';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
import { AgentError, badParam } from '../../common/errors';
import { ResultCode } from '../../common/codes';
import type { PinPurpose } from '../../common/operator-api';
import { sm2E, normaliseSignatureToDer, rawToDer } from '../crypto/sm2';
import { parseCertificate } from '../pki/certificate';
import type { CertificateInfo } from '../pki/certificate';
import { ecSpki, parseSpki, rsaSpki, sm2Spki } from '../pki/keys';
import type { HashName, SignatureProvider } from '../pki/signer';
import type { PinHost, PinKind } from '../host';
import { mapPkcs11Error, ckrName } from './ckr';
import { Pkcs11Module, trimPkcs11 } from './pkcs11-module';
import type { Handle, SlotToken } from './pkcs11-module';
import { TokenQueue } from './token-queue';
import { digest, rsaDigestInfo } from './digest-info';
import { loadProfiles, profileForModule, resolveLibraryPath } from './vendor-profile';
import type { VendorProfile } from './vendor-profile';

/** Key pairs the agent generates on a token. */
export type KeyGenAlgorithm = 'sm2' | 'rsa2048' | 'ec-p256';

/** DER of the P-256 curve OID 1.2.840.10045.3.1.7, as CKA_EC_PARAMS. */
export const P256_EC_PARAMS = Buffer.from('06082a8648ce3d030107', 'hex');

/** DER of the SM2 curve OID 1.2.156.10197.1.301, as CKA_EC_PARAMS. */
export const SM2_EC_PARAMS = Buffer.from('06082a811ccf5501822d', 'hex');

const CKS_RO_USER_FUNCTIONS = 1;
const CKS_RW_USER_FUNCTIONS = 3;

const F = {
  USER_PIN_INITIALIZED: 0x8,
  TOKEN_INITIALIZED: 0x400,
  USER_PIN_COUNT_LOW: 0x10000,
  USER_PIN_FINAL_TRY: 0x20000,
  USER_PIN_LOCKED: 0x40000,
  SO_PIN_LOCKED: 0x400000,
};

export interface PinState {
  initialized: boolean;
  countLow: boolean;
  finalTry: boolean;
  locked: boolean;
  soLocked: boolean;
}

export interface UKeyInfo {
  ukeyId: string;
  label: string;
  manufacturer: string;
  model: string;
  vendor: { id: string; name: string };
  /** A development/test token (software UKey, SoftHSM): never for production signing. */
  development: boolean;
  tokenInitialized: boolean;
  pin: PinState;
  loggedIn: boolean;
  module: string;
}

export type KeyAlgorithm = 'sm2' | 'rsa' | 'ec';

export interface TokenCertificate {
  ukeyId: string;
  /** CKA_ID in hex: links the certificate to its key pair. */
  keyId: string;
  label: string;
  der: Buffer;
  info: CertificateInfo;
}

export interface TokenKey {
  ukeyId: string;
  keyId: string;
  label: string;
  algorithm: KeyAlgorithm;
  spki?: Buffer;
}

/** Which key on a token: by CKA_ID (hex), by label, or by its certificate's serial (hex). */
export interface KeyRef {
  keyId?: string;
  label?: string;
  certSerial?: string;
}

export interface SignRequest {
  ukeyId: string;
  key?: KeyRef;
  /** The bytes to sign as a message: SM2 computes e = SM3(Z‖message); RSA/EC hash it with `hash`. */
  message: Buffer;
  hash: HashName;
  /** Shown to the signer when the PIN is asked. */
  reason: string;
  /** The same, structured (the UI words it in its language). */
  purpose?: PinPurpose;
}

export interface SignResult {
  /** SM2/EC: DER SEQUENCE{r,s}; RSA: the PKCS#1 v1.5 signature block. */
  signature: Buffer;
  algorithm: KeyAlgorithm;
  keyId: string;
  certificate?: TokenCertificate;
}

export interface TokenServiceOptions {
  /** Module library paths; empty = every built-in/operator profile whose library exists here. */
  modules?: string[];
  /** Directory of operator vendor profiles (*.json). */
  profileDir?: string;
  host: PinHost;
  /** How often to look for plugged and pulled keys; 0 turns hot-plug polling off. */
  pollIntervalMs?: number;
  /** Log out of a key after this long unused; 0 = after every operation. */
  loginIdleMs?: number;
}

interface TokenState {
  ukeyId: string;
  module: Pkcs11Module;
  slot: Handle;
  info: SlotToken;
  queue: TokenQueue;
  session?: Handle;
  loggedIn: boolean;
  idleTimer?: NodeJS.Timeout;
  certs?: TokenCertificate[];
  /** Resolved signing keys by KeyRef: finding a key costs several PKCS#11 round trips. */
  keys: Map<string, ResolvedKey>;
}

interface ResolvedKey {
  handle: Handle;
  keyId: string;
  algorithm: KeyAlgorithm;
  cert?: TokenCertificate;
  sm2Point?: Buffer;
}

export interface TokenEvents {
  inserted: [{ ukeyId: string }];
  removed: [{ ukeyId: string }];
}

const removedError = (ukeyId: string): AgentError =>
  new AgentError(ResultCode.NO_UKEY, `UKey ${ukeyId} was removed`);

/**
 * The only place that talks to UKeys. One queue per key serialises every operation on it; PINs come
 * from the injected host only; every PKCS#11 failure leaves as an AgentError with a contract code.
 */
export class TokenService extends EventEmitter<TokenEvents> {
  readonly modules: Pkcs11Module[] = [];
  /** Profiles whose auto-discovered library failed to initialise. */
  readonly skipped: string[] = [];
  /** The same, with the library path and why (the message names no path). */
  readonly failures: { path: string; profileId: string; error: string }[] = [];
  /** The vendor profiles in effect: built-in ones, then the operator's from profileDir. */
  readonly profiles: readonly VendorProfile[];
  readonly profileDir: string | undefined;
  private readonly tokens = new Map<string, TokenState>();
  private readonly host: PinHost;
  private readonly loginIdleMs: number;
  private poller?: NodeJS.Timeout;
  private closed = false;

  constructor(opts: TokenServiceOptions) {
    super();
    this.host = opts.host;
    this.loginIdleMs = opts.loginIdleMs ?? 5 * 60_000;
    const profiles = loadProfiles(opts.profileDir);
    this.profiles = profiles;
    this.profileDir = opts.profileDir;
    const paths = opts.modules?.length
      ? opts.modules
      : profiles.map((p) => resolveLibraryPath(p)).filter((p): p is string => !!p);
    const explicit = !!opts.modules?.length;
    try {
      for (const path of paths) {
        const provisional = profileForModule(path, profiles);
        let m: Pkcs11Module;
        try {
          m = Pkcs11Module.load(path, provisional);
        } catch (e) {
          // Auto-discovered modules that will not start (e.g. SoftHSM without a config) are skipped.
          if (explicit) throw e;
          this.skipped.push(provisional.id);
          this.failures.push({
            path,
            profileId: provisional.id,
            error: e instanceof AgentError ? e.message : 'the module did not load',
          });
          continue;
        }
        const profile =
          provisional.id === 'generic'
            ? profileForModule(path, profiles, m.manufacturer)
            : provisional;
        m.profile = profile;
        this.modules.push(m);
      }
    } catch (e) {
      for (const m of this.modules) m.close();
      throw e;
    }
    this.scan(false);
    const poll = opts.pollIntervalMs ?? 300;
    if (poll > 0) {
      this.poller = setInterval(() => this.scan(true), poll);
      this.poller.unref();
    }
  }

  /** Re-reads which keys are present, emitting inserted/removed; called by the poller and by list(). */
  scan(emit = true): void {
    if (this.closed) return;
    const seen = new Map<string, { module: Pkcs11Module; token: SlotToken }>();
    for (const m of this.modules) {
      let present: SlotToken[];
      try {
        present = m.presentTokens();
      } catch {
        continue;
      }
      for (const t of present) {
        // An uninitialised SoftHSM slot has no serial: it is not a key a person plugged in.
        if (!t.serial || seen.has(t.serial)) continue;
        seen.set(t.serial, { module: m, token: t });
      }
    }
    for (const [id, st] of this.tokens) {
      const now = seen.get(id);
      if (!now || now.module !== st.module || !now.token.slot.equals(st.slot)) {
        this.drop(st);
        if (emit) this.emit('removed', { ukeyId: id });
      }
    }
    for (const [id, { module, token }] of seen) {
      const st = this.tokens.get(id);
      if (st) {
        st.info = token;
        continue;
      }
      this.tokens.set(id, {
        ukeyId: id,
        module,
        slot: token.slot,
        info: token,
        queue: new TokenQueue(),
        keys: new Map(),
        loggedIn: false,
      });
      if (emit) this.emit('inserted', { ukeyId: id });
    }
  }

  private drop(st: TokenState): void {
    this.tokens.delete(st.ukeyId);
    clearTimeout(st.idleTimer);
    st.queue.failPending(removedError(st.ukeyId));
    if (st.session) {
      try {
        st.module.api.C_CloseSession(st.session);
      } catch {
        /* the key is gone */
      }
    }
    st.module.forgetSlot(st.slot);
  }

  list(): UKeyInfo[] {
    this.scan(true);
    return [...this.tokens.values()]
      .map((st) => this.describe(st))
      .sort((a, b) => a.ukeyId.localeCompare(b.ukeyId));
  }

  get count(): number {
    return this.tokens.size;
  }

  info(ukeyId: string): UKeyInfo {
    return this.describe(this.state(ukeyId));
  }

  private describe(st: TokenState): UKeyInfo {
    const f = st.info.flags;
    const profile = st.module.profile;
    return {
      ukeyId: st.ukeyId,
      label: st.info.label,
      manufacturer: st.info.manufacturer,
      model: st.info.model,
      vendor: { id: profile.id, name: profile.name },
      development: profile.development,
      tokenInitialized: (f & F.TOKEN_INITIALIZED) !== 0,
      pin: {
        initialized: (f & F.USER_PIN_INITIALIZED) !== 0,
        countLow: (f & F.USER_PIN_COUNT_LOW) !== 0,
        finalTry: (f & F.USER_PIN_FINAL_TRY) !== 0,
        locked: (f & F.USER_PIN_LOCKED) !== 0,
        soLocked: (f & F.SO_PIN_LOCKED) !== 0,
      },
      loggedIn: st.loggedIn,
      module: st.module.name,
    };
  }

  private state(ukeyId: string): TokenState {
    let st = this.tokens.get(ukeyId);
    if (!st) {
      this.scan(true);
      st = this.tokens.get(ukeyId);
    }
    if (!st) throw new AgentError(ResultCode.NO_UKEY, `no UKey with id ${ukeyId} is plugged in`);
    return st;
  }

  /** Runs fn on the key's queue with an open R/W session; a vanished key fails with 2001. */
  private async onToken<T>(
    ukeyId: string,
    fn: (st: TokenState, s: Handle) => Promise<T> | T,
    openSession = true,
  ): Promise<T> {
    const st = this.state(ukeyId);
    return st.queue.run(async () => {
      if (this.tokens.get(ukeyId) !== st) throw removedError(ukeyId);
      try {
        if (openSession && !st.session) {
          try {
            st.session = st.module.api.C_OpenSession(
              st.slot,
              p11.CKF_SERIAL_SESSION | p11.CKF_RW_SESSION,
            );
          } catch (e) {
            if (ckrName(e) === 'CKR_TOKEN_NOT_RECOGNIZED') {
              throw new AgentError(
                ResultCode.NO_UKEY,
                `UKey ${ukeyId} is blank or unreadable: initialise it first`,
              );
            }
            throw e;
          }
        }
        return await fn(st, st.session as Handle);
      } catch (e) {
        const name = ckrName(e);
        if (
          name === 'CKR_DEVICE_REMOVED' ||
          name === 'CKR_SESSION_HANDLE_INVALID' ||
          name === 'CKR_TOKEN_NOT_PRESENT'
        ) {
          st.session = undefined;
          st.loggedIn = false;
          this.scan(true);
          throw removedError(ukeyId);
        }
        throw mapPkcs11Error(e, 'using the key');
      } finally {
        this.touchLogin(st);
      }
    });
  }

  private touchLogin(st: TokenState): void {
    clearTimeout(st.idleTimer);
    if (!st.loggedIn) return;
    if (this.loginIdleMs === 0) {
      this.logoutNow(st);
      return;
    }
    st.idleTimer = setTimeout(
      () => void st.queue.run(async () => this.logoutNow(st)).catch(() => undefined),
      this.loginIdleMs,
    );
    st.idleTimer.unref();
  }

  private logoutNow(st: TokenState): void {
    if (st.session && st.loggedIn) {
      try {
        st.module.api.C_Logout(st.session);
      } catch {
        /* already logged out or gone */
      }
    }
    st.loggedIn = false;
    // Private-object handles are only good while logged in (SoftHSM reissues them).
    st.keys.clear();
  }

  /** Forgets the key's login now (the next private-key use asks the PIN again). */
  async logout(ukeyId: string): Promise<void> {
    return this.onToken(ukeyId, (st) => this.logoutNow(st));
  }

  private async askPin(
    st: TokenState,
    kind: PinKind,
    reason: string,
    purpose?: PinPurpose,
  ): Promise<string> {
    const pin = await this.host.askPin({
      ukeyId: st.ukeyId,
      tokenLabel: st.info.label,
      kind,
      reason,
      ...(purpose ? { purpose } : {}),
      triesLeft: kind === 'user' ? this.triesLeft(st) : undefined,
    });
    if (pin == null) throw new AgentError(ResultCode.DECLINED, 'PIN entry was cancelled');
    return pin;
  }

  /** Tries left when the key tells (PKCS#11 itself only flags the final try and the lock). */
  private triesLeft(st: TokenState): number | undefined {
    const f = st.module.tokenFlags(st.slot);
    st.info.flags = f;
    if (f & F.USER_PIN_LOCKED) return 0;
    const exact = this.readPinCounter(st);
    if (exact !== undefined) return exact;
    if (f & F.USER_PIN_FINAL_TRY) return 1;
    if (!(f & F.USER_PIN_COUNT_LOW) && st.module.profile.pinTries)
      return st.module.profile.pinTries;
    return undefined;
  }

  /** The exact tries left, from the vendor's PIN-counter object when its profile names one. */
  private readPinCounter(st: TokenState): number | undefined {
    const pc = st.module.profile.pinCounter;
    if (!pc || !st.session) return undefined;
    try {
      const [obj] = this.find(st, st.session, [
        { type: p11.CKA_CLASS, value: p11.CKO_HW_FEATURE },
        { type: p11.CKA_HW_FEATURE_TYPE, value: pc.hwFeatureType },
      ]);
      if (!obj) return undefined;
      const v = this.attrs(st, st.session, obj, [pc.userTriesLeftAttribute]).get(
        pc.userTriesLeftAttribute,
      );
      return v ? readUlong(v) : undefined;
    } catch {
      return undefined; // an older module without the counter: fall back to the flags
    }
  }

  private pinError(st: TokenState, e: unknown, operation: string): AgentError {
    const name = ckrName(e);
    if (name === 'CKR_PIN_INCORRECT') {
      const left = this.triesLeft(st);
      const tail =
        left === 0
          ? 'the PIN is now locked; the administrator must unblock it with the SO PIN'
          : left === 1
            ? '1 try left before the key locks'
            : left !== undefined
              ? `${left} tries left`
              : 'further wrong PINs will lock the key';
      return new AgentError(ResultCode.PIN_ERROR, `wrong PIN: ${tail}`, {
        ckr: name,
        triesLeft: left,
      });
    }
    return mapPkcs11Error(e, operation);
  }

  /** Logs the user in if needed; a wrong PIN is reported, never retried here. */
  private async ensureLogin(
    st: TokenState,
    s: Handle,
    reason: string,
    purpose?: PinPurpose,
  ): Promise<void> {
    if (st.loggedIn) {
      try {
        const state = st.module.api.C_GetSessionInfo(s).state;
        if (state === CKS_RO_USER_FUNCTIONS || state === CKS_RW_USER_FUNCTIONS) return;
      } catch (e) {
        throw mapPkcs11Error(e, 'reading the key session');
      }
      st.loggedIn = false;
    }
    const flags = st.module.tokenFlags(st.slot);
    if (flags & F.USER_PIN_LOCKED) {
      throw new AgentError(
        ResultCode.PIN_ERROR,
        'the PIN is locked; the administrator must unblock it with the SO PIN',
        {
          triesLeft: 0,
        },
      );
    }
    const pin = await this.askPin(st, 'user', reason, purpose);
    try {
      st.module.api.C_Login(s, p11.CKU_USER, pin);
    } catch (e) {
      if (ckrName(e) !== 'CKR_USER_ALREADY_LOGGED_IN')
        throw this.pinError(st, e, 'logging in to the key');
    }
    st.loggedIn = true;
    st.keys.clear();
  }

  private find(st: TokenState, s: Handle, template: p11.Template): Handle[] {
    const api = st.module.api;
    try {
      api.C_FindObjectsInit(s, template);
      const out: Handle[] = [];
      for (;;) {
        const batch = api.C_FindObjects(s, 64);
        if (batch.length === 0) break;
        out.push(...batch);
      }
      return out;
    } catch (e) {
      throw mapPkcs11Error(e, 'searching the key');
    } finally {
      try {
        api.C_FindObjectsFinal(s);
      } catch {
        /* no search active */
      }
    }
  }

  private attrs(st: TokenState, s: Handle, obj: Handle, types: number[]): Map<number, Buffer> {
    try {
      const res = st.module.api.C_GetAttributeValue(
        s,
        obj,
        types.map((type) => ({ type })),
      );
      return new Map(res.map((a) => [a.type, a.value as Buffer]));
    } catch (e) {
      throw mapPkcs11Error(e, 'reading an object on the key');
    }
  }

  private readCertificates(st: TokenState, s: Handle): TokenCertificate[] {
    if (st.certs) return st.certs;
    const out: TokenCertificate[] = [];
    for (const h of this.find(st, s, [
      { type: p11.CKA_CLASS, value: p11.CKO_CERTIFICATE },
      { type: p11.CKA_CERTIFICATE_TYPE, value: p11.CKC_X_509 },
    ])) {
      const a = this.attrs(st, s, h, [p11.CKA_VALUE, p11.CKA_ID, p11.CKA_LABEL]);
      const der = a.get(p11.CKA_VALUE);
      if (!der?.length) continue;
      let info: CertificateInfo;
      try {
        info = parseCertificate(der);
      } catch {
        continue; // a certificate the agent cannot parse is not offered to callers
      }
      out.push({
        ukeyId: st.ukeyId,
        keyId: (a.get(p11.CKA_ID) ?? Buffer.alloc(0)).toString('hex'),
        label: (a.get(p11.CKA_LABEL) ?? Buffer.alloc(0)).toString('utf8'),
        der,
        info,
      });
    }
    st.certs = out;
    return out;
  }

  /** The key's certificates (public objects: no PIN needed). */
  async certificates(ukeyId: string): Promise<TokenCertificate[]> {
    return this.onToken(ukeyId, (st, s) => this.readCertificates(st, s));
  }

  /** The signing (type 1) or encryption (type 2) certificate, as seed 004 table 21 asks. */
  async certificateFor(ukeyId: string, usage: 'sign' | 'encrypt'): Promise<TokenCertificate> {
    const certs = await this.certificates(ukeyId);
    const exact = certs.filter((c) => c.info.usage === usage);
    const both = certs.filter((c) => c.info.usage === 'both');
    const pick = exact[0] ?? both[0];
    if (!pick) {
      throw new AgentError(
        ResultCode.NO_UKEY,
        `UKey ${ukeyId} holds no ${usage === 'sign' ? 'signing' : 'encryption'} certificate`,
      );
    }
    return pick;
  }

  /** Key pairs on the token (needs the PIN: private objects are hidden until login). */
  async keys(
    ukeyId: string,
    reason = 'list the keys on the UKey',
    purpose: PinPurpose = { action: 'keys' },
  ): Promise<TokenKey[]> {
    return this.onToken(ukeyId, async (st, s) => {
      await this.ensureLogin(st, s, reason, purpose);
      return this.find(st, s, [{ type: p11.CKA_CLASS, value: p11.CKO_PRIVATE_KEY }]).map((h) =>
        this.describeKey(st, s, h),
      );
    });
  }

  private keyAlgorithm(st: TokenState, keyType: number): KeyAlgorithm | undefined {
    if (keyType === p11.CKK_RSA) return 'rsa';
    if (keyType === p11.CKK_EC) return 'ec';
    if (st.module.profile.sm2 && keyType === st.module.profile.sm2.keyType) return 'sm2';
    return undefined;
  }

  private describeKey(st: TokenState, s: Handle, priv: Handle): TokenKey {
    const a = this.attrs(st, s, priv, [p11.CKA_ID, p11.CKA_LABEL, p11.CKA_KEY_TYPE]);
    const keyId = (a.get(p11.CKA_ID) ?? Buffer.alloc(0)).toString('hex');
    const kt = a.get(p11.CKA_KEY_TYPE);
    const algorithm = kt ? this.keyAlgorithm(st, readUlong(kt)) : undefined;
    return {
      ukeyId: st.ukeyId,
      keyId,
      label: (a.get(p11.CKA_LABEL) ?? Buffer.alloc(0)).toString('utf8'),
      algorithm: algorithm ?? 'rsa',
      spki: algorithm ? this.publicSpki(st, s, keyId, algorithm) : undefined,
    };
  }

  /** SubjectPublicKeyInfo of a key pair, from its certificate or its public key object. */
  private publicSpki(
    st: TokenState,
    s: Handle,
    keyId: string,
    algorithm: KeyAlgorithm,
  ): Buffer | undefined {
    const cert = this.readCertificates(st, s).find((c) => c.keyId === keyId);
    if (cert) return cert.info.spki;
    const [pub] = this.find(st, s, [
      { type: p11.CKA_CLASS, value: p11.CKO_PUBLIC_KEY },
      { type: p11.CKA_ID, value: Buffer.from(keyId, 'hex') },
    ]);
    if (!pub) return undefined;
    if (algorithm === 'rsa') {
      const a = this.attrs(st, s, pub, [p11.CKA_MODULUS, p11.CKA_PUBLIC_EXPONENT]);
      return rsaSpki(a.get(p11.CKA_MODULUS)!, a.get(p11.CKA_PUBLIC_EXPONENT)!);
    }
    if (algorithm === 'sm2') {
      const point = this.attrs(st, s, pub, [p11.CKA_EC_POINT]).get(p11.CKA_EC_POINT);
      return point ? sm2Spki(unwrapEcPoint(point)) : undefined;
    }
    const a = this.attrs(st, s, pub, [p11.CKA_EC_PARAMS, p11.CKA_EC_POINT]);
    const params = a.get(p11.CKA_EC_PARAMS);
    const point = a.get(p11.CKA_EC_POINT);
    return params && point ? ecSpki(params, unwrapEcPoint(point)) : undefined;
  }

  private selectPrivateKey(
    st: TokenState,
    s: Handle,
    ref: KeyRef | undefined,
  ): { handle: Handle; keyId: string; cert?: TokenCertificate } {
    const certs = this.readCertificates(st, s);
    let keyId: string | undefined = ref?.keyId?.toLowerCase();
    let cert: TokenCertificate | undefined;
    if (ref?.certSerial) {
      const want = ref.certSerial.toLowerCase().replace(/^0+/, '');
      cert = certs.find((c) => c.info.serialNumberHex.toLowerCase().replace(/^0+/, '') === want);
      if (!cert)
        throw new AgentError(
          ResultCode.NO_UKEY,
          `UKey ${st.ukeyId} holds no certificate with serial ${ref.certSerial}`,
        );
      keyId = cert.keyId;
    }
    const template: p11.Template = [{ type: p11.CKA_CLASS, value: p11.CKO_PRIVATE_KEY }];
    if (keyId !== undefined) template.push({ type: p11.CKA_ID, value: Buffer.from(keyId, 'hex') });
    if (ref?.label) template.push({ type: p11.CKA_LABEL, value: ref.label });
    let found = this.find(st, s, template);
    if (!ref?.keyId && !ref?.label && !ref?.certSerial) {
      // Default: the key behind the signing certificate, else the only key.
      const signCert =
        certs.find((c) => c.info.usage === 'sign') ?? certs.find((c) => c.info.usage === 'both');
      if (signCert) {
        const byCert = this.find(st, s, [
          ...template,
          { type: p11.CKA_ID, value: Buffer.from(signCert.keyId, 'hex') },
        ]);
        if (byCert.length) {
          found = byCert;
          cert = signCert;
        }
      }
    }
    if (found.length === 0)
      throw new AgentError(ResultCode.NO_UKEY, `UKey ${st.ukeyId} holds no such private key`);
    if (found.length > 1)
      throw badParam(
        `several private keys on UKey ${st.ukeyId} match: name one by --key-label or id`,
      );
    const handle = found[0]!;
    const id = this.attrs(st, s, handle, [p11.CKA_ID]).get(p11.CKA_ID)?.toString('hex') ?? '';
    cert ??= certs.find((c) => c.keyId === id);
    return { handle, keyId: id, cert };
  }

  /** Signs with a key on the token, after the PIN if the key is not logged in. */
  async sign(req: SignRequest): Promise<SignResult> {
    return this.onToken(req.ukeyId, async (st, s) => {
      await this.ensureLogin(st, s, req.reason, req.purpose);
      const key = this.resolveKey(st, s, req.key);
      let signature: Buffer;
      if (key.algorithm === 'sm2') signature = await this.signSm2(st, s, key, req);
      else if (key.algorithm === 'rsa') {
        signature = await this.rawSign(
          st,
          s,
          key.handle,
          { mechanism: p11.CKM_RSA_PKCS },
          rsaDigestInfo(req.hash, req.message),
          1024,
        );
      } else {
        if (req.hash === 'sm3')
          throw new AgentError(ResultCode.UNSUPPORTED_ALG, 'EC keys sign with SHA hashes, not SM3');
        const raw = await this.rawSign(
          st,
          s,
          key.handle,
          { mechanism: p11.CKM_ECDSA },
          digest(req.hash, req.message),
          132,
        );
        signature = ecdsaRawToDer(raw);
      }
      return { signature, algorithm: key.algorithm, keyId: key.keyId, certificate: key.cert };
    });
  }

  private invalidate(st: TokenState): void {
    st.certs = undefined;
    st.keys.clear();
  }

  private resolveKey(st: TokenState, s: Handle, ref: KeyRef | undefined): ResolvedKey {
    const cacheKey = JSON.stringify([ref?.keyId ?? '', ref?.label ?? '', ref?.certSerial ?? '']);
    const hit = st.keys.get(cacheKey);
    if (hit) return hit;
    const { handle, keyId, cert } = this.selectPrivateKey(st, s, ref);
    const kt = readUlong(this.attrs(st, s, handle, [p11.CKA_KEY_TYPE]).get(p11.CKA_KEY_TYPE)!);
    const algorithm = this.keyAlgorithm(st, kt);
    if (!algorithm)
      throw new AgentError(
        ResultCode.UNSUPPORTED_ALG,
        'the key type is not supported by the agent',
      );
    let sm2Point: Buffer | undefined;
    if (algorithm === 'sm2') {
      const spki = this.publicSpki(st, s, keyId, 'sm2');
      sm2Point = spki ? parseSpki(spki).sm2Point : undefined;
    }
    const resolved: ResolvedKey = { handle, keyId, algorithm, cert, sm2Point };
    st.keys.set(cacheKey, resolved);
    return resolved;
  }

  private async signSm2(
    st: TokenState,
    s: Handle,
    key: ResolvedKey,
    req: SignRequest,
  ): Promise<Buffer> {
    if (req.hash !== 'sm3')
      throw new AgentError(ResultCode.UNSUPPORTED_ALG, 'SM2 keys sign with SM3 only (hashType 4)');
    const c = st.module.profile.sm2!;
    const point = key.sm2Point;
    const handle = key.handle;
    const has = (m: number | undefined): m is number =>
      m !== undefined && st.module.supports(st.slot, m);
    if (point && (has(c.signDigestRaw) || has(c.signDigestDer))) {
      // The way UKeys are driven: the agent computes Z and e itself, the key signs e.
      const e = sm2E(point, req.message);
      if (has(c.signDigestRaw))
        return rawToDer(await this.rawSign(st, s, handle, { mechanism: c.signDigestRaw }, e, 64));
      return normaliseSignatureToDer(
        await this.rawSign(st, s, handle, { mechanism: c.signDigestDer! }, e, 80),
      );
    }
    if (has(c.signMessageDer))
      return normaliseSignatureToDer(
        await this.rawSign(st, s, handle, { mechanism: c.signMessageDer }, req.message, 80),
      );
    if (has(c.signMessageRaw))
      return rawToDer(
        await this.rawSign(st, s, handle, { mechanism: c.signMessageRaw }, req.message, 64),
      );
    throw new AgentError(
      ResultCode.UNSUPPORTED_ALG,
      'this UKey offers no SM2 signing mechanism the agent knows',
    );
  }

  private async rawSign(
    st: TokenState,
    s: Handle,
    key: Handle,
    mech: p11.Mechanism,
    data: Buffer,
    outLen: number,
  ): Promise<Buffer> {
    const api = st.module.api;
    try {
      api.C_SignInit(s, mech, key);
      return await api.C_SignAsync(s, data, Buffer.alloc(outLen));
    } catch (e) {
      const name = ckrName(e);
      // Another process deleted or replaced the key: forget what we resolved.
      if (name === 'CKR_KEY_HANDLE_INVALID' || name === 'CKR_OBJECT_HANDLE_INVALID')
        this.invalidate(st);
      throw mapPkcs11Error(e, 'signing on the key');
    }
  }

  /** A SignatureProvider over a token key, for CSRs and CMS. */
  async provider(
    ukeyId: string,
    key: KeyRef | undefined,
    reason: string,
  ): Promise<SignatureProvider> {
    const { keyId, spki, algorithm } = await this.onToken(ukeyId, async (st, s) => {
      await this.ensureLogin(st, s, reason);
      const sel = this.selectPrivateKey(st, s, key);
      const d = this.describeKey(st, s, sel.handle);
      return { keyId: sel.keyId, spki: d.spki, algorithm: d.algorithm };
    });
    if (!spki)
      throw badParam('the key has neither a certificate nor a public key object to read it from');
    if (algorithm === 'ec')
      throw new AgentError(
        ResultCode.UNSUPPORTED_ALG,
        'EC keys cannot make requests here; use SM2 or RSA',
      );
    return {
      keyAlgorithm: algorithm,
      spki,
      sign: async (message, hash) =>
        (await this.sign({ ukeyId, key: { keyId }, message, hash, reason })).signature,
    };
  }

  /** Generates a key pair on the token (SM2 via the vendor's mechanism, RSA 2048 by the standard). */
  async generateKeyPair(ukeyId: string, alg: KeyGenAlgorithm, label: string): Promise<TokenKey> {
    if (!label || Buffer.byteLength(label) > 64)
      throw badParam('a key label of 1 to 64 bytes is required');
    return this.onToken(ukeyId, async (st, s) => {
      await this.ensureLogin(st, s, `generate a ${alg.toUpperCase()} key "${label}"`, {
        action: 'generate',
        label,
      });
      if (this.find(st, s, [{ type: p11.CKA_LABEL, value: label }]).length) {
        throw badParam(`UKey ${ukeyId} already holds an object labelled "${label}"`);
      }
      const id = randomBytes(16);
      const common: p11.Template = [
        { type: p11.CKA_TOKEN, value: true },
        { type: p11.CKA_LABEL, value: label },
        { type: p11.CKA_ID, value: id },
      ];
      let mech: p11.Mechanism;
      let pub: p11.Template;
      const priv: p11.Template = [
        ...common,
        { type: p11.CKA_PRIVATE, value: true },
        { type: p11.CKA_SENSITIVE, value: true },
        { type: p11.CKA_EXTRACTABLE, value: false },
        { type: p11.CKA_SIGN, value: true },
      ];
      if (alg === 'sm2') {
        const c = st.module.profile.sm2;
        if (!c?.keyPairGen || !st.module.supports(st.slot, c.keyPairGen)) {
          throw new AgentError(ResultCode.UNSUPPORTED_ALG, 'this UKey cannot generate SM2 keys');
        }
        mech = { mechanism: c.keyPairGen };
        pub = [
          ...common,
          { type: p11.CKA_VERIFY, value: true },
          { type: p11.CKA_EC_PARAMS, value: SM2_EC_PARAMS },
        ];
      } else if (alg === 'ec-p256') {
        if (!st.module.supports(st.slot, p11.CKM_EC_KEY_PAIR_GEN)) {
          throw new AgentError(ResultCode.UNSUPPORTED_ALG, 'this UKey cannot generate EC keys');
        }
        mech = { mechanism: p11.CKM_EC_KEY_PAIR_GEN };
        pub = [
          ...common,
          { type: p11.CKA_VERIFY, value: true },
          { type: p11.CKA_EC_PARAMS, value: P256_EC_PARAMS },
        ];
      } else {
        if (!st.module.supports(st.slot, p11.CKM_RSA_PKCS_KEY_PAIR_GEN)) {
          throw new AgentError(ResultCode.UNSUPPORTED_ALG, 'this UKey cannot generate RSA keys');
        }
        mech = { mechanism: p11.CKM_RSA_PKCS_KEY_PAIR_GEN };
        pub = [
          ...common,
          { type: p11.CKA_VERIFY, value: true },
          { type: p11.CKA_MODULUS_BITS, value: 2048 },
          { type: p11.CKA_PUBLIC_EXPONENT, value: Buffer.from([1, 0, 1]) },
        ];
      }
      let keys: p11.KeyPair;
      try {
        keys = await st.module.api.C_GenerateKeyPairAsync(s, mech, pub, priv);
      } catch (e) {
        throw mapPkcs11Error(e, 'generating a key pair on the key');
      }
      return this.describeKey(st, s, keys.privateKey);
    });
  }

  /** Imports a certificate next to the key pair it belongs to (matched by public key). */
  async importCertificate(
    ukeyId: string,
    der: Buffer,
    keyLabel?: string,
  ): Promise<TokenCertificate> {
    let info: CertificateInfo;
    let subject: Buffer, issuer: Buffer, serial: Buffer;
    try {
      info = parseCertificate(der);
      const cert = AsnConvert.parse(der, Certificate);
      subject = Buffer.from(AsnConvert.serialize(cert.tbsCertificate.subject));
      issuer = Buffer.from(AsnConvert.serialize(cert.tbsCertificate.issuer));
      serial = derInteger(Buffer.from(cert.tbsCertificate.serialNumber));
    } catch {
      throw badParam('the certificate is not a DER or PEM X.509 certificate');
    }
    return this.onToken(ukeyId, async (st, s) => {
      await this.ensureLogin(st, s, 'import a certificate', { action: 'import-cert' });
      const template: p11.Template = [{ type: p11.CKA_CLASS, value: p11.CKO_PRIVATE_KEY }];
      if (keyLabel) template.push({ type: p11.CKA_LABEL, value: keyLabel });
      const match = this.find(st, s, template)
        .map((h) => this.describeKey(st, s, h))
        .find((k) => k.spki && spkiEqual(k.spki, info.spki));
      if (!match) {
        throw badParam(
          keyLabel
            ? `the certificate's public key is not the key labelled "${keyLabel}"`
            : `UKey ${ukeyId} holds no private key for this certificate`,
        );
      }
      const existing = this.readCertificates(st, s).find((c) => c.der.equals(der));
      if (existing) return existing;
      try {
        st.module.api.C_CreateObject(s, [
          { type: p11.CKA_CLASS, value: p11.CKO_CERTIFICATE },
          { type: p11.CKA_CERTIFICATE_TYPE, value: p11.CKC_X_509 },
          { type: p11.CKA_TOKEN, value: true },
          { type: p11.CKA_PRIVATE, value: false },
          { type: p11.CKA_LABEL, value: match.label },
          { type: p11.CKA_ID, value: Buffer.from(match.keyId, 'hex') },
          { type: p11.CKA_SUBJECT, value: subject },
          { type: p11.CKA_ISSUER, value: issuer },
          { type: p11.CKA_SERIAL_NUMBER, value: serial },
          { type: p11.CKA_VALUE, value: der },
        ]);
      } catch (e) {
        throw mapPkcs11Error(e, 'importing the certificate');
      }
      this.invalidate(st);
      return this.readCertificates(st, s).find((c) => c.der.equals(der))!;
    });
  }

  /** Destroys every object with the label (certificate, public and private key); answers how many. */
  async deleteObjects(ukeyId: string, label: string): Promise<number> {
    if (!label) throw badParam('--label is required');
    return this.onToken(ukeyId, async (st, s) => {
      await this.ensureLogin(st, s, `delete "${label}" from the UKey`, { action: 'delete', label });
      const found = this.find(st, s, [{ type: p11.CKA_LABEL, value: label }]);
      if (!found.length) throw badParam(`UKey ${ukeyId} holds no object labelled "${label}"`);
      for (const h of found) {
        try {
          st.module.api.C_DestroyObject(s, h);
        } catch (e) {
          throw mapPkcs11Error(e, 'deleting an object on the key');
        }
      }
      this.invalidate(st);
      return found.length;
    });
  }

  /** The user changes their own PIN (old and new PIN from the host). */
  async changePin(ukeyId: string): Promise<void> {
    return this.onToken(ukeyId, async (st, s) => {
      const oldPin = await this.askPin(st, 'user', 'change the UKey PIN: current PIN', {
        action: 'change-pin',
        step: 'old',
      });
      const newPin = await this.askPin(st, 'new-user', 'change the UKey PIN: new PIN', {
        action: 'change-pin',
        step: 'new',
      });
      try {
        st.module.api.C_SetPIN(s, oldPin, newPin);
      } catch (e) {
        throw this.pinError(st, e, 'changing the PIN');
      }
    });
  }

  /** The SO sets a new user PIN: unblocks a locked PIN and keeps the keys. */
  async initUserPin(ukeyId: string, reason = 'unblock the user PIN'): Promise<void> {
    return this.onToken(ukeyId, async (st, s) => {
      const soPin = await this.askPin(st, 'so', `${reason}: SO PIN`, {
        action: 'unblock-pin',
        step: 'so',
      });
      const newPin = await this.askPin(st, 'new-user', `${reason}: new user PIN`, {
        action: 'unblock-pin',
        step: 'new',
      });
      this.logoutNow(st);
      const api = st.module.api;
      try {
        api.C_Login(s, p11.CKU_SO, soPin);
      } catch (e) {
        throw mapPkcs11Error(e, 'logging in as SO');
      }
      try {
        api.C_InitPIN(s, newPin);
      } catch (e) {
        throw mapPkcs11Error(e, 'setting the user PIN');
      } finally {
        try {
          api.C_Logout(s);
        } catch {
          /* logged out already */
        }
      }
      st.info.flags = st.module.tokenFlags(st.slot);
    });
  }

  /** Initialises (or wipes and re-initialises) a token: SO PIN and label, then the user PIN. */
  async initToken(ukeyId: string, label: string): Promise<void> {
    if (!label || Buffer.byteLength(label) > 32)
      throw badParam('a token label of 1 to 32 bytes is required');
    return this.onToken(
      ukeyId,
      async (st) => {
        const soPin = await this.askPin(st, 'so', `initialise UKey ${ukeyId}: SO PIN`, {
          action: 'init-token',
          step: 'so',
        });
        const userPin = await this.askPin(st, 'new-user', `initialise UKey ${ukeyId}: user PIN`, {
          action: 'init-token',
          step: 'new',
        });
        const api = st.module.api;
        if (st.session) {
          try {
            api.C_CloseSession(st.session);
          } catch {
            /* gone */
          }
          st.session = undefined;
          st.loggedIn = false;
        }
        try {
          api.C_InitToken(st.slot, soPin, label.padEnd(32, ' '));
          const s = api.C_OpenSession(st.slot, p11.CKF_SERIAL_SESSION | p11.CKF_RW_SESSION);
          st.session = s;
          api.C_Login(s, p11.CKU_SO, soPin);
          api.C_InitPIN(s, userPin);
          api.C_Logout(s);
        } catch (e) {
          throw mapPkcs11Error(e, 'initialising the UKey');
        }
        this.invalidate(st);
        st.module.forgetSlot(st.slot);
        st.info.flags = st.module.tokenFlags(st.slot);
        st.info.label = label;
      },
      false,
    );
  }

  /** Pending operations on a key (for the UI and tests). */
  pending(ukeyId: string): number {
    return this.tokens.get(ukeyId)?.queue.pending ?? 0;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.poller);
    for (const st of [...this.tokens.values()]) {
      this.logoutNow(st);
      this.drop(st);
    }
    for (const m of this.modules) m.close();
    this.removeAllListeners();
  }
}

/** CK_ULONG attribute bytes (native endianness, 8 bytes on 64-bit) as a number. */
export function readUlong(b: Buffer): number {
  if (b.length === 8) return Number(b.readBigUInt64LE(0));
  if (b.length === 4) return b.readUInt32LE(0);
  return b.readUIntLE(0, Math.min(b.length, 6));
}

/** CKA_EC_POINT is a DER OCTET STRING around 04‖x‖y by the standard; some modules omit the wrapper. */
export function unwrapEcPoint(v: Buffer): Buffer {
  if (v[0] === 0x04 && v.length === 65) return v;
  if (v[0] === 0x04 && v[1] === v.length - 2) return v.subarray(2);
  if (v[0] === 0x04 && v[1] === 0x81 && v[2] === v.length - 3) return v.subarray(3);
  return v;
}

function spkiEqual(a: Buffer, b: Buffer): boolean {
  try {
    const pa = parseSpki(a);
    const pb = parseSpki(b);
    if (pa.sm2Point && pb.sm2Point) return pa.sm2Point.equals(pb.sm2Point);
    if (pa.rsa && pb.rsa) return stripZeros(pa.rsa.modulus).equals(stripZeros(pb.rsa.modulus));
  } catch {
    /* fall through */
  }
  return a.equals(b);
}

const stripZeros = (b: Buffer): Buffer => {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  return b.subarray(i);
};

function derInteger(v: Buffer): Buffer {
  let body = stripZeros(v);
  if (body[0]! & 0x80) body = Buffer.concat([Buffer.from([0]), body]);
  return Buffer.concat([Buffer.from([0x02, body.length]), body]);
}

function ecdsaRawToDer(raw: Buffer): Buffer {
  const half = raw.length / 2;
  const r = derInteger(raw.subarray(0, half));
  const s = derInteger(raw.subarray(half));
  const len = r.length + s.length;
  return Buffer.concat([Buffer.from(len < 128 ? [0x30, len] : [0x30, 0x81, len]), r, s]);
}

export { trimPkcs11 };
