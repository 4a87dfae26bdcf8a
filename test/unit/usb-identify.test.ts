import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { enumerateHid, identifyUsbKeys } from '../../main/core/token/usb-identify';
import { builtinProfiles, parseVendorProfile } from '../../main/core/token/vendor-profile';

const acme = parseVendorProfile({
  id: 'acme',
  name: 'ACME SM2 UKey',
  libraryPaths: {},
  usb: [
    { vendorId: '0x1234', productId: '0x5678', model: 'K3' },
    { vendorId: '0x1234', productId: '0x9999' },
  ],
});

describe('USB identification of plugged keys', () => {
  it('node-hid loads on this machine and answers a device list (no USB keys here)', () => {
    assert.ok(Array.isArray(enumerateHid()));
  });

  it('names a key by its USB ids, once per device, and ignores other HID devices', () => {
    const found = identifyUsbKeys(
      [...builtinProfiles, acme],
      [
        { vendorId: 0x1234, productId: 0x5678, product: 'ACME Key', serialNumber: 'A1' },
        { vendorId: 0x1234, productId: 0x5678, product: 'ACME Key', serialNumber: 'A1' },
        { vendorId: 0x1234, productId: 0x9999, serialNumber: 'B2' },
        { vendorId: 0x046d, productId: 0xc077, product: 'USB mouse' },
      ],
    );
    assert.deepEqual(
      found.map((k) => [k.vendorId, k.productId, k.profile?.id, k.model]),
      [
        ['0x1234', '0x5678', 'acme', 'K3'],
        ['0x1234', '0x9999', 'acme', undefined],
      ],
    );
  });

  it('refuses a profile with a bad USB id, naming the field', () => {
    assert.throws(
      () => parseVendorProfile({ id: 'x', name: 'X', libraryPaths: {}, usb: [{ vendorId: 'zz' }] }),
      /usb\[0\]\.vendorId/,
    );
    assert.throws(
      () => parseVendorProfile({ id: 'Bad Id', name: 'X', libraryPaths: {} }),
      /id must be/,
    );
    assert.throws(
      () => parseVendorProfile({ id: 'x', name: 'X', libraryPaths: { linux: 'nope' } }),
      /libraryPaths\.linux/,
    );
  });
});
