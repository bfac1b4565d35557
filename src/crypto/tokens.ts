// JWS tokens of spec §4. The verifier looks the key up by `kid` only among the deployment's
// keys (signing-keys.ts) and allows only that key's algorithm, so `alg: none`, algorithm
// confusion and a header-supplied key are all refused.
//
// HS256 (the default) is signed and verified with node:crypto on the calling thread
// (hs256.ts): no per-call key import, no thread-pool hop behind argon2 jobs. ES256/EdDSA go
// through jose with keys imported once. Both paths share the strict compact parsing and the
// claim checks of compact-jws.ts, which reproduce what jose's jwtVerify accepted before.
import { SignJWT, jwtVerify, errors as joseErrors, type JWTPayload } from 'jose';
import { registeredClaimsValid, splitCompact, decodeJsonObject } from './compact-jws.ts';
import { hs256Sign, hs256Valid } from './hs256.ts';
import { MonotonicMicros, jtiFor } from './jti.ts';
import type { SigningKeySet, VerifyKey } from './signing-keys.ts';

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

export interface VerifyOptions {
  now: number;
  /** Accept a token expired at most this long ago (web regenerate, logout). */
  allowExpiredSeconds?: number;
}

/** Small leeway for clock skew between instances (R30). */
const LEEWAY_SECONDS = 5;

/** Longer is not one of ours (and would only cost parsing time). */
const MAX_TOKEN_CHARS = 8192;

/**
 * Verifies the service's tokens against a fixed set of keys. The service's own (TokenService
 * below) and the one a gateway builds from the shared secret or the published JWKS
 * (`verifyKeysFrom` in signing-keys.ts) are the same code.
 */
export class TokenVerifier {
  constructor(
    private readonly keys: ReadonlyMap<string, VerifyKey>,
    private readonly issuer: string,
  ) {}

  /**
   * Verifies signature, issuer and expiry (`exp` is required except on AUTH keys, which
   * carry it only when the brand sets a key lifetime). Returns null for anything invalid;
   * callers map null to their own error code. `allowExpiredSeconds` accepts a token expired
   * at most that long ago (web regenerate).
   */
  async verify(token: string, opts: VerifyOptions): Promise<Verified | null> {
    if (typeof token !== 'string' || token.length > MAX_TOKEN_CHARS) return null;
    const parts = splitCompact(token);
    if (!parts) return null; // not a compact JWS at all
    const header = decodeJsonObject(parts.header);
    if (!header) return null;
    // The kid picks the key, and the key fixes the one algorithm allowed for it.
    const key = typeof header.kid === 'string' ? this.keys.get(header.kid) : undefined;
    if (!key || header.alg !== key.alg) return null;
    // No extension is understood, so none may be critical (jose knew only b64, never used here).
    if (header.crit !== undefined) return null;
    const tolerance = LEEWAY_SECONDS + (opts.allowExpiredSeconds ?? 0);
    let claims: Record<string, unknown> | null;
    if (key.alg === 'HS256') {
      if (!hs256Valid(parts.signingInput, parts.signature, key.key)) return null;
      claims = decodeJsonObject(parts.payload);
      if (!claims || !registeredClaimsValid(claims, { issuer: this.issuer, now: opts.now, tolerance })) return null;
    } else {
      try {
        const { payload } = await jwtVerify(token, key.key, {
          algorithms: [key.alg],
          issuer: this.issuer,
          currentDate: new Date(opts.now),
          clockTolerance: tolerance,
        });
        claims = payload;
      } catch (err) {
        if (err instanceof joseErrors.JOSEError) return null;
        throw err;
      }
    }
    const h = header as unknown as TokenHeader;
    const c = claims as TokenClaims;
    if (!Array.isArray(h.idv) || typeof h.org !== 'string' || (h.dev !== null && typeof h.dev !== 'string')) return null;
    if (c.rol !== 'VIEW' && c.rol !== 'USER' && c.rol !== 'AUTH') return null;
    if (typeof c.jti !== 'string' || typeof c.iat !== 'number') return null;
    if (c.rol !== 'AUTH' && typeof c.exp !== 'number') return null;
    return { header: h, claims: c };
  }
}

/** Seconds since the epoch as jose's setIssuedAt/setExpirationTime take them: finite numbers. */
function numericDate(value: number, what: string): number {
  if (!Number.isFinite(value)) throw new TypeError(`Invalid ${what} input`);
  return value;
}

export class TokenService {
  private readonly micros = new MonotonicMicros();
  private readonly verifier: TokenVerifier;

  constructor(
    private readonly keys: SigningKeySet,
    private readonly issuer: string,
  ) {
    this.verifier = new TokenVerifier(keys.verifiers, issuer);
  }

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
    const iat = numericDate(Math.floor(input.now / 1000), 'setIssuedAt');
    const exp = input.ttlSeconds === null ? null : numericDate(iat + input.ttlSeconds, 'setExpirationTime');
    const current = this.keys.current;
    const header = { alg: current.alg, kid: current.kid, idv: input.idv, dev: input.deviceId, org: input.brand };
    // Claim order as jose's SignJWT wrote them (its claims, then iss, iat, exp), so tokens
    // keep the same bytes whichever path signed them.
    const claims: Record<string, unknown> = { rol: input.role, jti };
    if (input.uid !== undefined) claims.uid = input.uid;
    if (input.role === 'AUTH') claims.mfa = false;
    claims.iss = this.issuer;
    claims.iat = iat;
    if (exp !== null) claims.exp = exp;
    const token = current.alg === 'HS256' ? hs256Sign(header, claims, current.key) : await new SignJWT(claims).setProtectedHeader(header).sign(current.key);
    return { token, jti, expiresAt: exp === null ? null : exp * 1000 };
  }

  verify(token: string, opts: VerifyOptions): Promise<Verified | null> {
    return this.verifier.verify(token, opts);
  }
}
