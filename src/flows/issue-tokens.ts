// The end of a successful login (OTP or password): a USER token and, on mobile with
// issueKey, an AUTH key whose keyed hash is committed before the key is returned.
import { identifierKey } from '../domain/types.ts';
import type { User } from '../ports/durable-store.ts';
import type { FlowDeps, RequestContext } from './deps.ts';

export interface LoginResult {
  token: string;
  key: string | null;
  user: User;
}

export const idvOf = (user: User): string[] => user.identifiers.map(identifierKey);

/** A USER token for the request's variant and device. */
export async function issueUserToken(deps: FlowDeps, ctx: RequestContext, user: User): Promise<string> {
  const issued = await deps.tokens.issue({
    role: 'USER',
    brand: ctx.brand.name,
    idv: idvOf(user),
    deviceId: ctx.deviceId,
    uid: user.uid,
    ttlSeconds: ctx.brand.config.tokenValiditySeconds[ctx.variant],
    now: deps.clock.now(),
  });
  return issued.token;
}

export async function issueLoginTokens(deps: FlowDeps, ctx: RequestContext, user: User): Promise<LoginResult> {
  const { config, name } = ctx.brand;
  const token = await issueUserToken(deps, ctx, user);
  let key: string | null = null;
  if (ctx.variant === 'mobile' && config.issueKey && ctx.deviceId !== null) {
    const now = deps.clock.now();
    const ttl = config.keyValidityMinutes === null ? null : config.keyValidityMinutes * 60;
    const issued = await deps.tokens.issue({ role: 'AUTH', brand: name, idv: idvOf(user), deviceId: ctx.deviceId, uid: user.uid, ttlSeconds: ttl, now });
    await deps.keys.saveKey({
      jti: issued.jti,
      brand: name,
      uid: user.uid,
      deviceId: ctx.deviceId,
      keyHash: deps.secrets.keyHash(issued.token),
      createdAt: now,
      expiresAt: issued.expiresAt,
    });
    key = issued.token;
  }
  return { token, key, user };
}
