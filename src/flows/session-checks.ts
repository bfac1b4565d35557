// The session checks of spec §1.3, shared by every step that continues a session.
import { fail } from '../domain/errors.ts';
import type { Session } from '../ports/session-store.ts';
import type { FlowDeps, RequestContext } from './deps.ts';

/**
 * Loads a live session and checks it belongs to this request: variant (a web session is
 * unknown to mobile endpoints and the reverse), brand (1509), identifier (1541 on OTP
 * endpoints, 1507 elsewhere), device (1508, mobile only) and a dead session (1518).
 */
export async function loadSession(deps: FlowDeps, ctx: RequestContext, sessionId: string, identifierMismatch: 1541 | 1507): Promise<Session> {
  const s = await deps.sessions.get(sessionId, deps.clock.now());
  if (!s || s.consumed || s.variant !== ctx.variant) return fail(1505);
  if (s.brand !== ctx.brand.name) return fail(1509);
  if (s.identifier.type !== ctx.identifier.type || s.identifier.value !== ctx.identifier.value) return fail(identifierMismatch);
  if (ctx.variant === 'mobile' && s.deviceId !== ctx.deviceId) return fail(1508);
  // A session that took maxOtpRetries wrong codes is dead: every later call on it answers
  // 1518, a correct OTP or a new otp/generate included (spec §2 maxOtpRetries).
  if (s.otpFailures >= ctx.brand.config.maxOtpRetries) return fail(1518);
  return s;
}
