// The RevocationStore and AuditStore contract (src/ports/durable-store.ts): revoked token ids,
// per-user "not before" marks and the audit log. Every adapter (embedded SQLite, PostgreSQL, …)
// must pass it: run it from a `<adapter>.test.ts` file with a `make` that opens a fresh, empty
// store. Only port methods are used here, so the suite is adapter-neutral.
//
// uids are numeric strings, as UserStore.createUser makes them.
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AuditEvent, AuditStore, RevocationStore, UserMark } from '../../src/ports/durable-store.ts';
import { withFreshStore, type MakeStore } from '../helpers/store-contract.ts';

export type RevocationAuditStore = RevocationStore & AuditStore;
export type MakeRevocationStore = MakeStore<RevocationAuditStore>;

const NOW = Date.UTC(2026, 10, 22, 12, 0, 0);
/** Mark times are microseconds from the token service's monotonic clock. */
const MICROS = NOW * 1000 + 123;

export function revocationStoreContract(name: string, make: MakeRevocationStore): void {
  const withStore = (fn: (store: RevocationAuditStore) => Promise<void>) => withFreshStore(make, fn);

  describe(`RevocationStore/AuditStore contract: ${name}`, () => {
    // ---- revoked token ids -------------------------------------------------------------------

    test('revokeJti: the jti is revoked, others are not; revoking again is harmless', async () => {
      await withStore(async (store) => {
        const jti = randomUUID();
        const other = randomUUID();
        assert.equal(await store.isJtiRevoked(jti), false);
        await store.revokeJti(jti, 'DOCDEMO', NOW + 3_600_000);
        assert.equal(await store.isJtiRevoked(jti), true);
        assert.equal(await store.isJtiRevoked(other), false);
        // Idempotent (a repeated logout), whatever the brand or expiry given the second time.
        await store.revokeJti(jti, 'DOCDEMO', NOW + 3_600_000);
        await store.revokeJti(jti, 'DOCDEMO', NOW + 60_000);
        assert.equal(await store.isJtiRevoked(jti), true);
        // The same in another brand's name (jtis are unique across brands).
        await store.revokeJti(other, 'OTHER', NOW + 60_000);
        assert.equal(await store.isJtiRevoked(other), true);
      });
    });

    test('revokeJti: many revocations are all kept', async () => {
      await withStore(async (store) => {
        const jtis = Array.from({ length: 30 }, () => randomUUID());
        // Issued together, as concurrent logouts would.
        await Promise.all(jtis.map((j, i) => store.revokeJti(j, i % 2 ? 'A' : 'B', NOW + i)));
        for (const j of jtis) assert.equal(await store.isJtiRevoked(j), true);
        assert.equal(await store.isJtiRevoked(randomUUID()), false);
      });
    });

    test('revocationState: the jti flag and the user marks in one read, per brand and user', async () => {
      await withStore(async (store) => {
        const jti = randomUUID();
        assert.deepEqual(await store.revocationState(jti, 'DOCDEMO', '42'), { jtiRevoked: false, marks: [] });
        const mark: UserMark = { notBefore: MICROS, exceptDevice: 'device-1', exceptJti: 'kept-jti', onlyDevice: null };
        const later: UserMark = { notBefore: MICROS + 5, exceptDevice: null, exceptJti: null, onlyDevice: 'device-2' };
        await store.addUserMark('DOCDEMO', '42', mark);
        await store.addUserMark('DOCDEMO', '42', later);
        assert.deepEqual(await store.revocationState(jti, 'DOCDEMO', '42'), { jtiRevoked: false, marks: await store.getUserMarks('DOCDEMO', '42') });
        assert.deepEqual((await store.revocationState(jti, 'DOCDEMO', '42')).marks, [mark, later]);
        assert.deepEqual(await store.revocationState(jti, 'OTHER', '42'), { jtiRevoked: false, marks: [] }, 'marks are per brand');
        assert.deepEqual(await store.revocationState(jti, 'DOCDEMO', '43'), { jtiRevoked: false, marks: [] }, 'marks are per user');
        assert.deepEqual(await store.revocationState(jti, 'DOCDEMO', null), { jtiRevoked: false, marks: [] }, 'no user, no marks');
        await store.revokeJti(jti, 'DOCDEMO', NOW + 60_000);
        assert.equal((await store.revocationState(jti, 'DOCDEMO', '42')).jtiRevoked, true);
        assert.equal((await store.revocationState(jti, 'DOCDEMO', null)).jtiRevoked, true);
      });
    });

    // ---- per-user marks ----------------------------------------------------------------------

    test('user marks: none until added; add/get round trip with every field', async () => {
      await withStore(async (store) => {
        assert.deepEqual(await store.getUserMarks('DOCDEMO', '42'), []);
        const first: UserMark = { notBefore: MICROS, exceptDevice: 'device-1', exceptJti: null, onlyDevice: null };
        await store.addUserMark('DOCDEMO', '42', first);
        assert.deepEqual(await store.getUserMarks('DOCDEMO', '42'), [first]);
        const device: UserMark = { notBefore: MICROS + 1, exceptDevice: null, exceptJti: null, onlyDevice: 'device-9' };
        await store.addUserMark('DOCDEMO', '42', device);
        assert.deepEqual(await store.getUserMarks('DOCDEMO', '42'), [first, device]);
        // Another user of the brand has none.
        assert.deepEqual(await store.getUserMarks('DOCDEMO', '43'), []);
      });
    });

    test('user marks: a later mark with another exception keeps the earlier one (no resurrection)', async () => {
      await withStore(async (store) => {
        // Password changed on device-1 (spares device-1), then on device-2 (spares device-2):
        // device-2's tokens from before the first change must stay revoked by the first mark.
        const one: UserMark = { notBefore: MICROS, exceptDevice: 'device-1', exceptJti: null, onlyDevice: null };
        const two: UserMark = { notBefore: MICROS + 5_000_000, exceptDevice: 'device-2', exceptJti: null, onlyDevice: null };
        await store.addUserMark('DOCDEMO', '42', one);
        await store.addUserMark('DOCDEMO', '42', two);
        assert.deepEqual(await store.getUserMarks('DOCDEMO', '42'), [one, two]);
      });
    });

    test('user marks: redundant earlier marks may be dropped, never a mark that still revokes more', async () => {
      await withStore(async (store) => {
        const webChange: UserMark = { notBefore: MICROS, exceptDevice: null, exceptJti: 'jti-1', onlyDevice: null };
        const sameScopeLater: UserMark = { ...webChange, notBefore: MICROS + 10 };
        const deviceOnly: UserMark = { notBefore: MICROS + 20, exceptDevice: null, exceptJti: null, onlyDevice: 'device-3' };
        await store.addUserMark('DOCDEMO', '42', webChange);
        await store.addUserMark('DOCDEMO', '42', sameScopeLater);
        await store.addUserMark('DOCDEMO', '42', deviceOnly);
        const marks = await store.getUserMarks('DOCDEMO', '42');
        // The same-scope later mark covers the earlier one; the device-limited one is different.
        assert.ok(marks.some((m) => m.notBefore === sameScopeLater.notBefore && m.exceptJti === 'jti-1'), 'latest same-scope mark kept');
        assert.ok(marks.some((m) => m.onlyDevice === 'device-3'), 'device mark kept');
        // A reset (no exception, every device) revokes everything before it: it is enough alone.
        const reset: UserMark = { notBefore: MICROS + 30, exceptDevice: null, exceptJti: null, onlyDevice: null };
        await store.addUserMark('DOCDEMO', '42', reset);
        const after = await store.getUserMarks('DOCDEMO', '42');
        assert.ok(after.some((m) => m.notBefore === reset.notBefore && m.exceptDevice === null && m.exceptJti === null && m.onlyDevice === null), 'reset kept');
        // Whatever else is kept must not spare anything the reset revokes: every other kept
        // mark is later than the reset (none here).
        assert.deepEqual(after.filter((m) => m.notBefore < reset.notBefore && m !== reset), []);
      });
    });

    test('user marks are per brand', async () => {
      await withStore(async (store) => {
        const a: UserMark = { notBefore: MICROS, exceptDevice: 'device-a', exceptJti: null, onlyDevice: null };
        const b: UserMark = { notBefore: MICROS + 1, exceptDevice: null, exceptJti: 'jti-b', onlyDevice: null };
        await store.addUserMark('BRAND_A', '7', a);
        assert.deepEqual(await store.getUserMarks('BRAND_B', '7'), []);
        await store.addUserMark('BRAND_B', '7', b);
        assert.deepEqual(await store.getUserMarks('BRAND_A', '7'), [a]);
        assert.deepEqual(await store.getUserMarks('BRAND_B', '7'), [b]);
      });
    });

    test('user marks: concurrent adds of different scopes are all kept', async () => {
      await withStore(async (store) => {
        const marks: UserMark[] = Array.from({ length: 10 }, (_, i) => ({ notBefore: MICROS + i, exceptDevice: `device-${i}`, exceptJti: null, onlyDevice: null }));
        await Promise.all(marks.map((m) => store.addUserMark('DOCDEMO', '42', m)));
        const got = await store.getUserMarks('DOCDEMO', '42');
        assert.deepEqual(got.map((m) => m.exceptDevice).sort(), marks.map((m) => m.exceptDevice).sort());
      });
    });

    // ---- audit log ---------------------------------------------------------------------------

    const event = (n: number, brand: string, over: Partial<AuditEvent> = {}): AuditEvent => ({
      type: `type-${n}`,
      brand,
      identifier: `MOBILE|91999999999${n % 10}`,
      deviceId: `device-${n}`,
      ip: '203.0.113.7',
      at: NOW + n * 1000,
      detail: { n },
      ...over,
    });

    test('audit: newest first, with a brand filter and a limit', async () => {
      await withStore(async (store) => {
        assert.deepEqual(await store.listAudit({ limit: 10 }), []);
        const e = [event(0, 'A'), event(1, 'B'), event(2, 'A'), event(3, 'A'), event(4, 'B'), event(5, 'A')];
        for (const x of e) await store.appendAudit(x);
        assert.deepEqual(await store.listAudit({ limit: 100 }), [e[5], e[4], e[3], e[2], e[1], e[0]]);
        assert.deepEqual(await store.listAudit({ limit: 2 }), [e[5], e[4]]);
        assert.deepEqual(await store.listAudit({ brand: 'A', limit: 100 }), [e[5], e[3], e[2], e[0]]);
        assert.deepEqual(await store.listAudit({ brand: 'A', limit: 3 }), [e[5], e[3], e[2]]);
        assert.deepEqual(await store.listAudit({ brand: 'B', limit: 100 }), [e[4], e[1]]);
        assert.deepEqual(await store.listAudit({ brand: 'C', limit: 100 }), []);
        // Names are exact (callers normalise).
        assert.deepEqual(await store.listAudit({ brand: 'a', limit: 100 }), []);
      });
    });

    test('audit: events with the same time keep the order they were appended in', async () => {
      await withStore(async (store) => {
        const e = [0, 1, 2, 3].map((n) => event(n, 'A', { at: NOW }));
        for (const x of e) await store.appendAudit(x);
        assert.deepEqual(await store.listAudit({ brand: 'A', limit: 10 }), [e[3], e[2], e[1], e[0]]);
      });
    });

    test('audit: every field and the detail round-trip; absent parts come back as null', async () => {
      await withStore(async (store) => {
        const full = event(1, 'DOCDEMO', {
          type: 'login_failure',
          identifier: 'EMAIL|ünïcødé@example.com',
          ip: '2001:db8::1',
          detail: {
            code: 1528,
            reason: 'wrong password — "quoted" \\ backslash',
            uid: '42',
            locked: false,
            until: null,
            nested: { list: [1, 'two', { three: 3 }], empty: {} },
            ratio: 0.25,
          },
        });
        const bare = event(2, 'DOCDEMO', { type: 'admin_unlock', identifier: null, deviceId: null, ip: null, detail: {} });
        await store.appendAudit(full);
        await store.appendAudit(bare);
        assert.deepEqual(await store.listAudit({ limit: 10 }), [bare, full]);
      });
    });

    test('audit: concurrent appends are all kept', async () => {
      await withStore(async (store) => {
        const e = Array.from({ length: 30 }, (_, n) => event(n, n % 3 ? 'A' : 'B'));
        await Promise.all(e.map((x) => store.appendAudit(x)));
        const listed = await store.listAudit({ limit: 100 });
        assert.equal(listed.length, 30);
        // Whatever order they landed in, each event is there exactly once.
        const types = listed.map((x) => x.type).sort();
        assert.deepEqual(types, e.map((x) => x.type).sort());
        assert.equal((await store.listAudit({ brand: 'B', limit: 100 })).length, 10);
      });
    });
  });
}
