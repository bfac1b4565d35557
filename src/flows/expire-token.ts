// Spec §3.8 token/expire (logout). Idempotent: an expired or already revoked token is
// accepted. On mobile every key of the user on that device is revoked too.
import { AuthError, StoreUnavailableError, fail } from '../domain/errors.ts';
import type { FlowDeps, RequestContext } from './deps.ts';
import { auditEvent } from './audit.ts';
import { assertTokenMatches } from './token-checks.ts';

/** Logout accepts tokens expired up to ten years ago: "already expired" is a success. */
const ANY_AGE_SECONDS = 10 * 365 * 24 * 3600;

export async function expireToken(deps: FlowDeps, ctx: RequestContext, token: string, key: string | undefined): Promise<void> {
  const now = deps.clock.now();
  const v = await deps.tokens.verify(token, { now, allowExpiredSeconds: ANY_AGE_SECONDS });
  if (!v || v.claims.rol !== 'USER' || v.claims.uid === undefined) return fail(1529);
  assertTokenMatches(ctx, v);
  const uid = v.claims.uid;
  const mobile = ctx.variant === 'mobile' && ctx.deviceId !== null;

  if (mobile && key !== undefined) {
    // The key, when sent, must be one of this user's keys on this device (revoked ones
    // included: a repeated logout is still a success). Checked before anything is written.
    const row = await deps.keys.findKeyByHash(deps.secrets.keyHash(key));
    if (!row || row.brand !== ctx.brand.name || row.uid !== uid || row.deviceId !== ctx.deviceId) fail(1597);
  }
  try {
    // One atomic change. On mobile, logging a device out ends every key and every token of the
    // user on that device (tokens renewed from a key there included), not only the one presented.
    await deps.credentials.applyCredentialChange({
      brand: ctx.brand.name,
      uid,
      now,
      revokeJti: { jti: v.claims.jti, expiresAt: (v.claims.exp ?? 0) * 1000 },
      ...(mobile && {
        revokeKeys: { deviceId: ctx.deviceId as string },
        mark: { notBefore: deps.tokens.mark(now), exceptDevice: null, exceptJti: null, onlyDevice: ctx.deviceId },
      }),
      audit: auditEvent(deps, ctx, 'logout', { uid }),
    });
  } catch (err) {
    // Spec §3.8: 1531 when the revocation could not be stored.
    if (err instanceof StoreUnavailableError) throw new AuthError(1531);
    throw err;
  }
}
