// JWS tokens of spec §4. HS256 with the deployment secret; the verifier pins the algorithm
// list and looks keys up by `kid` only among keys from server configuration, so `alg: none`,
// HS/RS confusion and a header-supplied key are all refused.
import { createHash, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { SignJWT, jwtVerify, errors as joseErrors, type JWTPayload } from 'jose';

export type Role = 'VIEW' | 'USER' | 'AUTH';

export interface TokenHeader {
  idv: string[];
  dev: string | null;
  org: string;
  alg: string;
  kid: string;
}

export interface TokenClaims extends JWTPayload {
  rol: Role;
  jti: string;
  iat: number;
  uid?: string;
  mfa?: boolean;
}

export interface IssueInput {
  role: Role;
  brand: string;
  idv: string[];
  deviceId: string | null;
  uid?: string;
  /** Lifetime in seconds; null only for keys that never expire. */
  ttlSeconds: number | null;
  now: number;
}

export interface Issued {
  token: string;
  jti: string;
  expiresAt: number | null;
}

export interface Verified {
  header: TokenHeader;
  claims: TokenClaims;
}

const ALGORITHMS = ['HS256'];
/** Small leeway for clock skew between instances (R30). */
const LEEWAY_SECONDS = 5;

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

export function jtiFor(micros: number): string {
  const ms = Math.floor(micros / 1000);
  const sub = micros % 1000;
  const hex = ms.toString(16).padStart(12, '0') + '7' + sub.toString(16).padStart(3, '0');
  const rand = randomBytes(8);
  rand[0] = (rand[0] & 0x3f) | 0x80; // RFC 9562 variant
  const r = rand.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${r.slice(0, 4)}-${r.slice(4)}`;
}

/** The issue time (µs) of one of our jtis, or null for anything else. */
export function jtiMicros(jti: string): number | null {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(jti)) return null;
  const hex = jti.replaceAll('-', '');
  return parseInt(hex.slice(0, 12), 16) * 1000 + parseInt(hex.slice(13, 16), 16);
}

export class TokenService {
  private readonly key: KeyObject;
  private readonly micros = new MonotonicMicros();
  readonly kid: string;

  constructor(secret: string, private readonly issuer: string) {
    this.key = createSecretKey(Buffer.from(secret, 'utf8'));
    // The kid names the key without revealing it: a truncated hash of the secret.
    this.kid = createHash('sha256').update('kid:').update(secret).digest('base64url').slice(0, 16);
  }

  /** A point on the token clock: tokens issued before it compare lower (revocation marks). */
  mark(nowMs: number): number {
    return this.micros.next(nowMs);
  }

  async issue(input: IssueInput): Promise<Issued> {
    const jti = jtiFor(this.micros.next(input.now));
    const iat = Math.floor(input.now / 1000);
    const claims: Record<string, unknown> = { rol: input.role, jti };
    if (input.uid !== undefined) claims.uid = input.uid;
    if (input.role === 'AUTH') claims.mfa = false;
    const header = { alg: 'HS256', kid: this.kid, idv: input.idv, dev: input.deviceId, org: input.brand };
    let jwt = new SignJWT(claims).setProtectedHeader(header).setIssuer(this.issuer).setIssuedAt(iat);
    let expiresAt: number | null = null;
    if (input.ttlSeconds !== null) {
      jwt = jwt.setExpirationTime(iat + input.ttlSeconds);
      expiresAt = (iat + input.ttlSeconds) * 1000;
    }
    return { token: await jwt.sign(this.key), jti, expiresAt };
  }

  /**
   * Verifies signature, issuer and expiry (`exp` is required except on AUTH keys, which
   * carry it only when the brand sets a key lifetime). Returns null for anything invalid;
   * callers map null to their own error code. `allowExpiredSeconds` accepts a token expired
   * at most that long ago (web regenerate).
   */
  async verify(token: string, opts: { now: number; allowExpiredSeconds?: number }): Promise<Verified | null> {
    if (typeof token !== 'string' || token.length > 8192) return null;
    try {
      const { payload, protectedHeader } = await jwtVerify(token, this.key, {
        algorithms: ALGORITHMS,
        issuer: this.issuer,
        currentDate: new Date(opts.now),
        clockTolerance: LEEWAY_SECONDS + (opts.allowExpiredSeconds ?? 0),
      });
      if (protectedHeader.kid !== this.kid) return null;
      const h = protectedHeader as unknown as TokenHeader;
      const c = payload as TokenClaims;
      if (!Array.isArray(h.idv) || typeof h.org !== 'string' || (h.dev !== null && typeof h.dev !== 'string')) return null;
      if (c.rol !== 'VIEW' && c.rol !== 'USER' && c.rol !== 'AUTH') return null;
      if (typeof c.jti !== 'string' || typeof c.iat !== 'number') return null;
      if (c.rol !== 'AUTH' && typeof c.exp !== 'number') return null;
      return { header: h, claims: c };
    } catch (err) {
      if (err instanceof joseErrors.JOSEError) return null;
      throw err;
    }
  }
}
