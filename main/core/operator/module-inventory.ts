/**
 * The operator's read-only view of what the token service loaded at start: every PKCS#11 module
 * (loaded, or auto-discovered and skipped with the reason) and every vendor profile in effect,
 * built-in or the operator's own. Paths are of the agent's own machine, shown to its operator only.
 */
import type { ModulesView, PlatformView, VendorProfileView } from '../../common/operator-api';
import { parseCertificatePemOrDer } from '../pki/certificate';
import type { TokenService } from '../token/token-service';
import { appRoot, builtinProfiles, resolveLibraryPath } from '../token/vendor-profile';
import type { VendorProfile } from '../token/vendor-profile';

export type ModuleSource = Pick<TokenService, 'modules' | 'failures' | 'profiles' | 'profileDir'>;

const profileView = (p: VendorProfile): VendorProfileView => {
  const library = resolveLibraryPath(p);
  return {
    id: p.id,
    name: p.name,
    source: builtinProfiles.includes(p) ? 'builtin' : 'operator',
    development: p.development,
    ...(library ? { library } : {}),
    libraryPaths: (p.libraryPaths[process.platform] ?? []).map((raw) =>
      raw.replace('${appRoot}', appRoot()),
    ),
    usb: p.usb.map((u) => ({
      vendorId: u.vendorId,
      ...(u.productId !== undefined ? { productId: u.productId } : {}),
      ...(u.model !== undefined ? { model: u.model } : {}),
    })),
    sm2: p.sm2 !== undefined,
    ...(p.pinTries !== undefined ? { pinTries: p.pinTries } : {}),
  };
};

export function moduleInventory(tokens: ModuleSource): ModulesView {
  const loaded = tokens.modules.map((m) => {
    let manufacturer: string | undefined;
    try {
      manufacturer = m.manufacturer;
    } catch {
      /* C_GetInfo failed: show the module without it */
    }
    return {
      path: m.path,
      loaded: true,
      profileId: m.profile.id,
      ...(manufacturer ? { manufacturer } : {}),
    };
  });
  const skipped = tokens.failures.map((f) => ({
    path: f.path,
    loaded: false,
    profileId: f.profileId,
    error: f.error,
  }));
  return {
    modules: [...loaded, ...skipped],
    profiles: tokens.profiles.map(profileView),
    profileDir: tokens.profileDir ?? null,
  };
}

/** The platform view from what the operator stack holds (a certificate that does not parse is left out). */
export function platformView(o: {
  connected: boolean;
  reason?: string;
  url: string | null;
  appId?: string;
  certificate?: Uint8Array;
}): PlatformView {
  let certificate: PlatformView['certificate'];
  if (o.certificate) {
    try {
      const c = parseCertificatePemOrDer(o.certificate);
      certificate = {
        subject: c.subject,
        issuer: c.issuer,
        serialNumberHex: c.serialNumberHex,
        notBefore: c.notBefore.getTime(),
        notAfter: c.notAfter.getTime(),
        sha256: c.fingerprints.sha256,
      };
    } catch {
      /* a bare key, not a certificate */
    }
  }
  return {
    connected: o.connected,
    ...(!o.connected && o.reason ? { reason: o.reason } : {}),
    url: o.url,
    ...(o.appId ? { appId: o.appId } : {}),
    ...(certificate ? { certificate } : {}),
  };
}
