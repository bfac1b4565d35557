// Token ids (jti) that carry their issue time, for revocation marks (token-checks.ts).
import { randomBytes } from 'node:crypto';

/**
 * Token ids are UUIDv7-shaped and carry their issue time in microseconds (48-bit ms + the
 * sub-millisecond part in the 12 "rand_a" bits, RFC 9562 §6.2 method 3). The time comes
 * from a per-process monotonic clock, so of a revocation mark and a token minted in the
 * same millisecond, the later one is always later: a password reset can revoke every earlier
 * token and still hand out a new one in the same request.
 */
export class MonotonicMicros {
  private last = 0;
  next(nowMs: number): number {
    this.last = Math.max(Math.floor(nowMs) * 1000, this.last + 1);
    return this.last;
  }
}

// Random bits come from the CSPRNG 2 KiB at a time, each byte used once: one call into the
// kernel per 256 tokens instead of one per token (node's randomUUID caches its entropy the
// same way). They end up in the token anyway: they make a jti unique, not secret.
const POOL_BYTES = 2048;
let pool = randomBytes(POOL_BYTES);
let poolOffset = 0;

/** 16 hex digits of fresh randomness, the first with the RFC 9562 variant bits (10xx). */
function randomHex8(): string {
  if (poolOffset + 8 > POOL_BYTES) {
    pool = randomBytes(POOL_BYTES);
    poolOffset = 0;
  }
  const first = ((pool[poolOffset] as number) & 0x3f) | 0x80;
  const r = first.toString(16) + pool.toString('hex', poolOffset + 1, poolOffset + 8);
  poolOffset += 8;
  return r;
}

export function jtiFor(micros: number): string {
  const ms = Math.floor(micros / 1000);
  const sub = micros % 1000;
  const hex = ms.toString(16).padStart(12, '0') + '7' + sub.toString(16).padStart(3, '0');
  const r = randomHex8();
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${r.slice(0, 4)}-${r.slice(4)}`;
}

/** The issue time (µs) of one of our jtis, or null for anything else. */
export function jtiMicros(jti: string): number | null {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(jti)) return null;
  const hex = jti.replaceAll('-', '');
  return parseInt(hex.slice(0, 12), 16) * 1000 + parseInt(hex.slice(13, 16), 16);
}
