// Spec §3.2 otp/generate: create, store (keyed hash only) and deliver an OTP for a session.
// Order after the session checks of §1.3 (and the per-IP request limit, request-context.ts):
//   1. account lock (1544)
//   2. otpEnabled (1503)
//   3. payload hash, when the brand's encryption covers OTP (5004, spec §7; payload-hash.ts)
//   3b. channel and destination (otp-delivery.ts): `?fallbackChannel=` not configured or no
//      provider for the channel (1603), no mobile/email to fall back to (1601/1602)
//   4. country allowlist of the destination (1534, otpAbuse.allowedCountryCodes): a static rule,
//      so it is judged before anything is claimed or counted
//   5. resend cooldown of the session (1547), claimed atomically on the session
//   6. ONE all-or-nothing reservation of every send-counting window (otp-abuse.ts): client
//      address (1547), number prefix, brand daily budget, identifier window, identifier day
//      (1534); when it is refused, the first full one in that order decides the code
//   7. delivery; a failure gives back the reservation and the cooldown claim (1503)
// Every refusal of steps 3-6 (and 3b, which is a request error) happens before the provider is called, counts against nothing
// (the cooldown claim is undone) and writes an `otp_send_refused` audit event {code, reason}.
import { StoreUnavailableError, fail } from '../domain/errors.ts';
import { identifierKey } from '../domain/types.ts';
import { generateOtp } from '../crypto/otp.ts';
import type { User } from '../ports/durable-store.ts';
import type { FlowDeps, RequestContext } from './deps.ts';
import { audit } from './audit.ts';
import { assertNotLocked } from './lockout.ts';
import { chooseDelivery, composeMessage, parseLocale, type DeliveryRequest } from './otp-delivery.ts';
import { countryRefusal, explainRefusal, sendLimits } from './otp-abuse.ts';
import { payloadHashRefusal } from './payload-hash.ts';
import { loadSession } from './session-checks.ts';

const DAY_S = 24 * 3600;
const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

/** The §7 fields of the body, untouched. */
export interface SendProof {
  hash?: unknown;
  timeStamp?: unknown;
  /** identifierValue exactly as the body sent it (legacy shape: its `mobile`). */
  rawIdentifierValue: string;
}

/** What the request says about delivery: `?fallbackChannel=`, `mobile`/`email`, `locale`. */
export interface SendOptions extends DeliveryRequest {
  locale?: unknown;
}

export async function sendOtp(deps: FlowDeps, ctx: RequestContext, sessionId: string, proof?: SendProof, options: SendOptions = {}): Promise<void> {
  const locale = parseLocale(options.locale);
  const session = await loadSession(deps, ctx, sessionId, 1541);
  const { config, name } = ctx.brand;
  // The user is read only when something needs it (the account lock, a fallback destination):
  // the common path of otp/generate makes no durable read.
  let user: User | null | undefined;
  const loadUser = async () => (user !== undefined ? user : (user = await deps.users.findUser(name, session.identifier)));
  if (config.accountLocking.enabled) await assertNotLocked(deps, ctx, await loadUser(), session.identifier);
  if (!config.otpEnabled) fail(1503);

  const hashRefusal = await payloadHashRefusal(deps, ctx.brand, 'OTP', {
    hash: proof?.hash,
    timeStamp: proof?.timeStamp,
    identifierValue: proof?.rawIdentifierValue ?? ctx.identifier.value,
    sessionId,
  });
  if (hashRefusal !== null) return refuse(deps, ctx, 5004, hashRefusal);

  const delivery = await chooseDelivery(config, session, loadUser, options);
  const { channel, to } = delivery;
  const provider = config.channels.providers[channel] ?? null;
  if (!deps.sender.canDeliver(channel, provider)) fail(1603);
  const notAllowed = countryRefusal(config, to);
  // 1534 (not 1503): the number may receive no OTP at all, and 1503 reads as "try again"; a
  // day's Retry-After tells a client not to retry soon (the brand's list may change).
  if (notAllowed !== null) return refuse(deps, ctx, 1534, notAllowed, DAY_S);

  const now = deps.clock.now();
  const claim = await deps.sessions.claimSend(session.id, now, config.otpResendCooldownSeconds * 1000);
  if (!claim.ok) {
    if (claim.retryAfterMs === 0) fail(1505); // the session ended meanwhile
    return refuse(deps, ctx, 1547, 'resend_cooldown', seconds(claim.retryAfterMs));
  }
  const undoClaim = () => deps.sessions.releaseSend(session.id, now, claim.previous);

  const limits = sendLimits(name, config, session.identifier, to, ctx.ip);
  const reservation = await deps.limits.reserve(limits.map(({ key, windowMs, max }) => ({ key, windowMs, max })), now);
  if (!reservation.ok) {
    await undoClaim();
    const full = await explainRefusal(deps, limits, now);
    return refuse(deps, ctx, full?.code ?? 1534, full?.reason ?? 'send_limit', seconds(reservation.retryAfterMs));
  }

  // In production, brand testOtps count only when the deployment allows them
  // (AUTH_ALLOW_TEST_OTPS): otherwise a listed identifier gets a real code, really sent.
  const fixed = deps.testOtpsAllowed ? (config.testOtps[identifierKey(session.identifier)] ?? config.testOtps[identifierKey(to)]) : undefined;
  const code = fixed ?? generateOtp(config.otpLength);
  // An OTP never outlives its session.
  const expiresAt = Math.min(now + config.otpValiditySeconds * 1000, session.expiresAt);

  if (fixed === undefined) {
    // Deliver before storing: if the provider fails, the code the user may already hold
    // stays valid, the quota and the cooldown are given back, and 1503 lets them retry.
    const minutes = Math.ceil((expiresAt - now) / 60000);
    const { text, subject } = composeMessage(config, { brand: name, channel, code, minutes, locale });
    try {
      await deps.sender.send({ brand: name, identifier: identifierKey(session.identifier), channel, to: to.value, subject, text, otp: code, provider });
    } catch (err) {
      await deps.limits.release(reservation.id);
      await undoClaim();
      // Our own storage being down (the outbox provider writes to it) is 1599, not a
      // delivery failure of the provider.
      if (err instanceof StoreUnavailableError) throw err;
      await audit(deps, ctx, 'otp_send_failed', { channel });
      return fail(1503);
    }
  }
  let stored: boolean;
  try {
    // `to` is recorded only when a fallback sent the code elsewhere: OTP validation then marks
    // that identifier, not the session's usual destination, as proven.
    const otp = { hash: deps.secrets.otpHash(session.id, code), expiresAt, sentAt: now, to: delivery.elsewhere ? to : null };
    stored = await deps.sessions.setOtp(session.id, otp, now);
  } catch (err) {
    // The code went out but could not be stored: it will not validate, so it must not use up
    // the customer's quota either (best effort: the same store may be the one that is down).
    await deps.limits.release(reservation.id).catch(() => undefined);
    await undoClaim().catch(() => undefined);
    throw err;
  }
  // The session was consumed or expired while we were delivering.
  if (!stored) fail(1505);
  if (fixed !== undefined) await audit(deps, ctx, 'test_otp_used', { channel });
  await audit(deps, ctx, 'otp_sent', { channel, test: fixed !== undefined });
}

/** Audits a refused send and answers it. */
async function refuse(deps: FlowDeps, ctx: RequestContext, code: 1534 | 1547 | 5004, reason: string, retryAfterSeconds?: number): Promise<never> {
  await audit(deps, ctx, 'otp_send_refused', { code, reason });
  return fail(code, retryAfterSeconds === undefined ? undefined : { retryAfterSeconds });
}
