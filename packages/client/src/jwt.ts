// Reads the payload of a JWS compact token, without verifying it: the client only needs `iat`
// and `exp` to know when to renew (the server verifies every token it is shown). Decoded by
// hand because neither Buffer (Node only) nor atob (missing on older React Native) is everywhere.

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** base64url (no padding) → bytes; null on a character outside the alphabet. */
function base64UrlBytes(s: string): number[] | null {
  const bytes: number[] = [];
  let bits = 0;
  let acc = 0;
  for (const ch of s.replace(/=+$/, '')) {
    const v = ALPHABET.indexOf(ch === '+' ? '-' : ch === '/' ? '_' : ch);
    if (v < 0) return null;
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes.push((acc >> bits) & 0xff);
    }
  }
  return bytes;
}

/** The token's payload claims, or null when it is not a readable JWS. */
export function jwtPayload(token: string): Record<string, unknown> | null {
  const part = token.split('.')[1];
  if (part === undefined) return null;
  const bytes = base64UrlBytes(part);
  if (bytes === null) return null;
  try {
    // Bytes → UTF-8 text without TextDecoder: percent-encode each byte and let the URI decoder do it.
    const json = decodeURIComponent(bytes.map((b) => `%${b.toString(16).padStart(2, '0')}`).join(''));
    const claims: unknown = JSON.parse(json);
    return typeof claims === 'object' && claims !== null && !Array.isArray(claims) ? (claims as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/**
 * How long the token lives, in ms, and when it expires on the *local* clock: `exp − iat` counted
 * from the moment it arrived, so a device whose clock is off by minutes still renews on time.
 * Null fields when the token carries no usable `exp`.
 */
export function tokenTiming(token: string, receivedAt: number): { expiresAt: number | null; lifetimeMs: number | null } {
  const claims = jwtPayload(token);
  const exp = claims?.exp;
  const iat = claims?.iat;
  if (typeof exp !== 'number' || !Number.isFinite(exp)) return { expiresAt: null, lifetimeMs: null };
  if (typeof iat !== 'number' || !Number.isFinite(iat) || iat > exp) return { expiresAt: exp * 1000, lifetimeMs: null };
  const lifetimeMs = (exp - iat) * 1000;
  return { expiresAt: receivedAt + lifetimeMs, lifetimeMs };
}
