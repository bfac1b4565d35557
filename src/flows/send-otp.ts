// Spec §3.2 otp/generate: create, store (keyed hash only) and deliver an OTP for a session.
// Order after the session checks: account lock (1544), otpEnabled (1503), resend cooldown
// (1547), per-identifier limits (1534). A refused request is counted against nothing, and a
// failed delivery gives back everything it took (I5: reserve before the provider call).
import { fail } from '../domain/errors.ts';
import { identifierKey, type BrandConfig, type Channel, type Identifier } from '../domain/types.ts';
import { generateOtp } from '../crypto/otp.ts';
import type { WindowLimit } from '../ports/limit-store.ts';
import type { FlowDeps, RequestContext } from './deps.ts';
import { audit } from './audit.ts';
import { assertNotLocked } from './lockout.ts';
import { loadSession } from './session-checks.ts';

const DAY_MS = 24 * 3600 * 1000;
const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

export async function sendOtp(deps: FlowDeps, ctx: RequestContext, sessionId: string): Promise<void> {
  const session = await loadSession(deps, ctx, sessionId, 1541);
  const { config, name } = ctx.brand;
  const user = await deps.users.findUser(name, session.identifier);
  await assertNotLocked(deps, ctx, user, session.identifier);
  if (!config.otpEnabled) fail(1503);

  const now = deps.clock.now();
  const claim = await deps.sessions.claimSend(session.id, now, config.otpResendCooldownSeconds * 1000);
  if (!claim.ok) {
    if (claim.retryAfterMs === 0) fail(1505); // the session ended meanwhile
    await audit(deps, ctx, 'otp_send_refused', { code: 1547 });
    return fail(1547, { retryAfterSeconds: seconds(claim.retryAfterMs) });
  }
  const undoClaim = () => deps.sessions.releaseSend(session.id, now, claim.previous);

  const reservation = await deps.limits.reserve(sendLimits(name, config, session.identifier), now);
  if (!reservation.ok) {
    await undoClaim();
    await audit(deps, ctx, 'otp_send_refused', { code: 1534 });
    return fail(1534, { retryAfterSeconds: seconds(reservation.retryAfterMs) });
  }

  const to: Identifier = session.destination ?? session.identifier;
  const fixed = config.testOtps[identifierKey(session.identifier)] ?? config.testOtps[identifierKey(to)];
  const code = fixed ?? generateOtp(config.otpLength);
  // An OTP never outlives its session.
  const expiresAt = Math.min(now + config.otpValiditySeconds * 1000, session.expiresAt);
  const channel = channelFor(config, to);

  if (fixed === undefined) {
    // Deliver before storing: if the provider fails, the code the user may already hold
    // stays valid, the quota and the cooldown are given back, and 1503 lets them retry.
    const minutes = String(Math.ceil((expiresAt - now) / 60000));
    const fill = (t: string) => t.replaceAll('{otp}', code).replaceAll('{brand}', name).replaceAll('{minutes}', minutes);
    const template = config.channels.templates[channel];
    const text = typeof template === 'string' ? fill(template) : fill(template.text);
    const subject = typeof template === 'string' ? null : fill(template.subject);
    try {
      await deps.sender.send({ brand: name, identifier: identifierKey(session.identifier), channel, to: to.value, subject, text, otp: code });
    } catch {
      await deps.limits.release(reservation.id);
      await undoClaim();
      await audit(deps, ctx, 'otp_send_failed', { channel });
      return fail(1503);
    }
  }
  const stored = await deps.sessions.setOtp(session.id, { hash: deps.secrets.otpHash(session.id, code), expiresAt, sentAt: now }, now);
  // The session was consumed or expired while we were delivering.
  if (!stored) fail(1505);
  await audit(deps, ctx, 'otp_sent', { channel, test: fixed !== undefined });
}

/** The per-identifier send limits of the brand, across sessions and devices. */
function sendLimits(brand: string, config: Readonly<BrandConfig>, id: Identifier): WindowLimit[] {
  const limits: WindowLimit[] = [];
  const key = `otp:${brand}:${identifierKey(id)}`;
  if (config.otpMaxCount !== null && config.otpTimeOut !== null) limits.push({ key: `${key}:window`, windowMs: config.otpTimeOut * 60_000, max: config.otpMaxCount });
  if (config.otpDailyLimit !== null) limits.push({ key: `${key}:day`, windowMs: DAY_MS, max: config.otpDailyLimit });
  return limits;
}

function channelFor(config: Readonly<BrandConfig>, to: Identifier): Channel {
  if (to.type === 'EMAIL') return 'EMAIL';
  return config.channels.mobileSubChannel ?? 'SMS';
}
