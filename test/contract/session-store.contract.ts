// The SessionStore contract (src/ports/session-store.ts). Every adapter (embedded SQLite,
// Redis, …) must pass it: run it from a `<adapter>.test.ts` file with a `make` that opens a
// fresh, empty store. Only port methods are used here, so the suite is adapter-neutral.
//
// Times are relative to the real clock (Date.now()) so an adapter that also keeps a native
// TTL (Redis PEXPIREAT) sees realistic values; "later" is always expressed through the `now`
// argument, never by sleeping.
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { NewSession, Session, SessionStore } from '../../src/ports/session-store.ts';
import { withFreshStore, type MakeStore } from '../helpers/store-contract.ts';

export type MakeSessionStore = MakeStore<SessionStore>;

const MINUTE = 60_000;

export function sessionStoreContract(name: string, make: MakeSessionStore): void {
  const withStore = (fn: (store: SessionStore) => Promise<void>) => withFreshStore(make, fn);

  const base = Date.now();
  const expiresAt = base + 20 * MINUTE;

  /** A USERNAME sign-up session: every optional part filled in, nested values included. */
  const fullSession = (over: Partial<NewSession> = {}): NewSession => ({
    id: `P-${randomUUID()}`,
    brand: 'CONTRACT',
    variant: 'mobile',
    identifier: { type: 'USERNAME', value: 'alice.contract' },
    deviceId: 'device-1',
    signup: [
      { type: 'MOBILE', value: '919999999993' },
      { type: 'EMAIL', value: 'alice@example.com' },
    ],
    destination: { type: 'MOBILE', value: '919999999993' },
    pendingPassword: { hash: '$argon2id$v=19$m=1024,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo', purpose: 'register' },
    createdAt: base,
    expiresAt,
    ...over,
  });

  /** A plain web session: every optional part null (nulls must come back as null). */
  const bareSession = (over: Partial<NewSession> = {}): NewSession => ({
    id: `P-${randomUUID()}`,
    brand: 'CONTRACT',
    variant: 'web',
    identifier: { type: 'EMAIL', value: 'bob@example.com' },
    deviceId: null,
    signup: null,
    destination: null,
    pendingPassword: null,
    createdAt: base,
    expiresAt,
    ...over,
  });

  const fresh = (s: NewSession): Session => ({ ...s, otpHash: null, otpExpiresAt: null, otpSentAt: null, otpTo: null, otpFailures: 0, consumed: false });
  const otp = (hash: string) => ({ hash, expiresAt: base + 10 * MINUTE, sentAt: base });

  describe(`SessionStore contract: ${name}`, () => {
    test('create/get round trip keeps every field, nested values included', async () => {
      await withStore(async (store) => {
        const a = fullSession();
        const b = bareSession();
        const c = fullSession({ variant: 'web', deviceId: null, pendingPassword: { hash: 'reset-hash', purpose: 'reset' }, signup: null });
        for (const s of [a, b, c]) await store.create(s);
        assert.deepEqual(await store.get(a.id, base), fresh(a));
        assert.deepEqual(await store.get(b.id, base), fresh(b));
        assert.deepEqual(await store.get(c.id, base), fresh(c));
      });
    });

    test('get of an unknown id is null', async () => {
      await withStore(async (store) => {
        await store.create(bareSession());
        assert.equal(await store.get(`P-${randomUUID()}`, base), null);
        assert.equal(await store.get('', base), null);
      });
    });

    test('get is null once the caller\'s clock reaches expiresAt, and live just before', async () => {
      await withStore(async (store) => {
        const s = bareSession();
        await store.create(s);
        assert.notEqual(await store.get(s.id, expiresAt - 1), null);
        assert.equal(await store.get(s.id, expiresAt), null);
        assert.equal(await store.get(s.id, expiresAt + 60 * MINUTE), null);
      });
    });

    test('setOtp stores the OTP; a second setOtp replaces it and keeps otpFailures', async () => {
      await withStore(async (store) => {
        const s = fullSession();
        await store.create(s);
        assert.equal(await store.setOtp(s.id, { hash: 'hash-1', expiresAt: base + 5 * MINUTE, sentAt: base }, base), true);
        let got = await store.get(s.id, base);
        assert.equal(got?.otpHash, 'hash-1');
        assert.equal(got?.otpExpiresAt, base + 5 * MINUTE);
        assert.equal(got?.otpSentAt, base);
        assert.equal(got?.otpFailures, 0);

        assert.equal(await store.recordOtpFailure(s.id), 1);
        assert.equal(await store.recordOtpFailure(s.id), 2);

        const later = base + MINUTE;
        assert.equal(await store.setOtp(s.id, { hash: 'hash-2', expiresAt: later + 5 * MINUTE, sentAt: later }, later), true);
        got = await store.get(s.id, later);
        assert.deepEqual(got, { ...fresh(s), otpHash: 'hash-2', otpExpiresAt: later + 5 * MINUTE, otpSentAt: later, otpFailures: 2 });
      });
    });

    test('setOtp records where a fallback sent the OTP; the next OTP without `to` clears it', async () => {
      await withStore(async (store) => {
        const s = fullSession();
        await store.create(s);
        const to = { type: 'EMAIL' as const, value: 'fallback@example.com' };
        assert.equal(await store.setOtp(s.id, { ...otp('hash-1'), to }, base), true);
        assert.deepEqual((await store.get(s.id, base))?.otpTo, to);
        assert.equal(await store.setOtp(s.id, otp('hash-2'), base), true);
        const got = await store.get(s.id, base);
        assert.equal(got?.otpTo, null);
        assert.equal(got?.otpHash, 'hash-2');
      });
    });

    test('setOtp on a consumed, expired or unknown session is false and changes nothing', async () => {
      await withStore(async (store) => {
        const consumed = bareSession();
        await store.create(consumed);
        await store.setOtp(consumed.id, otp('old'), base);
        assert.equal(await store.consume(consumed.id, { now: base }), true);
        assert.equal(await store.setOtp(consumed.id, otp('new'), base), false);
        assert.equal((await store.get(consumed.id, base))?.otpHash, 'old');

        const expired = bareSession();
        await store.create(expired);
        assert.equal(await store.setOtp(expired.id, otp('late'), expiresAt), false);
        assert.equal((await store.get(expired.id, base))?.otpHash ?? null, null);

        assert.equal(await store.setOtp(`P-${randomUUID()}`, otp('x'), base), false);
      });
    });

    test('recordOtpFailure: 50 concurrent calls get the counts 1..50, each exactly once', async () => {
      await withStore(async (store) => {
        const s = bareSession();
        await store.create(s);
        await store.setOtp(s.id, otp('h'), base);
        const counts = await Promise.all(Array.from({ length: 50 }, () => store.recordOtpFailure(s.id)));
        assert.deepEqual([...counts].sort((x, y) => x - y), Array.from({ length: 50 }, (_, i) => i + 1));
        assert.equal((await store.get(s.id, base))?.otpFailures, 50);
      });
    });

    test('recordOtpFailure counts per session', async () => {
      await withStore(async (store) => {
        const a = bareSession();
        const b = bareSession();
        await store.create(a);
        await store.create(b);
        await store.recordOtpFailure(a.id);
        await store.recordOtpFailure(a.id);
        assert.equal(await store.recordOtpFailure(b.id), 1);
        assert.equal((await store.get(a.id, base))?.otpFailures, 2);
      });
    });

    test('consume: exactly one of 50 concurrent callers gets true', async () => {
      await withStore(async (store) => {
        const s = bareSession();
        await store.create(s);
        await store.setOtp(s.id, otp('h'), base);
        const plain = await Promise.all(Array.from({ length: 50 }, () => store.consume(s.id, { now: base })));
        assert.equal(plain.filter(Boolean).length, 1);
        assert.equal((await store.get(s.id, base))?.consumed, true);

        // The same with both guards, as otp/validate calls it.
        const t = bareSession();
        await store.create(t);
        await store.setOtp(t.id, otp('h'), base);
        const guarded = await Promise.all(Array.from({ length: 50 }, () => store.consume(t.id, { now: base, otpHash: 'h', maxFailures: 5 })));
        assert.equal(guarded.filter(Boolean).length, 1);
      });
    });

    test('consume after a successful consume is false', async () => {
      await withStore(async (store) => {
        const s = bareSession();
        await store.create(s);
        assert.equal(await store.consume(s.id, { now: base }), true);
        assert.equal(await store.consume(s.id, { now: base }), false);
        assert.equal(await store.consume(`P-${randomUUID()}`, { now: base }), false);
      });
    });

    test('consume with otpHash fails once the OTP was replaced, succeeds with the current one', async () => {
      await withStore(async (store) => {
        const s = bareSession();
        await store.create(s);
        // No OTP yet: a hash guard cannot match.
        assert.equal(await store.consume(s.id, { now: base, otpHash: 'first' }), false);
        await store.setOtp(s.id, otp('first'), base);
        await store.setOtp(s.id, otp('second'), base);
        assert.equal(await store.consume(s.id, { now: base, otpHash: 'first' }), false);
        assert.equal((await store.get(s.id, base))?.consumed, false);
        assert.equal(await store.consume(s.id, { now: base, otpHash: 'second' }), true);
      });
    });

    test('consume with maxFailures fails once failures reach the maximum', async () => {
      await withStore(async (store) => {
        const s = bareSession();
        await store.create(s);
        await store.setOtp(s.id, otp('h'), base);
        for (let i = 0; i < 3; i++) await store.recordOtpFailure(s.id);
        assert.equal(await store.consume(s.id, { now: base, otpHash: 'h', maxFailures: 3 }), false);
        assert.equal(await store.consume(s.id, { now: base, maxFailures: 2 }), false);
        assert.equal((await store.get(s.id, base))?.consumed, false);
        assert.equal(await store.consume(s.id, { now: base, otpHash: 'h', maxFailures: 4 }), true);
      });
    });

    test('consume of an expired session is false', async () => {
      await withStore(async (store) => {
        const s = bareSession();
        await store.create(s);
        await store.setOtp(s.id, otp('h'), base);
        assert.equal(await store.consume(s.id, { now: expiresAt }), false);
        assert.equal(await store.consume(s.id, { now: expiresAt + MINUTE, otpHash: 'h' }), false);
        // Still not consumed: the refusal wrote nothing.
        assert.equal((await store.get(s.id, base))?.consumed, false);
      });
    });

    // ---- Resend cooldown (claimSend / releaseSend) ----------------------------------------

    const GAP = 30_000;

    test('claimSend: the first claim is ok with previous null; one within the gap is refused with the time left', async () => {
      await withStore(async (store) => {
        const s = bareSession();
        await store.create(s);
        assert.deepEqual(await store.claimSend(s.id, base, GAP), { ok: true, previous: null });
        assert.deepEqual(await store.claimSend(s.id, base, GAP), { ok: false, retryAfterMs: GAP });
        assert.deepEqual(await store.claimSend(s.id, base + 3_000, GAP), { ok: false, retryAfterMs: GAP - 3_000 });
        assert.deepEqual(await store.claimSend(s.id, base + GAP - 1, GAP), { ok: false, retryAfterMs: 1 });
        // A refused claim records nothing: the wait is still counted from the first claim.
        assert.deepEqual(await store.claimSend(s.id, base + GAP - 500, GAP), { ok: false, retryAfterMs: 500 });
      });
    });

    test('claimSend: once the gap has passed the claim is ok and returns the earlier send time', async () => {
      await withStore(async (store) => {
        const s = bareSession();
        await store.create(s);
        assert.deepEqual(await store.claimSend(s.id, base, GAP), { ok: true, previous: null });
        assert.deepEqual(await store.claimSend(s.id, base + GAP, GAP), { ok: true, previous: base });
        assert.deepEqual(await store.claimSend(s.id, base + GAP + 1_000, GAP), { ok: false, retryAfterMs: GAP - 1_000 });
        assert.deepEqual(await store.claimSend(s.id, base + 3 * GAP, GAP), { ok: true, previous: base + GAP });
        // The cooldown counts from the last claim, per session: another session is not affected.
        const other = bareSession();
        await store.create(other);
        assert.deepEqual(await store.claimSend(other.id, base + 3 * GAP, GAP), { ok: true, previous: null });
      });
    });

    test('claimSend: a gap of 0 never refuses', async () => {
      await withStore(async (store) => {
        const s = bareSession();
        await store.create(s);
        assert.deepEqual(await store.claimSend(s.id, base, 0), { ok: true, previous: null });
        assert.deepEqual(await store.claimSend(s.id, base, 0), { ok: true, previous: base });
        assert.deepEqual(await store.claimSend(s.id, base + 1, 0), { ok: true, previous: base });
      });
    });

    test('claimSend: of 20 concurrent claims within the gap exactly one is ok; the others wait the whole gap', async () => {
      await withStore(async (store) => {
        const s = bareSession();
        await store.create(s);
        // Every call is issued before any is awaited, so an async adapter really races.
        const pending = Array.from({ length: 20 }, () => store.claimSend(s.id, base, GAP));
        const results = await Promise.all(pending);
        const won = results.filter((r) => r.ok);
        assert.equal(won.length, 1);
        assert.deepEqual(won[0], { ok: true, previous: null });
        for (const r of results) if (!r.ok) assert.equal(r.retryAfterMs, GAP);
        assert.deepEqual(await store.claimSend(s.id, base + GAP, GAP), { ok: true, previous: base });
      });
    });

    test('claimSend on a consumed, expired or unknown session is refused with retryAfterMs 0', async () => {
      await withStore(async (store) => {
        // Consumed after a send: the session is over, not cooling down (the caller answers "session ended").
        const consumed = bareSession();
        await store.create(consumed);
        assert.equal((await store.claimSend(consumed.id, base, GAP)).ok, true);
        await store.setOtp(consumed.id, otp('h'), base);
        assert.equal(await store.consume(consumed.id, { now: base, otpHash: 'h' }), true);
        assert.deepEqual(await store.claimSend(consumed.id, base + 1_000, GAP), { ok: false, retryAfterMs: 0 });
        assert.deepEqual(await store.claimSend(consumed.id, base + 2 * GAP, GAP), { ok: false, retryAfterMs: 0 });

        // Consumed without any send.
        const unsent = bareSession();
        await store.create(unsent);
        assert.equal(await store.consume(unsent.id, { now: base }), true);
        assert.deepEqual(await store.claimSend(unsent.id, base, GAP), { ok: false, retryAfterMs: 0 });

        // Expired, with and without an earlier send inside the gap.
        const expired = bareSession();
        await store.create(expired);
        assert.deepEqual(await store.claimSend(expired.id, expiresAt, GAP), { ok: false, retryAfterMs: 0 });
        const sentThenExpired = bareSession();
        await store.create(sentThenExpired);
        assert.equal((await store.claimSend(sentThenExpired.id, expiresAt - 1_000, GAP)).ok, true);
        assert.deepEqual(await store.claimSend(sentThenExpired.id, expiresAt, GAP), { ok: false, retryAfterMs: 0 });

        assert.deepEqual(await store.claimSend(`P-${randomUUID()}`, base, GAP), { ok: false, retryAfterMs: 0 });
      });
    });

    test('releaseSend restores the previous send time while the claim is still the last one', async () => {
      await withStore(async (store) => {
        // First send failed: back to "never sent", so the next claim is ok at once.
        const s = bareSession();
        await store.create(s);
        const first = await store.claimSend(s.id, base, GAP);
        assert.deepEqual(first, { ok: true, previous: null });
        await store.releaseSend(s.id, base, null);
        assert.deepEqual(await store.claimSend(s.id, base + 1_000, GAP), { ok: true, previous: null });

        // A later send failed: the cooldown counts from the earlier, delivered send again.
        const t = bareSession();
        await store.create(t);
        assert.equal((await store.claimSend(t.id, base, GAP)).ok, true);
        assert.deepEqual(await store.claimSend(t.id, base + GAP, GAP), { ok: true, previous: base });
        await store.releaseSend(t.id, base + GAP, base);
        assert.deepEqual(await store.claimSend(t.id, base + GAP + 1, GAP), { ok: true, previous: base });
      });
    });

    test('releaseSend of a claim that is no longer the last one changes nothing', async () => {
      await withStore(async (store) => {
        const s = bareSession();
        await store.create(s);
        assert.deepEqual(await store.claimSend(s.id, base, GAP), { ok: true, previous: null });
        assert.deepEqual(await store.claimSend(s.id, base + GAP, GAP), { ok: true, previous: base });
        // The first claim's late failure must not wipe out the second, successful claim.
        await store.releaseSend(s.id, base, null);
        assert.deepEqual(await store.claimSend(s.id, base + GAP + 1_000, GAP), { ok: false, retryAfterMs: GAP - 1_000 });
        assert.deepEqual(await store.claimSend(s.id, base + 2 * GAP, GAP), { ok: true, previous: base + GAP });
        // Releasing a claim that never happened, or on an unknown session, is harmless.
        await store.releaseSend(s.id, base + 5, base);
        assert.deepEqual(await store.claimSend(s.id, base + 2 * GAP + 1, GAP), { ok: false, retryAfterMs: GAP - 1 });
        await store.releaseSend(`P-${randomUUID()}`, base, null);
      });
    });

    // ---- password/forget (setPendingPassword) ----------------------------------------------

    test('setPendingPassword replaces the held password; every other field is kept', async () => {
      await withStore(async (store) => {
        const held = fullSession();
        await store.create(held);
        await store.setOtp(held.id, otp('h'), base);
        await store.recordOtpFailure(held.id);
        const reset = { hash: '$argon2id$new-password', purpose: 'reset' as const };
        assert.equal(await store.setPendingPassword(held.id, reset, base), true);
        assert.deepEqual(await store.get(held.id, base), { ...fresh(held), pendingPassword: reset, otpHash: 'h', otpExpiresAt: base + 10 * MINUTE, otpSentAt: base, otpFailures: 1 });
        // A second call replaces the first.
        const again = { hash: '$argon2id$newer-password', purpose: 'reset' as const };
        assert.equal(await store.setPendingPassword(held.id, again, base + 1), true);
        assert.deepEqual((await store.get(held.id, base + 1))?.pendingPassword, again);

        // A session created without one.
        const bare = bareSession();
        await store.create(bare);
        assert.equal(await store.setPendingPassword(bare.id, reset, base), true);
        assert.deepEqual(await store.get(bare.id, base), { ...fresh(bare), pendingPassword: reset });
      });
    });

    test('setPendingPassword on a consumed, expired or unknown session is false and changes nothing', async () => {
      await withStore(async (store) => {
        const reset = { hash: '$argon2id$new-password', purpose: 'reset' as const };
        const consumed = fullSession();
        await store.create(consumed);
        assert.equal(await store.consume(consumed.id, { now: base }), true);
        assert.equal(await store.setPendingPassword(consumed.id, reset, base), false);
        assert.deepEqual((await store.get(consumed.id, base))?.pendingPassword, consumed.pendingPassword);

        const expired = bareSession();
        await store.create(expired);
        assert.equal(await store.setPendingPassword(expired.id, reset, expiresAt), false);
        assert.equal((await store.get(expired.id, base))?.pendingPassword, null);

        assert.equal(await store.setPendingPassword(`P-${randomUUID()}`, reset, base), false);
      });
    });

    test('sweep removes only sessions past their expiry and returns how many', async () => {
      await withStore(async (store) => {
        const short1 = bareSession({ expiresAt: base + 5 * MINUTE });
        const short2 = fullSession({ expiresAt: base + 6 * MINUTE });
        const long = fullSession({ expiresAt: base + 60 * MINUTE });
        for (const s of [short1, short2, long]) await store.create(s);
        await store.setOtp(long.id, otp('h'), base);
        await store.recordOtpFailure(long.id);

        const at = base + 10 * MINUTE;
        assert.equal(await store.sweep(at), 2);
        // Removed, not merely hidden: not found even with a clock before their expiry.
        assert.equal(await store.get(short1.id, base), null);
        assert.equal(await store.get(short2.id, base), null);
        assert.deepEqual(await store.get(long.id, at), { ...fresh(long), otpHash: 'h', otpExpiresAt: base + 10 * MINUTE, otpSentAt: base, otpFailures: 1 });
        assert.equal(await store.sweep(at), 0);
      });
    });
  });
}
