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

export async function issueLoginTokens(deps: FlowDeps, ctx: RequestContext, user: User): Promise<LoginResult> {
  const { config, name } = ctx.brand;
  const now = deps.clock.now();
  const idv = user.identifiers.map(identifierKey);
  const base = { brand: name, idv, deviceId: ctx.deviceId, uid: user.uid, now };
  const token = await deps.tokens.issue({ ...base, role: 'USER', ttlSeconds: config.tokenValiditySeconds[ctx.variant] });
  let key: string | null = null;
  if (ctx.variant === 'mobile' && config.issueKey && ctx.deviceId !== null) {
    const ttl = config.keyValidityMinutes === null ? null : config.keyValidityMinutes * 60;
    const issued = await deps.tokens.issue({ ...base, role: 'AUTH', ttlSeconds: ttl });
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
  return { token: token.token, key, user };
}
