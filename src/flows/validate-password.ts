// Spec §3.4 password/validate: password login on a session from token/generate.
// Order: 1524, session (§1.3), user exists (1515), has a password (1526), account lock
// (1544), retry budget (1530), correct (1528; the maxPasswordRetries-th wrong one 1530).
import { fail } from '../domain/errors.ts';
import type { FlowDeps, RequestContext } from './deps.ts';
import { audit } from './audit.ts';
import { issueLoginTokens, type LoginResult } from './issue-tokens.ts';
import { assertNotLocked, assertPasswordBudget, clearFailures, wrongPassword } from './lockout.ts';
import { loadSession } from './session-checks.ts';

export async function validatePassword(deps: FlowDeps, ctx: RequestContext, sessionId: string, password: string): Promise<LoginResult> {
  if (!ctx.brand.config.passwordEnabled) fail(1524);
  const session = await loadSession(deps, ctx, sessionId, 1507);
  const user = await deps.users.findUser(ctx.brand.name, session.identifier);
  if (!user) return fail(1515);
  // A first-time user, or one who never set a password, must go through OTP first.
  if (user.passwordHash === null) return fail(1526);
  await assertNotLocked(deps, ctx, user, session.identifier);
  // The budget is checked before the (expensive) hash comparison.
  await assertPasswordBudget(deps, ctx, user);
  if (!(await deps.passwords.verify(user.passwordHash, password))) {
    await audit(deps, ctx, 'login_failure', { method: 'password', uid: user.uid });
    await wrongPassword(deps, ctx, user, session.identifier);
  }
  // The session is single-use: of two concurrent correct logins on it, one wins.
  if (!(await deps.sessions.consume(session.id, { now: deps.clock.now() }))) fail(1505);
  await clearFailures(deps, ctx.brand.name, user, session.identifier, true);
  const result = await issueLoginTokens(deps, ctx, user);
  await audit(deps, ctx, 'login_success', { method: 'password', uid: user.uid });
  return result;
}
