// Checks shared by every endpoint that accepts a token: signature and role, revocation
// (a revoked jti, or a user mark issued by a password change or reset), and the §1.3
// mismatches (brand 1509, identifier 1507, device 1508).
import { fail, type ErrorCode } from '../domain/errors.ts';
import { identifierKey } from '../domain/types.ts';
import { jtiMicros, type Verified } from '../crypto/tokens.ts';
import type { User, UserMark } from '../ports/durable-store.ts';
import type { FlowDeps, RequestContext } from './deps.ts';

/** True when the token was revoked by logout (its jti) or by any mark on its user. */
export async function isRevoked(deps: FlowDeps, brand: string, v: Verified): Promise<boolean> {
  const { jtiRevoked, marks } = await deps.revocations.revocationState(v.claims.jti, brand, v.claims.uid ?? null);
  if (jtiRevoked) return true;
  if (marks.length === 0) return false;
  const issued = jtiMicros(v.claims.jti);
  return marks.some((m) => markRevokes(m, issued, v));
}

function markRevokes(m: UserMark, issued: number | null, v: Verified): boolean {
  if (issued !== null && issued >= m.notBefore) return false;
  if (m.onlyDevice !== null && v.header.dev !== m.onlyDevice) return false;
  // The exception is the device or token that made the change (password change keeps the
  // caller signed in).
  return !(m.exceptJti === v.claims.jti || (m.exceptDevice !== null && v.header.dev === m.exceptDevice));
}

/** Brand, identifier and device of a verified token against the request (1509/1507/1508). */
export function assertTokenMatches(ctx: RequestContext, v: Verified, codes: { brand: ErrorCode; identifier: ErrorCode; device: ErrorCode } = { brand: 1509, identifier: 1507, device: 1508 }): void {
  if (v.header.org !== ctx.brand.name) fail(codes.brand);
  if (!v.header.idv.includes(identifierKey(ctx.identifier))) fail(codes.identifier);
  if (ctx.variant === 'mobile' && v.header.dev !== ctx.deviceId) fail(codes.device);
}

/**
 * A live USER token of this request's user (password/change): 1529 when malformed, forged,
 * expired, revoked or not a USER token (a VIEW token or a key included); then the mismatches;
 * then 1529 again if its user no longer exists (erased by an admin).
 */
export async function requireUserToken(deps: FlowDeps, ctx: RequestContext, token: string): Promise<{ v: Verified; user: User }> {
  const v = await deps.tokens.verify(token, { now: deps.clock.now() });
  if (!v || v.claims.rol !== 'USER' || v.claims.uid === undefined) return fail(1529);
  if (await isRevoked(deps, ctx.brand.name, v)) return fail(1529);
  assertTokenMatches(ctx, v);
  const user = await deps.users.findUser(ctx.brand.name, ctx.identifier);
  if (!user || user.uid !== v.claims.uid) return fail(1529);
  return { v, user };
}
