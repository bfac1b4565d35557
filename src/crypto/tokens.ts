// JWS tokens of spec §4. HS256 with the deployment secret; the verifier pins the algorithm
// list and looks keys up by `kid` only among keys from server configuration, so `alg: none`,
// HS/RS confusion and a header-supplied key are all refused.
import { createHash, createSecretKey, randomUUID, type KeyObject } from 'node:crypto';
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

export class TokenService {
  private readonly key: KeyObject;
  readonly kid: string;

  constructor(secret: string, private readonly issuer: string) {
    this.key = createSecretKey(Buffer.from(secret, 'utf8'));
    // The kid names the key without revealing it: a truncated hash of the secret.
    this.kid = createHash('sha256').update('kid:').update(secret).digest('base64url').slice(0, 16);
  }

  async issue(input: IssueInput): Promise<Issued> {
    const jti = randomUUID();
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
