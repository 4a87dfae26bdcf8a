// The canonical string of CONTRACT §1, in one place for the agent (main/core/platform/canonical.ts)
// and the browser SDK (sdk/jsapi-client): pure, no Node APIs (TextEncoder, not Buffer).

const encoder = new TextEncoder();

/** A field's problem as its caller's own error: the agent's AgentError or the SDK's, both 1001. */
export type UnsignableField = (message: string) => Error;

interface Part {
  key: string;
  value: string;
  /** No UTF-16 surrogates in the key: its UTF-16 order is its UTF-8 byte order. */
  plain: boolean;
  bytes?: Uint8Array;
}

const SURROGATE = /[\uD800-\uDFFF]/;

function utf8Of(p: Part): Uint8Array {
  if (!p.bytes) p.bytes = encoder.encode(p.key);
  return p.bytes;
}

// UTF-8 byte order, which differs from JS's UTF-16 order for characters above U+FFFF (and lone
// surrogates, which UTF-8 writes as U+FFFD): only keys holding surrogates need encoding.
function compareKeys(a: Part, b: Part): number {
  if (a.plain && b.plain) return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
  const x = utf8Of(a);
  const y = utf8Of(b);
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length;
}

/** A scalar as the canonical string writes it; `unsignable` for anything that has no such form. */
function canonicalValue(key: string, value: unknown, unsignable: UnsignableField): string {
  switch (typeof value) {
    case 'string':
      return value;
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      return value.toString(10);
    case 'number': {
      if (!Number.isFinite(value)) throw unsignable(`field ${key} must be a finite number`);
      const text = String(value === 0 ? 0 : value); // -0 prints as 0
      // Two implementations must produce the same bytes: no exponent form, ever.
      if (/e/i.test(text)) throw unsignable(`field ${key} is too large or too small to sign`);
      return text;
    }
    case 'object':
      throw unsignable(`field ${key} must be a scalar: nested objects and arrays cannot be signed`);
    default:
      throw unsignable(`field ${key} has a type that cannot be signed`);
  }
}

/**
 * The canonical string of a request (CONTRACT §1): top-level fields except `sign`, without
 * null/undefined/'' values, keys sorted by their UTF-8 bytes, `key=value` joined by `&`. Fields
 * that cannot be signed throw `unsignable(message)`.
 */
export function canonicalStringOf(
  fields: Readonly<Record<string, unknown>>,
  unsignable: UnsignableField,
): string {
  const parts: Part[] = [];
  for (const [key, value] of Object.entries(fields)) {
    if (key === 'sign' || value === null || value === undefined || value === '') continue;
    // A key holding `=` or `&` would make two different requests share one canonical string.
    if (key === '' || /[=&]/.test(key)) throw unsignable(`field name "${key}" cannot be signed`);
    const text = canonicalValue(key, value, unsignable);
    parts.push({ key, value: text, plain: !SURROGATE.test(key) });
  }
  parts.sort(compareKeys);
  return parts.map((p) => `${p.key}=${p.value}`).join('&');
}
