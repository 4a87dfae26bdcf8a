import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { badParam } from '../../common/errors';
import softukeyProfile from './profiles/softukey.json';
import softhsmProfile from './profiles/softhsm2.json';

/**
 * What the agent must know about one vendor's PKCS#11 module. PKCS#11 defines no SM2 constants, so
 * every vendor's values come from here (CONTRACT.md §5); the format is documented in
 * docs/VENDOR-PROFILES.md so an operator can add a real vendor's profile as a JSON file.
 */
export interface Sm2Constants {
  keyType: number;
  keyPairGen?: number;
  /** Signs a precomputed 32-byte e, answers raw r‖s (CKM_SM2 in the common family). */
  signDigestRaw?: number;
  /** Signs a precomputed 32-byte e, answers DER. */
  signDigestDer?: number;
  /** SM2-with-SM3 over a message with the ID as parameter, raw r‖s. */
  signMessageRaw?: number;
  signMessageDer?: number;
  sm3?: number;
}

export interface VendorProfile {
  id: string;
  name: string;
  /** A development/test token: the product labels it as such wherever it shows it. */
  development: boolean;
  libraryPaths: Partial<Record<NodeJS.Platform, string[]>>;
  /** How a token is recognised as this vendor's when several modules are loaded. */
  match?: { manufacturerPrefix?: string };
  sm2?: Sm2Constants;
  /** How many wrong user PINs lock the key (PKCS#11 itself only reports flags). */
  pinTries?: number;
  /**
   * Where the module exposes its exact PIN retry counter: a vendor hardware-feature object
   * (CKO_HW_FEATURE of this CKA_HW_FEATURE_TYPE) with the tries left in a vendor attribute.
   */
  pinCounter?: { hwFeatureType: number; userTriesLeftAttribute: number };
  usb: { vendorId: number; productId?: number; model?: string }[];
}

const num = (v: unknown, where: string): number => {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v;
  if (typeof v === 'string' && /^(0x[0-9a-fA-F]+|\d+)$/.test(v)) return Number(v);
  throw badParam(`vendor profile: ${where} must be a non-negative integer or a 0x… hex string`);
};

const optNum = (v: unknown, where: string): number | undefined =>
  v === undefined ? undefined : num(v, where);

/** Validates a profile read from JSON; throws 1001 naming the first bad field. */
export function parseVendorProfile(raw: unknown, source = 'profile'): VendorProfile {
  if (!raw || typeof raw !== 'object') throw badParam(`${source}: not a JSON object`);
  const o = raw as Record<string, unknown>;
  if (typeof o.id !== 'string' || !/^[a-z0-9][a-z0-9._-]{0,63}$/.test(o.id)) {
    throw badParam(`${source}: id must be lowercase letters, digits, '.', '_' or '-'`);
  }
  if (typeof o.name !== 'string' || !o.name) throw badParam(`${source}: name is required`);
  if (!o.libraryPaths || typeof o.libraryPaths !== 'object') {
    throw badParam(
      `${source}: libraryPaths must map an OS (linux, win32, darwin) to a list of paths`,
    );
  }
  const libraryPaths: VendorProfile['libraryPaths'] = {};
  for (const [os, paths] of Object.entries(o.libraryPaths as Record<string, unknown>)) {
    if (!Array.isArray(paths) || !paths.every((p) => typeof p === 'string')) {
      throw badParam(`${source}: libraryPaths.${os} must be a list of strings`);
    }
    libraryPaths[os as NodeJS.Platform] = paths as string[];
  }
  let sm2: Sm2Constants | undefined;
  if (o.sm2 !== undefined) {
    const s = o.sm2 as Record<string, unknown>;
    sm2 = {
      keyType: num(s.keyType, 'sm2.keyType'),
      keyPairGen: optNum(s.keyPairGen, 'sm2.keyPairGen'),
      signDigestRaw: optNum(s.signDigestRaw, 'sm2.signDigestRaw'),
      signDigestDer: optNum(s.signDigestDer, 'sm2.signDigestDer'),
      signMessageRaw: optNum(s.signMessageRaw, 'sm2.signMessageRaw'),
      signMessageDer: optNum(s.signMessageDer, 'sm2.signMessageDer'),
      sm3: optNum(s.sm3, 'sm2.sm3'),
    };
  }
  const usb = Array.isArray(o.usb)
    ? o.usb.map((u, i) => {
        const e = u as Record<string, unknown>;
        return {
          vendorId: num(e.vendorId, `usb[${i}].vendorId`),
          productId: optNum(e.productId, `usb[${i}].productId`),
          model: typeof e.model === 'string' ? e.model : undefined,
        };
      })
    : [];
  const match = o.match as { manufacturerPrefix?: unknown } | undefined;
  return {
    id: o.id,
    name: o.name,
    development: o.development === true,
    libraryPaths,
    match:
      typeof match?.manufacturerPrefix === 'string'
        ? { manufacturerPrefix: match.manufacturerPrefix }
        : undefined,
    sm2,
    pinTries: optNum(o.pinTries, 'pinTries'),
    pinCounter:
      o.pinCounter === undefined
        ? undefined
        : {
            hwFeatureType: num(
              (o.pinCounter as Record<string, unknown>).hwFeatureType,
              'pinCounter.hwFeatureType',
            ),
            userTriesLeftAttribute: num(
              (o.pinCounter as Record<string, unknown>).userTriesLeftAttribute,
              'pinCounter.userTriesLeftAttribute',
            ),
          },
    usb,
  };
}

