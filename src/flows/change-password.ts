// Spec §3.6 password/change: the current password proves the user again; on success every
// key and token of the user except the calling device's (or, on web, the calling token) is
// revoked.
import { fail } from '../domain/errors.ts';
import type { FlowDeps, RequestContext } from './deps.ts';
import { audit, auditEvent } from './audit.ts';
import { assertPasswordBudget, failureKeys, wrongPassword } from './lockout.ts';
import { checkPolicy } from './password-rules.ts';
import { requireUserToken } from './token-checks.ts';

export interface ChangePasswordInput {
  token: string;
  password: string;
  newPassword: string;
  confirmPassword: string | undefined;
}

export async function changePassword(deps: FlowDeps, ctx: RequestContext, input: ChangePasswordInput): Promise<void> {
  const { config, name } = ctx.brand;
  if (!config.passwordEnabled) fail(1524);
  const { v, user } = await requireUserToken(deps, ctx, input.token);
  if (input.confirmPassword !== input.newPassword) fail(1521);
  if (input.newPassword === input.password) fail(1527);
  checkPolicy(config, input.newPassword);
  await assertPasswordBudget(deps, ctx, user);
  // A user who never set a password has nothing to change (they use password/forget).
  if (user.passwordHash === null) fail(1526);
  if (!(await deps.passwords.verify(user.passwordHash as string, input.password))) {
    await audit(deps, ctx, 'login_failure', { method: 'password_change', uid: user.uid });
    await wrongPassword(deps, ctx, user, ctx.identifier);
  }
  const hash = await deps.passwords.hash(input.newPassword);
  const now = deps.clock.now();
  // One atomic change: the new password, and the rest revoked — keys of other devices, and
  // every token issued before now except the caller's device (mobile) or the caller's own
  // token (web, which has no device) — retry counts cleared, audited. Never half of it.
  const mobile = ctx.variant === 'mobile' && ctx.deviceId !== null;
  await deps.credentials.applyCredentialChange({
    brand: name,
    uid: user.uid,
    now,
    passwordHash: hash,
    revokeKeys: mobile ? { exceptDeviceId: ctx.deviceId as string } : {},
    mark: { notBefore: deps.tokens.mark(now), exceptDevice: mobile ? ctx.deviceId : null, exceptJti: mobile ? null : v.claims.jti, onlyDevice: null },
    clearFailures: failureKeys(name, user, ctx.identifier, true),
    audit: auditEvent(deps, ctx, 'password_change', { uid: user.uid }),
  });
}
