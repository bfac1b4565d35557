// Spec §3.4 password/validate: password login on a session from token/generate.
// Order: 1524, guessing controls (1547, brand loginAbuse), session (§1.3), user exists (1515),
// has a password (1526), account lock (1544), retry budget (1530), correct (1528; the
// maxPasswordRetries-th wrong one 1530).
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { fail } from '../domain/errors.ts';
import type { PasswordHasher } from '../crypto/password-hasher.ts';
import type { User } from '../ports/durable-store.ts';
import type { FlowDeps, RequestContext } from './deps.ts';
import { audit } from './audit.ts';
import { issueLoginTokens, type LoginResult } from './issue-tokens.ts';
import { assertNotLocked, assertPasswordBudget, clearFailures, wrongPassword } from './lockout.ts';
import { countLoginAttempt } from './login-abuse.ts';
import { loadSession } from './session-checks.ts';

export async function validatePassword(deps: FlowDeps, ctx: RequestContext, sessionId: string, password: string): Promise<LoginResult> {
  if (!ctx.brand.config.passwordEnabled) fail(1524);
  // Before anything that costs (session read, argon2): per-IP and per-identifier budgets.
  await countLoginAttempt(deps, ctx, 'password');
  const session = await loadSession(deps, ctx, sessionId, 1507);
  const user = await deps.users.findUser(ctx.brand.name, session.identifier);
  // Unknown user, or one without a password: the same argon2 work as a real check, so the
  // response time does not tell who exists. (The contract's distinct codes 1515/1526 already
  // tell it; this closes only the timing side, which matters once a brand hides the codes.)
  if (!user) {
    await dummyVerify(deps.passwords, password);
    return fail(1515);
  }
  // A first-time user, or one who never set a password, must go through OTP first.
  if (user.passwordHash === null) {
    await dummyVerify(deps.passwords, password);
    return fail(1526);
  }
  await assertNotLocked(deps, ctx, user, session.identifier);
  // The budget is checked before the (expensive) hash comparison.
  const budget = await assertPasswordBudget(deps, ctx, user);
  if (!(await deps.passwords.verify(user.passwordHash, password))) {
    await audit(deps, ctx, 'login_failure', { method: 'password', uid: user.uid });
    await wrongPassword(deps, ctx, user, session.identifier);
  }
  // The session is single-use: of two concurrent correct logins on it, one wins.
  if (!(await deps.sessions.consume(session.id, { now: deps.clock.now() }))) fail(1505);
  // Nothing to clear when the budget held no failure and locking (the other counters) is off:
  // one write transaction less per ordinary login. A wrong password racing this success is
  // kept, as if it had come just after the clear.
  if (budget.lastFailureAt !== null || ctx.brand.config.accountLocking.enabled) await clearFailures(deps, ctx.brand.name, user, session.identifier, true);
  await rehashIfNeeded(deps, ctx, user, user.passwordHash, password);
  const result = await issueLoginTokens(deps, ctx, user);
  await audit(deps, ctx, 'login_success', { method: 'password', uid: user.uid });
  return result;
}

/** A fixed hash per hasher, made once (lazily) with its current parameters, of a random secret. */
const dummyHashes = new WeakMap<PasswordHasher, Promise<string>>();

async function dummyVerify(hasher: PasswordHasher, password: string): Promise<void> {
  let dummy = dummyHashes.get(hasher);
  if (!dummy) {
    dummy = hasher.hash(randomBytes(32).toString('base64url'));
    dummyHashes.set(hasher, dummy);
    // A failed hash is not cached: the next unknown-user login tries again.
    dummy.catch(() => dummyHashes.delete(hasher));
  }
  await hasher.verify(await dummy, password);
}

/**
 * After a successful login: when the stored hash was made with other argon2 parameters, store
 * a fresh one made with the current parameters (R24). Best effort: a failure is logged and the
 * login still succeeds. The stored hash is read again just before the write and left alone if
 * it changed meanwhile, so a concurrent password change or reset is not undone by the old
 * password's rehash.
 */
async function rehashIfNeeded(deps: FlowDeps, ctx: RequestContext, user: User, verified: string, password: string): Promise<void> {
  if (!deps.passwords.needsRehash(verified)) return;
  try {
    const fresh = await deps.passwords.hash(password);
    const current = await deps.users.findUser(ctx.brand.name, ctx.identifier);
    if (!current || current.uid !== user.uid || current.passwordHash !== verified) return;
    await deps.users.updateUser(ctx.brand.name, user.uid, { passwordHash: fresh });
  } catch (err) {
    // FlowDeps has no logger; the app's deps (AppDeps) do.
    (deps as FlowDeps & { logger?: Pick<Logger, 'warn'> }).logger?.warn({ err, brand: ctx.brand.name, uid: user.uid }, 'password rehash failed; login continues with the old hash');
  }
}
