import type { VendorProfile } from './vendor-profile';

/** A USB HID device as node-hid describes it (the fields the agent uses). */
export interface HidDeviceRecord {
  vendorId: number;
  productId: number;
  manufacturer?: string;
  product?: string;
  serialNumber?: string;
}

export interface UsbKey {
  vendorId: string;
  productId: string;
  manufacturer?: string;
  product?: string;
  serialNumber?: string;
  /** The vendor profile whose USB ids match, when one does. */
  profile?: { id: string; name: string };
  model?: string;
}

const hex4 = (n: number): string => '0x' + n.toString(16).padStart(4, '0');

/** node-hid's device list, or none when the native module cannot load on this machine. */
export function enumerateHid(): HidDeviceRecord[] {
  try {
    // Loaded lazily: the agent must start (and sign) even where libusb/hidraw is unavailable.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const hid = require('node-hid') as { devices(): HidDeviceRecord[] };
    return hid.devices();
  } catch {
    return [];
  }
}

/**
 * Names plugged UKeys by their USB ids before (or without) loading a vendor module: the key a user
 * plugs in shows up with its vendor even when no PKCS#11 library for it is configured yet.
 */
export function identifyUsbKeys(
  profiles: readonly VendorProfile[],
  devices: HidDeviceRecord[] = enumerateHid(),
): UsbKey[] {
  const seen = new Set<string>();
  const out: UsbKey[] = [];
  for (const d of devices) {
    const match = profiles
      .flatMap((p) => p.usb.map((u) => ({ p, u })))
      .find(
        ({ u }) =>
          u.vendorId === d.vendorId && (u.productId === undefined || u.productId === d.productId),
      );
    if (!match) continue;
    // One key exposes several HID interfaces: report it once.
    const key = `${d.vendorId}:${d.productId}:${d.serialNumber ?? ''}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({
      vendorId: hex4(d.vendorId),
      productId: hex4(d.productId),
      manufacturer: d.manufacturer,
      product: d.product,
      serialNumber: d.serialNumber,
      profile: { id: match.p.id, name: match.p.name },
      model: match.u.model,
    });
  }
  return out;
}
