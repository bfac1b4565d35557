// Spec §3.7 password/forget: hold a new password on the session. It takes effect only when
// otp/generate + otp/validate on the same session succeed (verify-otp.ts), so an identifier
// alone never resets a password.
import { fail } from '../domain/errors.ts';
import type { FlowDeps, RequestContext } from './deps.ts';
import { checkNewPassword } from './password-rules.ts';
import { loadSession } from './session-checks.ts';

export async function forgetPassword(deps: FlowDeps, ctx: RequestContext, sessionId: string, password: string, confirmPassword: string | undefined): Promise<void> {
  if (!ctx.brand.config.passwordEnabled) fail(1524);
  const session = await loadSession(deps, ctx, sessionId, 1507);
  const user = await deps.users.findUser(ctx.brand.name, session.identifier);
  if (!user) fail(1515);
  checkNewPassword(ctx.brand.config, password, confirmPassword);
  const hash = await deps.passwords.hash(password);
  if (!(await deps.sessions.setPendingPassword(session.id, { hash, purpose: 'reset' }, deps.clock.now()))) fail(1505);
}
