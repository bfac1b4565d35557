// The LimitStore contract (src/ports/limit-store.ts): sliding-window reservations (OTP send
// limits) and failure counters with locks (password retry budget, account lock). Every adapter
// (embedded SQLite, Redis, PostgreSQL, …) must pass it: run it from a `<adapter>.test.ts` file
// with a `make` that opens a fresh, empty store. Only port methods are used here, so the suite
// is adapter-neutral.
//
// Times are relative to the real clock so an adapter that keeps a native TTL sees realistic
// values; "later" is always expressed through the `now` argument, never by sleeping. Windows
// are half-open: an event at `at` counts while now < at + windowMs (so retryAfterMs is exactly
// the time until a retry succeeds).
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { FailureState, LimitStore, WindowLimit } from '../../src/ports/limit-store.ts';
import { withFreshStore, type MakeStore } from '../helpers/store-contract.ts';

export type MakeLimitStore = MakeStore<LimitStore>;

const SECOND = 1_000;
const MINUTE = 60_000;

export function limitStoreContract(name: string, make: MakeLimitStore): void {
  const withStore = (fn: (store: LimitStore) => Promise<void>) => withFreshStore(make, fn);

  const base = Date.now();
  /** A fresh key per call, so no two tests (or adapters sharing a server) collide. */
  const key = (label: string) => `contract:${label}:${randomUUID()}`;
  const limit = (k: string, max: number, windowMs: number): WindowLimit => ({ key: k, max, windowMs });
  const okRes = (r: Awaited<ReturnType<LimitStore['reserve']>>) => {
    assert.equal(r.ok, true, `expected a reservation, got ${JSON.stringify(r)}`);
    return r.ok ? r.id : '';
  };
  const NONE: FailureState = { count: 0, lastFailureAt: null, lockedUntil: null };

  describe(`LimitStore contract: ${name}`, () => {
    // ---- reserve / release -----------------------------------------------------------------

    test('reserve: max N in a window: N are ok, then refused until the oldest event leaves the window', async () => {
      await withStore(async (store) => {
        const l = limit(key('otp'), 3, MINUTE);
        const ids = [okRes(await store.reserve([l], base)), okRes(await store.reserve([l], base + SECOND)), okRes(await store.reserve([l], base + 2 * SECOND))];
        assert.equal(new Set(ids).size, 3, 'reservation ids must be distinct');
        // oldest-in-window + window − now.
        assert.deepEqual(await store.reserve([l], base + 3 * SECOND), { ok: false, retryAfterMs: MINUTE - 3 * SECOND });
        assert.deepEqual(await store.reserve([l], base + MINUTE - 1), { ok: false, retryAfterMs: 1 });
        // The oldest event has left the window: one slot.
        okRes(await store.reserve([l], base + MINUTE));
        // Now the oldest in the window is the one at base + 1 s.
        assert.deepEqual(await store.reserve([l], base + MINUTE), { ok: false, retryAfterMs: SECOND });
        assert.deepEqual(await store.reserve([l], base + MINUTE + 500), { ok: false, retryAfterMs: 500 });
      });
    });

    test('reserve: a refused reserve records nothing; events outside the window do not count', async () => {
      await withStore(async (store) => {
        const l = limit(key('otp'), 2, MINUTE);
        okRes(await store.reserve([l], base));
        okRes(await store.reserve([l], base));
        // Many refusals …
        for (let i = 1; i <= 10; i++) assert.equal((await store.reserve([l], base + i * SECOND)).ok, false);
        // … do not push the window: both slots free up together when the first events leave it.
        okRes(await store.reserve([l], base + MINUTE));
        okRes(await store.reserve([l], base + MINUTE));
        assert.deepEqual(await store.reserve([l], base + MINUTE), { ok: false, retryAfterMs: MINUTE });
        // Long after, the window is empty again.
        okRes(await store.reserve([l], base + 10 * MINUTE));
        okRes(await store.reserve([l], base + 10 * MINUTE));
      });
    });

    test('reserve: all or nothing across several limits; the wait is until every full one has room', async () => {
      await withStore(async (store) => {
        const win = limit(key('window'), 2, MINUTE);
        const day = limit(key('day'), 1, 24 * 60 * MINUTE);
        okRes(await store.reserve([win, day], base));
        // The day limit is full: nothing is recorded under the window limit either …
        for (let i = 0; i < 5; i++) assert.deepEqual(await store.reserve([win, day], base + SECOND), { ok: false, retryAfterMs: 24 * 60 * MINUTE - SECOND });
        // … so it still has exactly one slot left.
        okRes(await store.reserve([win], base + SECOND));
        assert.deepEqual(await store.reserve([win], base + 2 * SECOND), { ok: false, retryAfterMs: MINUTE - 2 * SECOND });
        // Order does not matter, and with both full the wait is the longer one.
        assert.deepEqual(await store.reserve([day, win], base + 3 * SECOND), { ok: false, retryAfterMs: 24 * 60 * MINUTE - 3 * SECOND });

        // The same with the full limit first in the list.
        const full = limit(key('full'), 1, MINUTE);
        const free = limit(key('free'), 1, MINUTE);
        okRes(await store.reserve([full], base));
        assert.deepEqual(await store.reserve([full, free], base + SECOND), { ok: false, retryAfterMs: MINUTE - SECOND });
        okRes(await store.reserve([free], base + SECOND));
      });
    });

    test('release gives the slot back, under every key of the reservation, once', async () => {
      await withStore(async (store) => {
        const a = limit(key('a'), 2, MINUTE);
        const b = limit(key('b'), 2, MINUTE);
        const first = okRes(await store.reserve([a, b], base));
        okRes(await store.reserve([a, b], base + SECOND));
        assert.equal((await store.reserve([a], base + 2 * SECOND)).ok, false);
        assert.equal((await store.reserve([b], base + 2 * SECOND)).ok, false);

        await store.release(first);
        // Releasing it again (a retried cleanup) must not free a second slot.
        await store.release(first);
        okRes(await store.reserve([a], base + 2 * SECOND));
        okRes(await store.reserve([b], base + 2 * SECOND));
        // The remaining oldest event is the one at base + 1 s.
        assert.deepEqual(await store.reserve([a], base + 3 * SECOND), { ok: false, retryAfterMs: MINUTE - 2 * SECOND });
        assert.deepEqual(await store.reserve([b], base + 3 * SECOND), { ok: false, retryAfterMs: MINUTE - 2 * SECOND });

        // An unknown id is harmless.
        await store.release(randomUUID());
        assert.equal((await store.reserve([a], base + 3 * SECOND)).ok, false);
      });
    });

    test('reserve: keys are independent', async () => {
      await withStore(async (store) => {
        const a = limit(key('a'), 1, MINUTE);
        const b = limit(key('b'), 1, MINUTE);
        okRes(await store.reserve([a], base));
        assert.equal((await store.reserve([a], base)).ok, false);
        okRes(await store.reserve([b], base));
      });
    });

    test('reserve: 50 concurrent reserves with max 5: exactly 5 are ok', async () => {
      await withStore(async (store) => {
        const win = limit(key('window'), 5, MINUTE);
        const day = limit(key('day'), 10, 24 * 60 * MINUTE);
        // Every call is issued before any is awaited, so an async adapter really races.
        const pending = Array.from({ length: 50 }, () => store.reserve([win, day], base));
        const results = await Promise.all(pending);
        const ok = results.filter((r) => r.ok);
        assert.equal(ok.length, 5);
        assert.equal(new Set(ok.map((r) => (r.ok ? r.id : ''))).size, 5);
        for (const r of results) if (!r.ok) assert.equal(r.retryAfterMs, MINUTE);
        // Nothing of the refused ones was recorded under the day limit: 5 slots left there.
        const next = limit(key('window-2'), 100, MINUTE);
        const more = await Promise.all(Array.from({ length: 20 }, () => store.reserve([next, day], base + SECOND)));
        assert.equal(more.filter((r) => r.ok).length, 5);
      });
    });

    // ---- failure counters and locks ----------------------------------------------------------

    test('getFailures of an unknown key is zero, never locked', async () => {
      await withStore(async (store) => {
        assert.deepEqual(await store.getFailures(key('none'), base, 10 * MINUTE), NONE);
      });
    });

    test('recordFailure counts within the window since the last failure, then restarts at 1', async () => {
      await withStore(async (store) => {
        const k = key('pw');
        const W = 10 * MINUTE;
        assert.deepEqual(await store.recordFailure(k, base, W), { count: 1, lastFailureAt: base, lockedUntil: null });
        // The window slides with the last failure: 9 minutes apart, each still counts.
        assert.deepEqual(await store.recordFailure(k, base + 9 * MINUTE, W), { count: 2, lastFailureAt: base + 9 * MINUTE, lockedUntil: null });
        assert.deepEqual(await store.recordFailure(k, base + 18 * MINUTE, W), { count: 3, lastFailureAt: base + 18 * MINUTE, lockedUntil: null });
        assert.deepEqual(await store.getFailures(k, base + 18 * MINUTE + W - 1, W), { count: 3, lastFailureAt: base + 18 * MINUTE, lockedUntil: null });
        // A whole window after the last failure the count is 0 …
        assert.equal((await store.getFailures(k, base + 18 * MINUTE + W, W)).count, 0);
        assert.equal((await store.getFailures(k, base + 18 * MINUTE + W, W)).lockedUntil, null);
        // … and the next failure starts again at 1.
        const later = base + 18 * MINUTE + W;
        assert.deepEqual(await store.recordFailure(k, later, W), { count: 1, lastFailureAt: later, lockedUntil: null });
        assert.deepEqual(await store.getFailures(k, later, W), { count: 1, lastFailureAt: later, lockedUntil: null });
      });
    });

    test('recordFailure without a lock never locks', async () => {
      await withStore(async (store) => {
        const k = key('pw');
        let last: FailureState = NONE;
        for (let i = 0; i < 12; i++) last = await store.recordFailure(k, base + i * SECOND, 10 * MINUTE);
        assert.deepEqual(last, { count: 12, lastFailureAt: base + 11 * SECOND, lockedUntil: null });
      });
    });

    test('the max-th failure sets lockedUntil = now + ms; it is reported until then, even after the count window', async () => {
      await withStore(async (store) => {
        const k = key('lock');
        const W = 10 * MINUTE;
        const lock = { max: 3, ms: 30 * MINUTE };
        assert.deepEqual(await store.recordFailure(k, base, W, lock), { count: 1, lastFailureAt: base, lockedUntil: null });
        assert.deepEqual(await store.recordFailure(k, base + MINUTE, W, lock), { count: 2, lastFailureAt: base + MINUTE, lockedUntil: null });
        assert.deepEqual(await store.getFailures(k, base + MINUTE, W), { count: 2, lastFailureAt: base + MINUTE, lockedUntil: null });
        const t3 = base + 2 * MINUTE;
        assert.deepEqual(await store.recordFailure(k, t3, W, lock), { count: 3, lastFailureAt: t3, lockedUntil: t3 + 30 * MINUTE });
        assert.equal((await store.getFailures(k, t3, W)).lockedUntil, t3 + 30 * MINUTE);
        // The count window (10 min) has passed, the lock (30 min) has not: still locked.
        assert.equal((await store.getFailures(k, t3 + 15 * MINUTE, W)).lockedUntil, t3 + 30 * MINUTE);
        assert.equal((await store.getFailures(k, t3 + 30 * MINUTE - 1, W)).lockedUntil, t3 + 30 * MINUTE);
        // Over at lockedUntil; with the window long gone the count is 0 too.
        const over = await store.getFailures(k, t3 + 30 * MINUTE, W);
        assert.equal(over.lockedUntil, null);
        assert.equal(over.count, 0);
        // A new failure starts a new count, not a new lock.
        assert.deepEqual(await store.recordFailure(k, t3 + 31 * MINUTE, W, lock), { count: 1, lastFailureAt: t3 + 31 * MINUTE, lockedUntil: null });
      });
    });

    test('clearFailures resets the given keys (count and lock) and only those', async () => {
      await withStore(async (store) => {
        const W = 10 * MINUTE;
        const lock = { max: 2, ms: 30 * MINUTE };
        const a = key('a');
        const b = key('b');
        const kept = key('kept');
        for (const k of [a, b, kept]) {
          await store.recordFailure(k, base, W, lock);
          await store.recordFailure(k, base + SECOND, W, lock);
        }
        assert.equal((await store.getFailures(a, base + SECOND, W)).lockedUntil, base + SECOND + 30 * MINUTE);
        await store.clearFailures([a, b, key('never-used')]);
        assert.deepEqual(await store.getFailures(a, base + 2 * SECOND, W), NONE);
        assert.deepEqual(await store.getFailures(b, base + 2 * SECOND, W), NONE);
        assert.deepEqual(await store.getFailures(kept, base + 2 * SECOND, W), { count: 2, lastFailureAt: base + SECOND, lockedUntil: base + SECOND + 30 * MINUTE });
        assert.deepEqual(await store.recordFailure(a, base + 3 * SECOND, W, lock), { count: 1, lastFailureAt: base + 3 * SECOND, lockedUntil: null });
        // An empty list is harmless.
        await store.clearFailures([]);
        assert.equal((await store.getFailures(kept, base + 3 * SECOND, W)).count, 2);
      });
    });

    test('failure counters: keys are independent', async () => {
      await withStore(async (store) => {
        const W = 10 * MINUTE;
        const a = key('a');
        const b = key('b');
        await store.recordFailure(a, base, W, { max: 2, ms: MINUTE });
        await store.recordFailure(a, base, W, { max: 2, ms: MINUTE });
        assert.deepEqual(await store.getFailures(b, base, W), NONE);
        assert.deepEqual(await store.recordFailure(b, base, W, { max: 2, ms: MINUTE }), { count: 1, lastFailureAt: base, lockedUntil: null });
        assert.equal((await store.getFailures(a, base, W)).count, 2);
      });
    });

    test('recordFailure: 50 concurrent calls get the counts 1..50 exactly once; the lock is set once reached', async () => {
      await withStore(async (store) => {
        const W = 10 * MINUTE;
        const k = key('race');
        const lock = { max: 5, ms: 15 * MINUTE };
        // Every call is issued before any is awaited, so an async adapter really races.
        const pending = Array.from({ length: 50 }, () => store.recordFailure(k, base, W, lock));
        const states = await Promise.all(pending);
        assert.deepEqual(
          states.map((s) => s.count).sort((x, y) => x - y),
          Array.from({ length: 50 }, (_, i) => i + 1),
        );
        for (const s of states) assert.equal(s.lockedUntil, s.count >= 5 ? base + 15 * MINUTE : null, `count ${s.count}`);
        assert.deepEqual(await store.getFailures(k, base, W), { count: 50, lastFailureAt: base, lockedUntil: base + 15 * MINUTE });

        // Without a lock, the same.
        const plain = key('race-plain');
        const counts = await Promise.all(Array.from({ length: 50 }, () => store.recordFailure(plain, base, W)));
        assert.deepEqual(
          counts.map((s) => s.count).sort((x, y) => x - y),
          Array.from({ length: 50 }, (_, i) => i + 1),
        );
      });
    });
  });
}
