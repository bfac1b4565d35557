// Guessing controls on password/validate and token/regenerate (brand `loginAbuse`, R27):
// attempts per client IP and per identifier per minute, per brand, in counters shared by every
// instance (deps.limits). Every attempt counts, successful ones too: the point is to bound
// the argon2 work and key lookups one address or one identifier can cause, whatever their
// outcome, and a count taken before the check cannot be raced past by a burst. A refused
// attempt counts against nothing (all or nothing, as for OTP sends), so retrying while refused
// does not push the wait further out. Mobile and web share one budget; password login and regenerate have
// one each (a device renewing its token every few minutes must not use up a password budget).
import { AuthError } from '../domain/errors.ts';
import { identifierKey } from '../domain/types.ts';
import type { WindowLimit } from '../ports/limit-store.ts';
import type { FlowDeps, RequestContext } from './deps.ts';
import { audit } from './audit.ts';
import { clientKey } from './ip-limit.ts';

const MINUTE = 60_000;

/** Which budget an attempt draws on. */
export type LoginAttemptKind = 'password' | 'regenerate';

/**
 * Counts one attempt, or refuses it with 1547 and Retry-After (whole seconds ≥ 1) when the
 * client IP's or the identifier's budget for this minute is spent. Checked after §1.3's
 * shape/type/brand checks and before anything expensive (argon2, key lookup). A request whose
 * address is unknown counts under one shared "unknown" address: it is limited, never exempt.
 * An IPv6 client counts as its /64 network (clientKey), like every other per-IP limit.
 */
export async function countLoginAttempt(deps: FlowDeps, ctx: RequestContext, kind: LoginAttemptKind): Promise<void> {
  const cfg = ctx.brand.config.loginAbuse;
  const brand = ctx.brand.name;
  const candidates: { reason: 'ip' | 'identifier'; limit: WindowLimit }[] = [];
  if (cfg.perIpPerMinute !== null) {
    candidates.push({ reason: 'ip', limit: { key: `login-ip:${kind}:${brand}:${ctx.ip ? clientKey(ctx.ip) : 'unknown'}`, windowMs: MINUTE, max: cfg.perIpPerMinute } });
  }
  if (cfg.perIdentifierPerMinute !== null) {
    candidates.push({ reason: 'identifier', limit: { key: `login-id:${kind}:${brand}:${identifierKey(ctx.identifier)}`, windowMs: MINUTE, max: cfg.perIdentifierPerMinute } });
  }
  // One reservation per limit, so the refusal can say which budget was spent; a later refusal
  // gives back the earlier reservations of this attempt (a refused attempt counts nothing).
  const now = deps.clock.now();
  const taken: string[] = [];
  for (const { reason, limit } of candidates) {
    const r = await deps.limits.reserve([limit], now);
    if (r.ok) {
      taken.push(r.id);
      continue;
    }
    for (const id of taken) await deps.limits.release(id);
    await audit(deps, ctx, 'login_refused', { code: 1547, reason, endpoint: kind });
    throw new AuthError(1547, { retryAfterSeconds: Math.max(1, Math.ceil(r.retryAfterMs / 1000)) });
  }
}
