// JWS tokens of spec §4. The verifier looks the key up by `kid` only among the deployment's
// keys (signing-keys.ts) and allows only that key's algorithm, so `alg: none`, algorithm
// confusion and a header-supplied key are all refused.
import { SignJWT, decodeProtectedHeader, jwtVerify, errors as joseErrors, type JWTPayload } from 'jose';
import { MonotonicMicros, jtiFor } from './jti.ts';
import type { SigningKeySet } from './signing-keys.ts';

export { jtiFor, jtiMicros, MonotonicMicros } from './jti.ts';

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

/** Small leeway for clock skew between instances (R30). */
const LEEWAY_SECONDS = 5;

export class TokenService {
  private readonly micros = new MonotonicMicros();

  constructor(
    private readonly keys: SigningKeySet,
    private readonly issuer: string,
  ) {}

  /** The kid new tokens are signed with. */
  get kid(): string {
    return this.keys.current.kid;
  }

  /** Public verification keys (asymmetric signing only), for GET /.well-known/jwks.json. */
  get jwks(): { keys: object[] } {
    return { keys: this.keys.jwks };
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
    const { kid, alg, signKey } = this.keys.current;
    const header = { alg, kid, idv: input.idv, dev: input.deviceId, org: input.brand };
    let jwt = new SignJWT(claims).setProtectedHeader(header).setIssuer(this.issuer).setIssuedAt(iat);
    let expiresAt: number | null = null;
    if (input.ttlSeconds !== null) {
      jwt = jwt.setExpirationTime(iat + input.ttlSeconds);
      expiresAt = (iat + input.ttlSeconds) * 1000;
    }
    return { token: await jwt.sign(signKey), jti, expiresAt };
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
      // The kid picks the key, and the key fixes the one algorithm allowed for it.
      let kid: unknown;
      try {
        kid = decodeProtectedHeader(token).kid;
      } catch {
        return null; // not a JWS at all
      }
      const key = typeof kid === 'string' ? this.keys.verifiers.get(kid) : undefined;
      if (!key) return null;
      const { payload, protectedHeader } = await jwtVerify(token, key.key, {
        algorithms: [key.alg],
        issuer: this.issuer,
        currentDate: new Date(opts.now),
        clockTolerance: LEEWAY_SECONDS + (opts.allowExpiredSeconds ?? 0),
      });
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
