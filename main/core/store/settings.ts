// Typed settings kept as JSON in the database. Every key has a default and a check, so a value
// written by an older version or by hand is refused on read instead of flowing on mistyped.
import { badParam } from '../../common/errors';
import type { Database } from './database';

export interface SettingSpec<T> {
  default: T;
  /** Answers the value if acceptable; throws 1001 naming the setting otherwise. */
  check(value: unknown, key: string): T;
}

export type SettingSpecs<S> = { readonly [K in keyof S]: SettingSpec<S[K]> };

export const intSetting = (def: number, min: number, max: number): SettingSpec<number> => ({
  default: def,
  check: (v, key) => {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max)
      throw badParam(`${key} must be an integer from ${min} to ${max}`);
    return v;
  },
});

export const boolSetting = (def: boolean): SettingSpec<boolean> => ({
  default: def,
  check: (v, key) => {
    if (typeof v !== 'boolean') throw badParam(`${key} must be true or false`);
    return v;
  },
});

export const urlSetting = (def: string | null): SettingSpec<string | null> => ({
  default: def,
  check: (v, key) => {
    if (v === null) return null;
    if (typeof v !== 'string' || !URL.canParse(v)) throw badParam(`${key} must be a URL or null`);
    const p = new URL(v).protocol;
    if (p !== 'https:' && p !== 'http:') throw badParam(`${key} must be an http(s) URL`);
    return v;
  },
});

/** The agent's own settings. */
export interface AgentSettings {
  /** JSAPI port on 127.0.0.1 (contract §3). */
  jsapiPort: number;
  /** How long the signer has to approve a signature before 2004. */
  approvalTimeoutMs: number;
  /** The central platform's base URL. */
  platformUrl: string | null;
  /** How often the audit head is sealed when there are new entries. */
  auditSealIntervalMs: number;
  /** JSAPI requests per origin per minute before 1006 (bursts of two seconds' worth allowed). */
  rateLimitPerMinute: number;
  /** Whether the agent starts with the desktop session. */
  autoStart: boolean;
  /** File relay bandwidth cap in KiB/s for all transfers together (0 = none); applies live. */
  relayMaxKiBps: number;
}

export const AGENT_SETTINGS: SettingSpecs<AgentSettings> = {
  jsapiPort: intSetting(18788, 1024, 65535),
  approvalTimeoutMs: intSetting(60_000, 5_000, 600_000),
  platformUrl: urlSetting(null),
  auditSealIntervalMs: intSetting(300_000, 10_000, 86_400_000),
  rateLimitPerMinute: intSetting(1_200, 1, 60_000),
  autoStart: boolSetting(false),
  relayMaxKiBps: intSetting(0, 0, 4_194_304),
};

export class SettingsStore<S extends object> {
  constructor(
    private readonly db: Database,
    private readonly specs: SettingSpecs<S>,
  ) {}

  get<K extends keyof S & string>(key: K): S[K] {
    const spec = this.spec(key);
    const row = this.db
      .prepare<[string], { value: string }>('SELECT value FROM settings WHERE key = ?')
      .get(key);
    if (!row) return spec.default;
    let parsed: unknown;
    try {
      parsed = JSON.parse(row.value);
    } catch {
      throw badParam(`${key}: the stored value is not JSON`);
    }
    return spec.check(parsed, key);
  }

  set<K extends keyof S & string>(key: K, value: S[K], now = Date.now()): void {
    const v = this.spec(key).check(value, key);
    this.db
      .prepare(
        `INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
      )
      .run(key, JSON.stringify(v), now);
  }

  /** Sets from untyped input (CLI, UI): the key must be known and the value must pass its check. */
  setUnknown(key: string, value: unknown): void {
    if (!Object.prototype.hasOwnProperty.call(this.specs, key))
      throw badParam(`${key} is not a setting`);
    this.set(key as keyof S & string, value as S[keyof S & string]);
  }

  /** Back to the default. */
  reset(key: keyof S & string): void {
    this.spec(key);
    this.db.prepare('DELETE FROM settings WHERE key = ?').run(key);
  }

  /** Every setting, defaults filled in. */
  all(): S {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(this.specs)) out[key] = this.get(key as keyof S & string);
    return out as S;
  }

  private spec<K extends keyof S>(key: K): SettingSpec<S[K]> {
    if (!Object.prototype.hasOwnProperty.call(this.specs, key))
      throw badParam(`${String(key)} is not a setting`);
    return this.specs[key];
  }
}
