// Distinguished names: subject strings in, X.509 Names out, and back.
//
// Text form (what `formatName` writes and what `parseName` reads by default) is RFC 4514:
// most-specific RDN first, `,` between RDNs and `+` inside a multi-valued RDN, e.g.
// `CN=张三,O=Example Bank,OU=Ops,C=CN`. That is the order `openssl x509 -nameopt RFC2253` prints;
// the DER holds the reverse (C first). Non-ASCII text is written as-is (UTF-8), never \XX-escaped,
// so Chinese names round-trip. The OpenSSL `-subj` form `/C=CN/O=.../CN=...` (DER order) is also read.
import {
  AttributeTypeAndValue,
  AttributeValue,
  Name,
  RelativeDistinguishedName,
} from '@peculiar/asn1-x509';
import { badParam } from '../../common/errors';
import { parseDer, serialize, toArrayBuffer, toBuffer } from './asn1';
import { pkcs9Oids } from './oids';

type StringKind = 'utf8' | 'printable' | 'ia5';

interface AttrDef {
  short: string;
  oid: string;
  kind: StringKind;
}

// Keywords accepted when parsing (case-insensitive) and used when formatting.
const ATTRS: readonly AttrDef[] = [
  { short: 'CN', oid: '2.5.4.3', kind: 'utf8' },
  { short: 'SN', oid: '2.5.4.4', kind: 'utf8' },
  { short: 'SERIALNUMBER', oid: '2.5.4.5', kind: 'printable' },
  { short: 'C', oid: '2.5.4.6', kind: 'printable' },
  { short: 'L', oid: '2.5.4.7', kind: 'utf8' },
  { short: 'ST', oid: '2.5.4.8', kind: 'utf8' },
  { short: 'STREET', oid: '2.5.4.9', kind: 'utf8' },
  { short: 'O', oid: '2.5.4.10', kind: 'utf8' },
  { short: 'OU', oid: '2.5.4.11', kind: 'utf8' },
  { short: 'title', oid: '2.5.4.12', kind: 'utf8' },
  { short: 'GN', oid: '2.5.4.42', kind: 'utf8' },
  { short: 'emailAddress', oid: pkcs9Oids.emailAddress, kind: 'ia5' },
  { short: 'DC', oid: '0.9.2342.19200300.100.1.25', kind: 'ia5' },
  { short: 'UID', oid: '0.9.2342.19200300.100.1.1', kind: 'utf8' },
];
const ALIASES: Readonly<Record<string, string>> = {
  E: 'emailAddress',
  EMAIL: 'emailAddress',
  S: 'ST',
  SERIAL: 'SERIALNUMBER',
  GIVENNAME: 'GN',
  SURNAME: 'SN',
};
const byShort = new Map(ATTRS.map((a) => [a.short.toUpperCase(), a]));
const byOid = new Map(ATTRS.map((a) => [a.oid, a]));

/** The field names `nameFields` reports (other attributes appear under their dotted OID). */
export type NameField = 'CN' | 'O' | 'OU' | 'C' | 'ST' | 'L' | 'SERIALNUMBER' | 'emailAddress';

const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;
const IA5 = /^[\x00-\x7f]*$/;

interface RawAva {
  type: string;
  value: string;
  /** Set when the value was given as `#hex` (raw DER of the value). */
  der?: Buffer;
}

/**
 * Parses `CN=张三,O=Example Bank,C=CN` (RFC 4514, most-specific first) or `/C=CN/O=.../CN=...`
 * (OpenSSL `-subj`, DER order) into a Name. Throws BAD_PARAM on anything it cannot read.
 */
export function parseName(text: string): Name {
  const trimmed = text.trim();
  if (trimmed === '') throw badParam('empty distinguished name');
  const slashForm = trimmed.startsWith('/');
  const rdns = splitRdns(slashForm ? trimmed.slice(1) : trimmed, slashForm ? '/' : ',');
  if (!slashForm) rdns.reverse();
  return new Name(
    // A multi-valued RDN is a SET OF: DER orders it by encoding (X.690 §11.6).
    rdns.map(
      (avas) =>
        new RelativeDistinguishedName(
          avas
            .map((a) => typeAndValue(a))
            .sort((x, y) => Buffer.compare(serialize(x), serialize(y))),
        ),
    ),
  );
}

/** RFC 4514 text of a Name, most-specific RDN first (see the file comment). */
export function formatName(name: Name): string {
  return [...name]
    .reverse()
    .map((rdn) => rdn.map((atv) => `${attrLabel(atv.type)}=${escapeValue(atv)}`).join('+'))
    .join(',');
}

/**
 * Field name → value. A repeated attribute (two OUs, say) reports the most specific one, the one
 * `formatName` prints first; the full list is in `formatName`.
 */
export function nameFields(name: Name): Record<string, string> {
  const out: Record<string, string> = {};
  for (const rdn of [...name].reverse())
    for (const atv of rdn) {
      const key = attrLabel(atv.type);
      if (!(key in out)) out[key] = valueText(atv.value);
    }
  return out;
}

export const nameToDer = (name: Name): Buffer => serialize(name);
export const nameFromDer = (der: Uint8Array): Name => parseDer(der, Name, 'distinguished name');

