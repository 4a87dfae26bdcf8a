// Canonical JSON as in RFC 8785 (JCS): object members sorted by their keys' UTF-16 code units,
// no whitespace, strings and numbers serialised as ECMAScript's JSON.stringify does. The audit
// chain hashes these bytes, so any implementation of JCS recomputes the same hashes.
import { badParam } from '../../common/errors';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [k: string]: JsonValue };

export function canonicalJson(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw badParam('canonical JSON has no NaN or Infinity');
      return JSON.stringify(value);
    case 'string':
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
      const obj = value as Record<string, unknown>;
      // Default sort compares UTF-16 code units, which is what JCS asks for.
      const keys = Object.keys(obj)
        .filter((k) => obj[k] !== undefined)
        .sort();
      return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
    }
    default:
      throw badParam(`canonical JSON cannot carry a ${typeof value}`);
  }
}
