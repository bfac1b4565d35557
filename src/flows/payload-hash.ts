// Spec §7 payload hash (5004): when the brand's `encryption` covers an endpoint, the body must
// carry `timeStamp` and `hash` = base64(RSA-OAEP-SHA256(`<identifierValue>|<sessionId>|<timeStamp>`))
// under the brand's public key, each part exactly as sent in the body. Every failure is 5004:
//   hash/timeStamp missing or of the wrong type → timeStamp outside ±validSeconds of now →
//   not decryptable with the brand's private key → plaintext ≠ the body's values → seen before.
// Cheap checks come first, so a flood of junk costs no RSA work. A hash is remembered only once
// everything else has passed (a refused hash is not remembered, so the client can correct it),
// in the shared limit store (so every instance refuses a replay), for 2 × validSeconds: a
// timestamp is acceptable for at most that long, so the memory outlives every possible replay.
// The remembered form is a digest of the decoded ciphertext, not of the base64 text: padding,
// line breaks or other spellings of the same bytes are the same hash.
// An accepted hash stays spent even when a later check (cooldown, limits) refuses the request or
// the delivery fails: a client builds a fresh hash for every attempt.
import { constants, createHash, createPrivateKey, privateDecrypt, type KeyObject } from 'node:crypto';
import type { Brand } from '../domain/types.ts';
import type { FlowDeps } from './deps.ts';

/** What the body said, untouched (spec §7: the values before normalisation). */
export interface PayloadProof {
  hash: unknown;
  timeStamp: unknown;
  /** The body's identifierValue as sent (for the legacy shape, its `mobile`). */
  identifierValue: string;
  sessionId: string;
}

/** Longest accepted hash text: a 16384-bit RSA ciphertext in base64 with line breaks. */
const MAX_HASH_CHARS = 3000;
/** Digits of a millisecond timestamp (16 reach the year 318857; leading zeros allowed). */
const TIMESTAMP_DIGITS = /^[0-9]{1,16}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Why a payload hash is refused (audit detail; the client only ever sees 5004). */
export type HashRefusal = 'hash_missing' | 'timestamp_missing' | 'timestamp_invalid' | 'timestamp_out_of_window' | 'hash_undecryptable' | 'hash_mismatch' | 'hash_replayed';

/**
 * Null when the body carries a fresh, matching, unseen hash (which is then remembered), or
 * when the brand's encryption does not cover `endpoint`; else why it is refused (5004).
 */
export async function payloadHashRefusal(deps: Pick<FlowDeps, 'clock' | 'limits'>, brand: Brand, endpoint: 'OTP', proof: PayloadProof): Promise<HashRefusal | null> {
  const enc = brand.config.encryption;
  if (!enc.enabled || !enc.endpoints.includes(endpoint) || enc.privateKeyPem === null) return null;
  const now = deps.clock.now();

  if (proof.hash === undefined || proof.hash === null || proof.hash === '') return 'hash_missing';
  if (proof.timeStamp === undefined || proof.timeStamp === null || proof.timeStamp === '') return 'timestamp_missing';
  const stamp = timeStampText(proof.timeStamp);
  if (stamp === null) return 'timestamp_invalid';
  if (Math.abs(now - Number(stamp)) > enc.validSeconds * 1000) return 'timestamp_out_of_window';

  const ciphertext = decodeBase64(proof.hash);
  if (ciphertext === null) return 'hash_undecryptable';
  let plaintext: Buffer;
  try {
    plaintext = privateDecrypt({ key: privateKey(brand.name, enc.privateKeyPem), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, ciphertext);
  } catch {
    return 'hash_undecryptable';
  }
  const expected = Buffer.from(`${proof.identifierValue}|${proof.sessionId}|${stamp}`, 'utf8');
  if (!plaintext.equals(expected)) return 'hash_mismatch';

  const digest = createHash('sha256').update(ciphertext).digest('base64url');
  const seen = await deps.limits.reserve([{ key: `payload-hash:${brand.name}:${digest}`, windowMs: 2 * enc.validSeconds * 1000, max: 1 }], now);
  return seen.ok ? null : 'hash_replayed';
}

/** The timestamp's decimal digits as the body has them: a non-negative safe integer, or a digit string. */
function timeStampText(v: unknown): string | null {
  if (typeof v === 'number') return Number.isSafeInteger(v) && v >= 0 ? String(v) : null;
  if (typeof v === 'string') return TIMESTAMP_DIGITS.test(v) ? v : null;
  return null;
}

/** Standard base64, padding optional; line breaks and spaces (MIME-style encoders) are ignored. */
function decodeBase64(v: unknown): Buffer | null {
  if (typeof v !== 'string' || v.length > MAX_HASH_CHARS) return null;
  const compact = v.replace(/[\r\n\t ]/g, '');
  if (compact.length === 0 || !BASE64.test(compact) || compact.length % 4 === 1) return null;
  return Buffer.from(compact, 'base64');
}

// Parsed keys by brand, so a PEM is parsed once, not on every request. The PEM is kept beside
// the key: a brand whose key was replaced gets the new one on its next request.
const MAX_CACHED_KEYS = 1000;
const keys = new Map<string, { pem: string; key: KeyObject }>();

function privateKey(brand: string, pem: string): KeyObject {
  const hit = keys.get(brand);
  if (hit && hit.pem === pem) return hit.key;
  // The PEM was validated when the brand was saved; a parse failure here is an internal error.
  const key = createPrivateKey({ key: pem, format: 'pem' });
  if (keys.size >= MAX_CACHED_KEYS) keys.clear();
  keys.set(brand, { pem, key });
  return key;
}