export const builtinProfiles: readonly VendorProfile[] = [
  parseVendorProfile(softukeyProfile, 'builtin softukey'),
  parseVendorProfile(softhsmProfile, 'builtin softhsm2'),
];

/** The project root (where native/ lives), from dist/main/core/token or main/core/token. */
export function appRoot(): string {
  let dir = resolve(__dirname);
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'native'))) return dir;
    dir = resolve(dir, '..');
  }
  return resolve(__dirname, '..', '..', '..');
}

/** Operator-supplied profiles: every *.json in dir, validated; later ones override built-ins by id. */
export function loadProfiles(dir?: string): VendorProfile[] {
  const byId = new Map(builtinProfiles.map((p) => [p.id, p]));
  if (dir && existsSync(dir)) {
    for (const f of readdirSync(dir)
      .filter((n) => n.endsWith('.json'))
      .sort()) {
      let json: unknown;
      try {
        json = JSON.parse(readFileSync(join(dir, f), 'utf8'));
      } catch {
        throw badParam(`vendor profile ${f}: not valid JSON`);
      }
      const p = parseVendorProfile(json, `vendor profile ${f}`);
      byId.set(p.id, p);
    }
  }
  return [...byId.values()];
}

/** The first existing library path of a profile on this OS. */
export function resolveLibraryPath(
  p: VendorProfile,
  platform: NodeJS.Platform = process.platform,
): string | undefined {
  for (const raw of p.libraryPaths[platform] ?? []) {
    const path = raw.replace('${appRoot}', appRoot());
    if (existsSync(path)) return path;
  }
  return undefined;
}

/** The profile a module path belongs to: by path match, else by manufacturer, else a generic one. */
export function profileForModule(
  modulePath: string,
  profiles: readonly VendorProfile[],
  manufacturer?: string,
): VendorProfile {
  const abs = resolve(modulePath);
  for (const p of profiles) {
    for (const raw of p.libraryPaths[process.platform] ?? []) {
      if (resolve(raw.replace('${appRoot}', appRoot())) === abs) return p;
    }
  }
  if (manufacturer) {
    const m = profiles.find(
      (p) => p.match?.manufacturerPrefix && manufacturer.startsWith(p.match.manufacturerPrefix),
    );
    if (m) return m;
  }
  // An unknown module: RSA/EC work by the standard; SM2 is assumed to follow the common family.
  const base = profiles.find((p) => p.id === 'softukey');
  return {
    id: 'generic',
    name: 'Generic PKCS#11 module',
    development: false,
    libraryPaths: {},
    sm2: base?.sm2,
    usb: [],
  };
}
