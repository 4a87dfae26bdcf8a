// Certificate serial numbers as the platform's certNumber/certCode fields carry them.

/**
 * A serial in one canonical form: lowercase hex of its magnitude's octets, without leading zero
 * octets (as parseCertificate's serialNumberHex writes it). `00AB`, `ab` and `0ab` are one serial.
 */
export function normaliseSerial(hex: string): string {
  let h = hex.toLowerCase();
  if (h.length % 2 === 1) h = `0${h}`;
  while (h.length > 2 && h.startsWith('00')) h = h.slice(2);
  return h;
}
