// Spec §3.4 password/validate: password login on a session from token/generate.
import { fail } from '../domain/errors.ts';
import type { FlowDeps, RequestContext } from './deps.ts';
import { issueLoginTokens, type LoginResult } from './issue-tokens.ts';
import { loadSession } from './session-checks.ts';

export async function validatePassword(deps: FlowDeps, ctx: RequestContext, sessionId: string, password: string): Promise<LoginResult> {
  if (!ctx.brand.config.passwordEnabled) fail(1524);
  const session = await loadSession(deps, ctx, sessionId, 1507);
  const user = await deps.users.findUser(ctx.brand.name, session.identifier);
  if (!user) return fail(1515);
  // A first-time user, or one who never set a password, must go through OTP first.
  if (user.passwordHash === null) return fail(1526);
  if (!(await deps.passwords.verify(user.passwordHash, password))) fail(1528);
  // The session is single-use: of two concurrent correct logins on it, one wins.
  if (!(await deps.sessions.consume(session.id, { now: deps.clock.now() }))) fail(1505);
  return issueLoginTokens(deps, ctx, user);
}
