// Strict parsing of compact JWS (RFC 7515 §7.1) and the registered-claim checks of RFC 7519,
// done synchronously in the calling thread. tokens.ts uses them for every algorithm, so a
// token is refused the same way whichever key it names; hs256.ts adds the signature.
//
// The claim checks reproduce jose's `jwtVerify` for the options the service uses (issuer,
// currentDate, clockTolerance) decision for decision — the HS256 fast path must accept and
// refuse exactly what jose did (test/unit/tokens-interop.test.ts holds them side by side).

/** Characters of the base64url alphabet (RFC 4648 §5), without padding. */
const B64URL = /^[A-Za-z0-9_-]+$/;

// fatal: invalid UTF-8 is an error, not U+FFFD (as jose's strictDecoder); a BOM is dropped as there.
const utf8 = new TextDecoder('utf-8', { fatal: true });

export interface CompactParts {
  /** The encoded segments, as they appear in the token. */
  header: string;
  payload: string;
  signature: string;
  /** `header.payload`: the bytes the signature covers. */
  signingInput: string;
}

/**
 * Exactly three non-empty segments of the base64url alphabet, no padding, no whitespace.
 * (jose on Node 20 decodes with `atob`, which also takes `=` padding and spaces in the
 * signature segment; a valid token is never written that way, so refusing them costs nothing
 * and leaves each token one spelling.)
 */
export function splitCompact(token: string): CompactParts | null {
  const d1 = token.indexOf('.');
  if (d1 <= 0) return null;
  const d2 = token.indexOf('.', d1 + 1);
  if (d2 < 0 || d2 === d1 + 1 || d2 === token.length - 1 || token.indexOf('.', d2 + 1) >= 0) return null;
  const header = token.slice(0, d1);
  const payload = token.slice(d1 + 1, d2);
  const signature = token.slice(d2 + 1);
  if (!B64URL.test(header) || !B64URL.test(payload) || !B64URL.test(signature)) return null;
  // A length of 4k+1 is not base64 at all (6 bits cannot end a byte); Buffer would drop them.
  if (header.length % 4 === 1 || payload.length % 4 === 1 || signature.length % 4 === 1) return null;
  return { header, payload, signature, signingInput: token.slice(0, d2) };
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A segment (already alphabet-checked) decoded to a top-level JSON object, or null. */
export function decodeJsonObject(segment: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(utf8.decode(Buffer.from(segment, 'base64url')));
    return isPlainObject(value) ? value : null;
  } catch {
    return null;
  }
}

/** base64url of the UTF-8 JSON of `value`, as jose writes header and payload. */
export const encodeJson = (value: object): string => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');

export interface ClaimCheck {
  issuer: string;
  /** The injected clock's now, in ms (jose's `currentDate`). */
  now: number;
  /** Seconds of leeway for exp and nbf (jose's `clockTolerance`). */
  tolerance: number;
}

/**
 * jose `validateClaimsSet` with { issuer, currentDate, clockTolerance }: `iss` present and
 * equal; iat/nbf/exp, when present, numbers; nbf ≤ now + tolerance; exp > now − tolerance.
 * A bad tolerance or clock is a programming error and throws, as in jose.
 */
export function registeredClaimsValid(claims: Record<string, unknown>, c: ClaimCheck): boolean {
  if (!Number.isFinite(c.tolerance) || c.tolerance < 0) throw new TypeError('Invalid clockTolerance option input');
  const now = Math.floor(new Date(c.now).getTime() / 1000);
  if (!Number.isFinite(now)) throw new TypeError('Invalid currentDate option input');
  if (!Object.hasOwn(claims, 'iss') || claims.iss !== c.issuer) return false;
  const { iat, nbf, exp } = claims;
  if (iat !== undefined && typeof iat !== 'number') return false;
  if (nbf !== undefined && (typeof nbf !== 'number' || nbf > now + c.tolerance)) return false;
  if (exp !== undefined && (typeof exp !== 'number' || exp <= now - c.tolerance)) return false;
  return true;
}
