// Spec §3.3 otp/validate: prove the OTP, get a USER token (and a key on mobile).
// Order after the session checks: account lock (1544), otpEnabled (1502), no OTP (1537),
// expired (1502), wrong (1506 / 1518, or 1544 when this failure locks the account).
import { AuthError, fail } from '../domain/errors.ts';
import { IdentifierTakenError, type StoredIdentifier, type User } from '../ports/durable-store.ts';
import type { Session } from '../ports/session-store.ts';
import type { FlowDeps, RequestContext } from './deps.ts';
import { audit, auditEvent } from './audit.ts';
import { issueLoginTokens, type LoginResult } from './issue-tokens.ts';
import { assertNotLocked, clearFailures, countTowardLock, failureKeys } from './lockout.ts';
import { loadSession } from './session-checks.ts';

export async function verifyOtp(deps: FlowDeps, ctx: RequestContext, sessionId: string, otp: string): Promise<LoginResult> {
  const session = await loadSession(deps, ctx, sessionId, 1541);
  const { config, name } = ctx.brand;
  // The user is read for the account lock and to log into; a sign-up (no user at
  // token/generate) with locking off needs neither: resolveUser creates it, and falls back to
  // a read only if someone created it meanwhile. One statement less per sign-up.
  const known = session.newUser === true && !config.accountLocking.enabled ? null : await deps.users.findUser(name, session.identifier);
  await assertNotLocked(deps, ctx, known, session.identifier);
  if (!config.otpEnabled) fail(1502);
  if (session.otpHash === null || session.otpExpiresAt === null) fail(1537);
  const now = deps.clock.now();
  if (now >= (session.otpExpiresAt as number)) fail(1502);

  const presented = deps.secrets.otpHash(session.id, otp);
  if (!deps.secrets.equal(presented, session.otpHash as string)) {
    // The increment is atomic, so a burst of wrong guesses cannot exceed the budget:
    // at most maxOtpRetries-1 callers see 1506, every later one 1518.
    const failures = await deps.sessions.recordOtpFailure(session.id);
    const code = failures >= config.maxOtpRetries ? 1518 : 1506;
    await audit(deps, ctx, 'login_failure', { method: 'otp', code });
    await countTowardLock(deps, ctx, known, session.identifier);
    return fail(code);
  }
  // Of concurrent callers with the right code, exactly one consumes the session; the guard
  // also refuses if a new OTP replaced this one or the budget ran out in the meantime.
  const won = await deps.sessions.consume(session.id, { now, otpHash: presented, maxFailures: config.maxOtpRetries });
  if (!won) fail(1505);

  const resolved = await resolveUser(deps, ctx, session, known);
  let user = resolved.user;
  const pending = session.pendingPassword;
  if (pending?.purpose === 'reset') {
    // One atomic change: the new password, every earlier key and token revoked, retry
    // counters cleared, audited. The tokens issued below come after the mark.
    await deps.credentials.applyCredentialChange({
      brand: name,
      uid: user.uid,
      now,
      passwordHash: pending.hash,
      revokeKeys: {},
      mark: { notBefore: deps.tokens.mark(now), exceptDevice: null, exceptJti: null, onlyDevice: null },
      clearFailures: failureKeys(name, user, session.identifier, true),
      audit: auditEvent(deps, ctx, 'password_reset', { uid: user.uid }),
    });
    user = { ...user, passwordHash: pending.hash };
  } else if (config.accountLocking.enabled) {
    // An OTP login clears only the lock count, which exists only while locking is on
    // (lockout.ts neither counts nor reads it otherwise): no write when it is off.
    await clearFailures(deps, name, user, session.identifier, false);
  }
  const result = await issueLoginTokens(deps, ctx, user);
  await audit(deps, ctx, 'login_success', { method: 'otp', uid: user.uid, created: resolved.created });
  return result;
}

/** Creates the user on first success, or records the proof of ownership on a known one. */
async function resolveUser(deps: FlowDeps, ctx: RequestContext, session: Session, known: User | null): Promise<{ user: User; created: boolean }> {
  const brand = ctx.brand.name;
  const now = deps.clock.now();
  const pending = session.pendingPassword;
  // A fallback may have sent the code to another identifier of the customer (otp-delivery.ts).
  const proved = session.otpTo ?? session.destination ?? session.identifier;

  if (session.signup) {
    // USERNAME sign-up: the username and the destination the OTP reached are verified;
    // another given destination stays unverified until an OTP reaches it.
    const ids: StoredIdentifier[] = [session.identifier, ...session.signup].map((i) => ({
      ...i,
      verified: i.type === 'USERNAME' || (i.type === proved.type && i.value === proved.value),
    }));
    try {
      return { user: await deps.users.createUser(brand, ids, pending?.hash ?? null, now), created: true };
    } catch (err) {
      // Two pending sign-ups of one free username: the first validation won.
      if (err instanceof IdentifierTakenError) throw new AuthError(1543);
      throw err;
    }
  }

  // `known` was read at the start of this request; a user created since then by another
  // session surfaces as IdentifierTakenError below and is logged into.
  let user = known;
  if (!user) {
    try {
      return { user: await deps.users.createUser(brand, [{ ...session.identifier, verified: true }], pending?.hash ?? null, now), created: true };
    } catch (err) {
      // Another session of the same new identifier created the user first: log into it.
      if (!(err instanceof IdentifierTakenError)) throw err;
      user = await deps.users.findUser(brand, session.identifier);
      if (!user) throw err;
    }
  }
  // A registration password never overwrites an existing one (a reset is committed by the caller).
  const setPassword = pending?.purpose === 'register' && user.passwordHash === null ? pending.hash : undefined;
  const unverified = user.identifiers.some((i) => i.type === proved.type && i.value === proved.value && !i.verified);
  if (setPassword !== undefined || unverified) {
    await deps.users.updateUser(brand, user.uid, { passwordHash: setPassword, verify: unverified ? [proved] : [] });
    user = (await deps.users.findUser(brand, session.identifier)) ?? user;
  }
  return { user, created: false };
}
