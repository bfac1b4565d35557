// Spec §3.5 token/regenerate. Mobile presents its key, web its (possibly expired) USER token.
// Every failure of the presented credential is one code (1597 mobile, 1525 web), mismatches
// included, so the answer says nothing about which check failed.
import { AuthError } from '../domain/errors.ts';
import type { StoredKey, User } from '../ports/durable-store.ts';
import type { FlowDeps, RequestContext } from './deps.ts';
import { auditEvent } from './audit.ts';
import { isRevoked, assertTokenMatches } from './token-checks.ts';
import { identifierKey } from '../domain/types.ts';
import { idvOf, issueUserToken } from './issue-tokens.ts';
import { countLoginAttempt } from './login-abuse.ts';

export interface RegenerateResult {
  token: string;
  key: string | null;
}

const keyError = () => new AuthError(1597);

export async function regenerateWithKey(deps: FlowDeps, ctx: RequestContext, key: string): Promise<RegenerateResult> {
  // Guessing controls (brand loginAbuse, 1547) before the key is looked at.
  await countLoginAttempt(deps, ctx, 'regenerate');
  const now = deps.clock.now();
  const v = await deps.tokens.verify(key, { now });
  if (!v || v.claims.rol !== 'AUTH' || v.claims.uid === undefined) throw keyError();
  assertTokenMatches(ctx, v, { brand: 1597, identifier: 1597, device: 1597 });
  const user = await deps.users.findUser(ctx.brand.name, ctx.identifier);
  if (!user || user.uid !== v.claims.uid) throw keyError();
  const keyHash = deps.secrets.keyHash(key);
  const row = await deps.keys.findKeyByHash(keyHash);
  if (!row || row.brand !== ctx.brand.name || row.uid !== user.uid || row.deviceId !== ctx.deviceId) throw keyError();
  if (row.revokedAt !== null || (row.expiresAt !== null && now >= row.expiresAt)) throw keyError();
  if (row.retiredAt !== null) return retiredKey(deps, ctx, user, row);

  if (!ctx.brand.config.rotateKeys) return { token: await issueUserToken(deps, ctx, user), key: null };

  // Rotation keeps the key's absolute lifetime: a chain of rotations never outlives the first key.
  // The token service sets exp = floor(now / 1000) + ttl, so count from the same whole second.
  const ttl = row.expiresAt === null ? null : Math.max(1, Math.floor(row.expiresAt / 1000) - Math.floor(now / 1000));
  const next = await deps.tokens.issue({ role: 'AUTH', brand: ctx.brand.name, idv: idvOf(user), deviceId: ctx.deviceId, uid: user.uid, ttlSeconds: ttl, now });
  const outcome = await deps.keys.rotateKey(
    keyHash,
    { jti: next.jti, brand: ctx.brand.name, uid: user.uid, deviceId: row.deviceId, keyHash: deps.secrets.keyHash(next.token), createdAt: now, expiresAt: row.expiresAt },
    deps.sealer.seal(next.token),
    now,
  );
  if (outcome === 'lost') {
    // A concurrent regenerate with the same key rotated it first: answer as a retry would.
    const again = await deps.keys.findKeyByHash(keyHash);
    if (!again) throw keyError();
    return retiredKey(deps, ctx, user, again);
  }
  return { token: await issueUserToken(deps, ctx, user), key: next.token };
}

/**
 * A retired key presented again. Within the grace period it is a client retrying a lost
 * response: it gets the same successor (never a second one). Later it is reuse of a stolen
 * key: every key of that user on that device is revoked (R36).
 */
async function retiredKey(deps: FlowDeps, ctx: RequestContext, user: User, row: StoredKey): Promise<RegenerateResult> {
  const now = deps.clock.now();
  if (row.revokedAt === null && row.retiredAt !== null && row.successorSealed !== null && now - row.retiredAt <= deps.keyReuseGraceMs) {
    const successor = deps.sealer.open(row.successorSealed);
    const live = successor === null ? null : await deps.keys.findKeyByHash(deps.secrets.keyHash(successor));
    if (successor !== null && live && live.revokedAt === null) return { token: await issueUserToken(deps, ctx, user), key: successor };
  }
  // Every key of that device, and the tokens minted there so far (whoever holds the stolen key
  // may hold them), in one atomic change with its audit event.
  await deps.credentials.applyCredentialChange({
    brand: ctx.brand.name,
    uid: user.uid,
    now,
    revokeKeys: { deviceId: row.deviceId },
    mark: { notBefore: deps.tokens.mark(now), exceptDevice: null, exceptJti: null, onlyDevice: row.deviceId },
    audit: auditEvent(deps, ctx, 'key_reuse_detected', { uid: user.uid }),
  });
  throw keyError();
}

export async function regenerateWithToken(deps: FlowDeps, ctx: RequestContext, expiredToken: string): Promise<RegenerateResult> {
  // Guessing controls (brand loginAbuse, 1547) before the token is looked at.
  await countLoginAttempt(deps, ctx, 'regenerate');
  const now = deps.clock.now();
  const v = await deps.tokens.verify(expiredToken, { now, allowExpiredSeconds: ctx.brand.config.webRegenerateGraceSeconds });
  if (!v || v.claims.rol !== 'USER' || v.claims.uid === undefined) throw new AuthError(1525);
  if (v.header.org !== ctx.brand.name || !v.header.idv.includes(identifierKey(ctx.identifier))) throw new AuthError(1525);
  // Only a web token (no device) renews on web: a mobile token renews with its key, so a
  // token lifted from a device whose keys were revoked cannot be kept alive through web.
  if (v.header.dev !== null) throw new AuthError(1525);
  if (await isRevoked(deps, ctx.brand.name, v)) throw new AuthError(1525);
  const user = await deps.users.findUser(ctx.brand.name, ctx.identifier);
  if (!user || user.uid !== v.claims.uid) throw new AuthError(1525);
  return { token: await issueUserToken(deps, ctx, user), key: null };
}
