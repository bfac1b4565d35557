// HS256 (HMAC-SHA-256, RFC 7518 §3.2) with node:crypto, synchronously on the calling thread.
// jose does the same through WebCrypto: given a KeyObject it exports and re-imports the
// secret on every call and runs the HMAC as a thread-pool job, queued behind argon2 work —
// ~90–100 µs per token against ~10 µs here (BENCHMARKS.md, "Token crypto"). The output is
// byte for byte what jose's SignJWT writes for the same header and claims.
import { createHmac, timingSafeEqual, type KeyObject } from 'node:crypto';
import { encodeJson } from './compact-jws.ts';

/** `base64url(header).base64url(payload).base64url(HMAC)`; key order is the objects' own. */
export function hs256Sign(header: object, payload: object, key: KeyObject): string {
  const signingInput = `${encodeJson(header)}.${encodeJson(payload)}`;
  return `${signingInput}.${createHmac('sha256', key).update(signingInput).digest('base64url')}`;
}

/**
 * Whether `signature` (the encoded segment) is the HMAC of `signingInput`. Compared as the
 * canonical base64url text, in constant time: a padded, re-spelled or truncated signature
 * is simply not equal, and a length mismatch says nothing about the secret.
 */
export function hs256Valid(signingInput: string, signature: string, key: KeyObject): boolean {
  const expected = Buffer.from(createHmac('sha256', key).update(signingInput).digest('base64url'), 'latin1');
  const given = Buffer.from(signature, 'latin1');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
