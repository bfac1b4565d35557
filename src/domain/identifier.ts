// Identifier and brand-name normalisation (spec §1.1, §8). Every lookup, uniqueness check and
// token claim uses the normalised form, so two spellings of one phone number or one address
// are one customer. A value that cannot be normalised is a body-shape error: 1519.

import { AuthError } from './errors.ts';
import { IDENTIFIER_TYPES } from './types.ts';
import type { Identifier, IdentifierType } from './types.ts';

const invalid = (): never => {
  throw new AuthError(1519);
};

// Only the separators people actually type; anything else (letters, `/`, `#`) is refused rather
// than silently dropped, so "call 99999" never becomes a number.
const MOBILE_SEPARATORS = /[ .()-]/g;
const MOBILE_DIGITS = /^[0-9]{6,15}$/; // E.164 allows at most 15 digits
const USERNAME = /^[A-Za-z0-9._-]{3,64}$/;
const BRAND_NAME = /^[A-Za-z0-9._-]{1,64}$/;

function normaliseMobile(raw: string): string {
  let v = raw.trim().replace(MOBILE_SEPARATORS, '');
  // Separators go first so "(+91) 99999…" loses its `+` too; only one `+` goes, so "++91…" fails.
  if (v.startsWith('+')) v = v.slice(1);
  return MOBILE_DIGITS.test(v) ? v : invalid();
}

// Deliberately loose (no RFC 5322 parser): it only has to catch values that are obviously not an
// address; whether the mailbox exists is what the OTP proves.
function normaliseEmail(raw: string): string {
  const v = raw.trim().toLowerCase();
  if (v.length > 254 || /[\s\x00-\x1f\x7f]/.test(v)) return invalid();
  const parts = v.split('@');
  if (parts.length !== 2) return invalid();
  const [local, domain] = parts as [string, string];
  if (local === '') return invalid();
  // At least two labels and no empty label: "a@b", "a@.b", "a@b." and "a@b..c" are refused.
  const labels = domain.split('.');
  if (labels.length < 2 || labels.some((l) => l === '')) return invalid();
  return v;
}

function normaliseUsername(raw: string): string {
  const v = raw.trim();
  // Lower-cased because usernames compare case-insensitively (spec §1.1): "Alice" and "alice" are one login.
  return USERNAME.test(v) ? v.toLowerCase() : invalid();
}

export function normaliseIdentifier(type: IdentifierType, raw: string): string {
  // Callers pass JSON input; a non-string must be 1519, not a TypeError (a 500).
  if (typeof raw !== 'string') return invalid();
  switch (type) {
    case 'MOBILE':
      return normaliseMobile(raw);
    case 'EMAIL':
      return normaliseEmail(raw);
    case 'USERNAME':
      return normaliseUsername(raw);
    default:
      return invalid();
  }
}

/** `identifierType` is case-insensitive (spec §1.1); null means "not a type" and the caller answers 1546. */
export function parseIdentifierType(raw: unknown): IdentifierType | null {
  if (typeof raw !== 'string') return null;
  const up = raw.toUpperCase();
  return (IDENTIFIER_TYPES as readonly string[]).includes(up) ? (up as IdentifierType) : null;
}

/** Brand names are case-insensitive and stored upper-cased (`DocDemo` → `DOCDEMO`). */
export function normaliseBrandName(raw: string): string {
  // No trimming: the name arrives in URL paths and token claims, where a space is a different name.
  if (typeof raw !== 'string' || !BRAND_NAME.test(raw)) return invalid();
  return raw.toUpperCase();
}

/** Parses `TYPE|value` (testOtps keys, outbox filters); the value is normalised for its type. */
export function parseIdentifierKey(key: string): Identifier {
  if (typeof key !== 'string') return invalid();
  const bar = key.indexOf('|');
  if (bar < 0) return invalid();
  const type = parseIdentifierType(key.slice(0, bar));
  if (type === null) return invalid();
  return { type, value: normaliseIdentifier(type, key.slice(bar + 1)) };
}