/** Same DER bytes. (X.500 matching rules are looser; issuers we meet re-use the exact bytes.) */
export const namesEqual = (a: Name, b: Name): boolean => nameToDer(a).equals(nameToDer(b));

/** Accepts either a Name or a subject string. */
export const toName = (n: string | Name): Name => (typeof n === 'string' ? parseName(n) : n);

function attrLabel(oid: string): string {
  return byOid.get(oid)?.short ?? oid;
}

function valueText(v: AttributeValue): string {
  const s =
    v.utf8String ??
    v.printableString ??
    v.ia5String ??
    v.bmpString ??
    v.universalString ??
    v.teletexString;
  if (s !== undefined) return s;
  return v.anyValue ? '#' + toBuffer(v.anyValue).toString('hex') : '';
}

function escapeValue(atv: AttributeTypeAndValue): string {
  const text = valueText(atv.value);
  if (text.startsWith('#') && atv.value.anyValue) return text;
  let out = text.replace(/[\\,+"<>;]/g, (c) => '\\' + c).replace(/\0/g, '\\00');
  if (out.startsWith('#') || out.startsWith(' ')) out = '\\' + out;
  if (out.endsWith(' ') && !out.endsWith('\\ ')) out = out.slice(0, -1) + '\\ ';
  return out;
}

function typeAndValue(a: RawAva): AttributeTypeAndValue {
  const key = a.type.trim();
  const def = /^\d+(\.\d+)+$/.test(key)
    ? (byOid.get(key) ?? { short: key, oid: key, kind: 'utf8' as const })
    : byShort.get((ALIASES[key.toUpperCase()] ?? key).toUpperCase());
  if (!def) throw badParam(`unknown attribute type in distinguished name: ${key}`);
  if (a.der) {
    return new AttributeTypeAndValue({
      type: def.oid,
      value: new AttributeValue({ anyValue: toArrayBuffer(a.der) }),
    });
  }
  if (a.value === '') throw badParam(`empty value for ${def.short}`);
  let value: AttributeValue;
  if (def.kind === 'printable') {
    if (!PRINTABLE.test(a.value)) throw badParam(`${def.short} must be printable ASCII`);
    if (def.short === 'C' && a.value.length !== 2)
      throw badParam('C must be a two-letter country code');
    value = new AttributeValue({ printableString: a.value });
  } else if (def.kind === 'ia5') {
    if (!IA5.test(a.value)) throw badParam(`${def.short} must be ASCII`);
    value = new AttributeValue({ ia5String: a.value });
  } else {
    value = new AttributeValue({ utf8String: a.value });
  }
  return new AttributeTypeAndValue({ type: def.oid, value });
}

/** Splits on unescaped separators, resolving `\c` and `\XX` escapes (hex pairs are UTF-8 octets). */
function splitRdns(text: string, rdnSep: string): RawAva[][] {
  const rdns: RawAva[][] = [];
  let avas: RawAva[] = [];
  let type = '';
  let inValue = false;
  let bytes: number[] = [];
  let keep = 0; // bytes.length up to the last escaped or non-space char: unescaped trailing spaces drop
  let hexForm = false; // the value began with an unescaped '#'
  const finishAva = (): void => {
    if (!inValue) {
      if (type.trim() === '' && avas.length === 0) return; // tolerate a leading/trailing separator
      throw badParam(`missing '=' in distinguished name near "${type.trim()}"`);
    }
    const value = Buffer.from(bytes.slice(0, keep)).toString('utf8');
    const ava: RawAva = { type, value };
    if (hexForm) {
      if (!/^#([0-9a-fA-F]{2})+$/.test(value)) throw badParam(`bad #hex value for ${type.trim()}`);
      ava.der = Buffer.from(value.slice(1), 'hex');
    }
    avas.push(ava);
    type = '';
    inValue = false;
    bytes = [];
    keep = 0;
    hexForm = false;
  };
  const push = (octets: Iterable<number>, significant: boolean): void => {
    for (const b of octets) bytes.push(b);
    if (significant) keep = bytes.length;
  };
  const chars = Array.from(text); // code points, so astral characters stay whole
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (c === '\\') {
      const hex = chars.slice(i + 1, i + 3).join('');
      const next = chars[i + 1];
      if (next === undefined) throw badParam('distinguished name ends with a lone backslash');
      const octets = /^[0-9a-fA-F]{2}$/.test(hex) ? [parseInt(hex, 16)] : Buffer.from(next, 'utf8');
      i += /^[0-9a-fA-F]{2}$/.test(hex) ? 2 : 1;
      if (inValue) push(octets, true);
      else type += Buffer.from(octets).toString('latin1');
      continue;
    }
    if (!inValue && c === '=') {
      inValue = true;
      continue;
    }
    if (c === rdnSep || c === '+') {
      finishAva();
      if (c === rdnSep && avas.length > 0) {
        rdns.push(avas);
        avas = [];
      }
      continue;
    }
    if (!inValue) {
      type += c;
      continue;
    }
    if (c === ' ' && bytes.length === 0) continue; // unescaped leading spaces drop
    if (c === '#' && bytes.length === 0) hexForm = true;
    push(Buffer.from(c, 'utf8'), c !== ' ');
  }
  finishAva();
  if (avas.length > 0) rdns.push(avas);
  if (rdns.length === 0) throw badParam('empty distinguished name');
  return rdns;
}
