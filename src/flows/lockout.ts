// Failure budgets that span sessions (spec §2): the password retry budget of a user
// (maxPasswordRetries) and the account lock (accountLocking), where wrong OTPs and wrong
// passwords of one user — or, before sign-up, one identifier — count together. Requesting a
// new OTP or a new session never resets them; only a success, a reset or an admin unlock does.
import { AuthError, fail } from '../domain/errors.ts';
import { identifierKey, type Identifier } from '../domain/types.ts';
import type { User } from '../ports/durable-store.ts';
import type { FailureState } from '../ports/limit-store.ts';
import type { FlowDeps, RequestContext } from './deps.ts';
import { audit } from './audit.ts';

const MINUTE = 60_000;

/** Who the lock applies to: the user when one exists, else the identifier. */
export const lockKey = (brand: string, user: User | null, id: Identifier) => `lock:${brand}:${user ? `uid:${user.uid}` : identifierKey(id)}`;
export const passwordKey = (brand: string, uid: string) => `pw:${brand}:${uid}`;

const windowMs = (ctx: RequestContext) => ctx.brand.config.passwordRetryWindowMinutes * MINUTE;
const retryAfter = (until: number, now: number) => Math.max(1, Math.ceil((until - now) / 1000));

/** 1544 with Retry-After while the account is locked. */
export async function assertNotLocked(deps: FlowDeps, ctx: RequestContext, user: User | null, id: Identifier): Promise<void> {
  if (!ctx.brand.config.accountLocking.enabled) return;
  const now = deps.clock.now();
  const state = await deps.limits.getFailures(lockKey(ctx.brand.name, user, id), now, windowMs(ctx));
  if (state.lockedUntil !== null) fail(1544, { retryAfterSeconds: retryAfter(state.lockedUntil, now) });
}

/**
 * Counts one wrong OTP or password toward the account lock. The failure that reaches
 * maxFailures locks the account and itself answers 1544 (the lock wins over 1506/1518/1528/1530).
 */
export async function countTowardLock(deps: FlowDeps, ctx: RequestContext, user: User | null, id: Identifier): Promise<void> {
  const { accountLocking } = ctx.brand.config;
  if (!accountLocking.enabled) return;
  const now = deps.clock.now();
  const state = await deps.limits.recordFailure(lockKey(ctx.brand.name, user, id), now, windowMs(ctx), {
    max: accountLocking.maxFailures,
    ms: accountLocking.lockMinutes * MINUTE,
  });
  if (state.lockedUntil !== null) {
    if (state.count === accountLocking.maxFailures) await audit(deps, ctx, 'lock', { until: new Date(state.lockedUntil).toISOString(), failures: state.count }, id);
    throw new AuthError(1544, { retryAfterSeconds: retryAfter(state.lockedUntil, now) });
  }
}

/** 1530 once the user's password retry budget is spent (checked before the password is looked at). */
export async function assertPasswordBudget(deps: FlowDeps, ctx: RequestContext, user: User): Promise<FailureState> {
  const state = await deps.limits.getFailures(passwordKey(ctx.brand.name, user.uid), deps.clock.now(), windowMs(ctx));
  if (state.count >= ctx.brand.config.maxPasswordRetries) fail(1530);
  return state;
}

/** A wrong password: counts toward the lock and the retry budget; answers 1544, 1530 or 1528. */
export async function wrongPassword(deps: FlowDeps, ctx: RequestContext, user: User, id: Identifier): Promise<never> {
  const state = await deps.limits.recordFailure(passwordKey(ctx.brand.name, user.uid), deps.clock.now(), windowMs(ctx));
  await countTowardLock(deps, ctx, user, id);
  return fail(state.count >= ctx.brand.config.maxPasswordRetries ? 1530 : 1528);
}

/** The counters a success clears: the lock count; with `password`, the password budget too. */
export function failureKeys(brand: string, user: User, id: Identifier, password: boolean): string[] {
  const keys = [lockKey(brand, user, id), lockKey(brand, null, id)];
  if (password) keys.push(passwordKey(brand, user.uid));
  return keys;
}

/** A success clears the lock count; a password success or reset also the password budget. */
export function clearFailures(deps: FlowDeps, brand: string, user: User, id: Identifier, password: boolean): Promise<void> {
  return deps.limits.clearFailures(failureKeys(brand, user, id, password));
}
