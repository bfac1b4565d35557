// The durable-store contract (src/ports/durable-store.ts): BrandStore, UserStore, KeyStore and
// OutboxStore. Every adapter (embedded SQLite, PostgreSQL, …) must pass it: run it from a
// `<adapter>.test.ts` file with a `make` that opens a fresh, empty store. Only port methods
// are used here, so the suite is adapter-neutral.
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_BRAND_CONFIG } from '../../src/domain/brand-config.ts';
import type { BrandConfig, Identifier } from '../../src/domain/types.ts';
import {
  IdentifierTakenError,
  type BrandStore,
  type KeyRecord,
  type KeyStore,
  type OutboxMessage,
  type OutboxStore,
  type StoredIdentifier,
  type User,
  type UserStore,
} from '../../src/ports/durable-store.ts';
import { withFreshStore, type MakeStore } from '../helpers/store-contract.ts';

export type DurableStore = BrandStore & UserStore & KeyStore & OutboxStore;
export type MakeDurableStore = MakeStore<DurableStore>;

const NOW = Date.UTC(2026, 10, 22, 12, 0, 0);

/** A full config (a fresh, unfrozen copy of the defaults) with some fields changed. */
export const brandConfig = (over: Partial<BrandConfig> = {}): BrandConfig => ({ ...structuredClone(DEFAULT_BRAND_CONFIG), ...over });

const byTypeValue = (a: { type: string; value: string }, b: { type: string; value: string }) =>
  a.type === b.type ? (a.value < b.value ? -1 : a.value > b.value ? 1 : 0) : a.type < b.type ? -1 : 1;
/** Identifier order is not part of the contract: compare as sets. */
const sortedIds = (ids: StoredIdentifier[]) => [...ids].sort(byTypeValue);
const sameUser = (actual: User | null, expected: User) => {
  assert.ok(actual, 'user not found');
  assert.deepEqual({ ...actual, identifiers: sortedIds(actual.identifiers) }, { ...expected, identifiers: sortedIds(expected.identifiers) });
};

const rejectsTaken = async (p: Promise<unknown>, taken?: Identifier) => {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof IdentifierTakenError, `expected IdentifierTakenError, got ${String(err)}`);
    if (taken) assert.deepEqual({ type: err.identifier.type, value: err.identifier.value }, taken);
    return true;
  });
};

export function durableStoreContract(name: string, make: MakeDurableStore): void {
  const withStore = (fn: (store: DurableStore) => Promise<void>) => withFreshStore(make, fn);

  describe(`Durable store contract: ${name}`, () => {
    // ---- BrandStore ----------------------------------------------------------------------

    test('brands: get of an unknown brand is null; put/get round trip keeps the whole config', async () => {
      await withStore(async (store) => {
        assert.equal(await store.getBrand('NOPE'), null);
        const cfg = brandConfig({
          passwordEnabled: true,
          identifierTypes: ['MOBILE', 'USERNAME'],
          otpMaxCount: 3,
          otpTimeOut: 10,
          accountLocking: { enabled: true, maxFailures: 4, lockMinutes: 15 },
          keyValidityMinutes: null,
          passwordPolicy: { minLength: 10, maxLength: 64, regex: '(?=.*\\d).+', rejectCommon: false },
          testOtps: { 'MOBILE|919999999993': '999999' },
        });
        await store.putBrand('DOCDEMO', cfg, NOW);
        assert.deepEqual(await store.getBrand('DOCDEMO'), cfg);
        // Names are exact (callers normalise): another spelling is another brand.
        assert.equal(await store.getBrand('docdemo'), null);
      });
    });

    test('brands: put replaces an existing config', async () => {
      await withStore(async (store) => {
        await store.putBrand('ACME', brandConfig(), NOW);
        const next = brandConfig({ otpEnabled: false, otpLength: 8, tokenValiditySeconds: { mobile: 60, web: 120 } });
        await store.putBrand('ACME', next, NOW + 1000);
        assert.deepEqual(await store.getBrand('ACME'), next);
        assert.deepEqual((await store.listBrands()).map((b) => b.name), ['ACME']);
      });
    });

    test('brands: delete returns true once, then false; the brand is gone', async () => {
      await withStore(async (store) => {
        await store.putBrand('GONE', brandConfig(), NOW);
        await store.putBrand('STAYS', brandConfig({ passwordEnabled: true }), NOW);
        assert.equal(await store.deleteBrand('GONE'), true);
        assert.equal(await store.getBrand('GONE'), null);
        assert.equal(await store.deleteBrand('GONE'), false);
        assert.equal(await store.deleteBrand('NEVER'), false);
        assert.deepEqual(await store.getBrand('STAYS'), brandConfig({ passwordEnabled: true }));
      });
    });

    test('brands: list returns every brand with its config', async () => {
      await withStore(async (store) => {
        assert.deepEqual(await store.listBrands(), []);
        const a = brandConfig({ otpLength: 4 });
        const b = brandConfig({ otpLength: 8 });
        await store.putBrand('BETA', b, NOW);
        await store.putBrand('ALPHA', a, NOW);
        const list = [...(await store.listBrands())].sort((x, y) => (x.name < y.name ? -1 : 1));
        assert.deepEqual(list, [
          { name: 'ALPHA', config: a },
          { name: 'BETA', config: b },
        ]);
      });
    });

    // ---- UserStore -----------------------------------------------------------------------

    test('users: createUser stores every identifier and the password hash; findUser finds it by each', async () => {
      await withStore(async (store) => {
        const ids: StoredIdentifier[] = [
          { type: 'USERNAME', value: 'alice' },
          { type: 'MOBILE', value: '919999999993' },
          { type: 'EMAIL', value: 'alice@example.com' },
        ].map((i, n) => ({ ...(i as Identifier), verified: n !== 2 }));
        const created = await store.createUser('DOCDEMO', ids, '$argon2id$hash-of-alice', NOW);
        assert.match(created.uid, /^[0-9]+$/);
        sameUser(created, { uid: created.uid, brand: 'DOCDEMO', identifiers: ids, passwordHash: '$argon2id$hash-of-alice', createdAt: NOW });
        for (const id of ids) sameUser(await store.findUser('DOCDEMO', { type: id.type, value: id.value }), created);
      });
    });

    test('users: findUser of an unknown identifier, or a known value under another type, is null', async () => {
      await withStore(async (store) => {
        await store.createUser('DOCDEMO', [{ type: 'USERNAME', value: '12345678', verified: true }], null, NOW);
        assert.equal(await store.findUser('DOCDEMO', { type: 'MOBILE', value: '12345678' }), null);
        assert.equal(await store.findUser('DOCDEMO', { type: 'USERNAME', value: 'someone' }), null);
      });
    });

    test('users: a user without a password has passwordHash null', async () => {
      await withStore(async (store) => {
        const u = await store.createUser('DOCDEMO', [{ type: 'MOBILE', value: '911111111111', verified: true }], null, NOW);
        assert.equal(u.passwordHash, null);
        assert.equal((await store.findUser('DOCDEMO', { type: 'MOBILE', value: '911111111111' }))?.passwordHash, null);
      });
    });

    test('users: every uid is a unique numeric string', async () => {
      await withStore(async (store) => {
        const uids: string[] = [];
        for (let i = 0; i < 10; i++) {
          const brand = i % 2 === 0 ? 'A' : 'B';
          uids.push((await store.createUser(brand, [{ type: 'MOBILE', value: `9100000000${i}`, verified: true }], null, NOW)).uid);
        }
        for (const uid of uids) assert.match(uid, /^[0-9]+$/);
        assert.equal(new Set(uids).size, uids.length);
      });
    });

    test('users: a taken identifier makes createUser throw IdentifierTakenError and write nothing', async () => {
      await withStore(async (store) => {
        const owner = await store.createUser('DOCDEMO', [{ type: 'MOBILE', value: '919999999993', verified: true }], 'owner-hash', NOW);
        await rejectsTaken(
          store.createUser(
            'DOCDEMO',
            [
              { type: 'USERNAME', value: 'mallory', verified: true },
              { type: 'EMAIL', value: 'mallory@example.com', verified: false },
              { type: 'MOBILE', value: '919999999993', verified: false },
            ],
            'mallory-hash',
            NOW,
          ),
          { type: 'MOBILE', value: '919999999993' },
        );
        // No partial user: the other identifiers of the failed call are still free …
        assert.equal(await store.findUser('DOCDEMO', { type: 'USERNAME', value: 'mallory' }), null);
        assert.equal(await store.findUser('DOCDEMO', { type: 'EMAIL', value: 'mallory@example.com' }), null);
        // … the owner is untouched …
        sameUser(await store.findUser('DOCDEMO', { type: 'MOBILE', value: '919999999993' }), owner);
        // … and those identifiers can be used by the next sign-up.
        const next = await store.createUser(
          'DOCDEMO',
          [
            { type: 'USERNAME', value: 'mallory', verified: true },
            { type: 'EMAIL', value: 'mallory@example.com', verified: false },
          ],
          null,
          NOW,
        );
        assert.notEqual(next.uid, owner.uid);
        sameUser(await store.findUser('DOCDEMO', { type: 'EMAIL', value: 'mallory@example.com' }), next);
      });
    });

    test('users: 20 concurrent createUser of one identifier: exactly one succeeds, the rest write nothing', async () => {
      await withStore(async (store) => {
        const results = await Promise.allSettled(
          Array.from({ length: 20 }, (_, i) =>
            store.createUser(
              'DOCDEMO',
              [
                { type: 'EMAIL', value: `racer${i}@example.com`, verified: false },
                { type: 'USERNAME', value: 'popular', verified: true },
              ],
              `hash-${i}`,
              NOW,
            ),
          ),
        );
        const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [{ i, user: r.value }] : []));
        assert.equal(won.length, 1);
        for (const r of results) {
          if (r.status === 'rejected') assert.ok(r.reason instanceof IdentifierTakenError, `unexpected error: ${String(r.reason)}`);
        }
        const winner = won[0];
        sameUser(await store.findUser('DOCDEMO', { type: 'USERNAME', value: 'popular' }), winner.user);
        assert.equal(winner.user.passwordHash, `hash-${winner.i}`);
        for (let i = 0; i < 20; i++) {
          const found = await store.findUser('DOCDEMO', { type: 'EMAIL', value: `racer${i}@example.com` });
          if (i === winner.i) assert.equal(found?.uid, winner.user.uid);
          else assert.equal(found, null, `loser ${i} left its email behind`);
        }
      });
    });

    test('users: updateUser sets the password hash and verifies the given identifiers only', async () => {
      await withStore(async (store) => {
        const u = await store.createUser(
          'DOCDEMO',
          [
            { type: 'USERNAME', value: 'carol', verified: true },
            { type: 'MOBILE', value: '917777777777', verified: false },
            { type: 'EMAIL', value: 'carol@example.com', verified: false },
          ],
          null,
          NOW,
        );
        await store.updateUser('DOCDEMO', u.uid, { passwordHash: 'carol-hash-1', verify: [{ type: 'EMAIL', value: 'carol@example.com' }] });
        let got = await store.findUser('DOCDEMO', { type: 'USERNAME', value: 'carol' });
        sameUser(got, {
          ...u,
          passwordHash: 'carol-hash-1',
          identifiers: [
            { type: 'USERNAME', value: 'carol', verified: true },
            { type: 'MOBILE', value: '917777777777', verified: false },
            { type: 'EMAIL', value: 'carol@example.com', verified: true },
          ],
        });

        // verify alone keeps the password; password alone keeps the flags.
        await store.updateUser('DOCDEMO', u.uid, { verify: [{ type: 'MOBILE', value: '917777777777' }] });
        got = await store.findUser('DOCDEMO', { type: 'MOBILE', value: '917777777777' });
        assert.equal(got?.passwordHash, 'carol-hash-1');
        assert.ok(got?.identifiers.every((i) => i.verified), 'every identifier should be verified');
        await store.updateUser('DOCDEMO', u.uid, { passwordHash: 'carol-hash-2' });
        got = await store.findUser('DOCDEMO', { type: 'EMAIL', value: 'carol@example.com' });
        assert.equal(got?.passwordHash, 'carol-hash-2');
        assert.ok(got?.identifiers.every((i) => i.verified), 'a password update must keep the verified flags');
      });
    });

    test('users: brands are separate: one identifier value in two brands is two users', async () => {
      await withStore(async (store) => {
        const id = { type: 'MOBILE', value: '919999999993' } as const;
        const a = await store.createUser('BRAND_A', [{ ...id, verified: true }], 'hash-a', NOW);
        assert.equal(await store.findUser('BRAND_B', id), null);
        const b = await store.createUser('BRAND_B', [{ ...id, verified: false }], null, NOW + 1);
        assert.notEqual(a.uid, b.uid);
        sameUser(await store.findUser('BRAND_A', id), a);
        sameUser(await store.findUser('BRAND_B', id), b);
        assert.equal((await store.findUser('BRAND_B', id))?.brand, 'BRAND_B');
        assert.equal(await store.findUser('BRAND_C', id), null);

        // An update addressed through the wrong brand changes nothing.
        await store.updateUser('BRAND_B', a.uid, { passwordHash: 'hijacked', verify: [id] });
        sameUser(await store.findUser('BRAND_A', id), a);
        sameUser(await store.findUser('BRAND_B', id), b);
      });
    });

    // ---- KeyStore ------------------------------------------------------------------------

    test('keys: saveKey/findKeyByHash round trip; an unknown hash is null', async () => {
      await withStore(async (store) => {
        const u = await store.createUser('DOCDEMO', [{ type: 'MOBILE', value: '919999999993', verified: true }], null, NOW);
        const forever: KeyRecord = { jti: randomUUID(), brand: 'DOCDEMO', uid: u.uid, deviceId: 'device-1', keyHash: 'key-hash-1', createdAt: NOW, expiresAt: null };
        const expiring: KeyRecord = { ...forever, jti: randomUUID(), deviceId: 'device-2', keyHash: 'key-hash-2', expiresAt: NOW + 3_600_000 };
        await store.saveKey(forever);
        await store.saveKey(expiring);
        assert.deepEqual(await store.findKeyByHash('key-hash-1'), { ...forever, revokedAt: null, retiredAt: null, successorSealed: null });
        assert.deepEqual(await store.findKeyByHash('key-hash-2'), { ...expiring, revokedAt: null, retiredAt: null, successorSealed: null });
        assert.equal(await store.findKeyByHash('key-hash-3'), null);
      });
    });

    test('keys: saves made together are each settled on their own row; a bad one (taken hash) fails alone', async () => {
      await withStore(async (store) => {
        const u = await store.createUser('DOCDEMO', [{ type: 'MOBILE', value: '919999999994', verified: true }], null, NOW);
        await store.saveKey({ jti: randomUUID(), brand: 'DOCDEMO', uid: u.uid, deviceId: 'd0', keyHash: 'taken-hash', createdAt: NOW, expiresAt: null });
        const keys: KeyRecord[] = Array.from({ length: 12 }, (_, i) => ({ jti: randomUUID(), brand: 'DOCDEMO', uid: u.uid, deviceId: `d${i}`, keyHash: i === 5 ? 'taken-hash' : `batch-hash-${i}`, createdAt: NOW + i, expiresAt: i % 2 ? null : NOW + 1000 }));
        const results = await Promise.allSettled(keys.map((k) => store.saveKey(k)));
        assert.deepEqual(results.map((r) => r.status), keys.map((_, i) => (i === 5 ? 'rejected' : 'fulfilled')));
        for (const [i, k] of keys.entries()) {
          if (i === 5) continue;
          assert.deepEqual(await store.findKeyByHash(k.keyHash), { ...k, revokedAt: null, retiredAt: null, successorSealed: null });
        }
        assert.equal((await store.findKeyByHash('taken-hash'))?.deviceId, 'd0', 'the taken hash still names the first key');
      });
    });

    /** A live key of `uid` on `deviceId`; the hash is unique per call unless given. */
    const keyOf = (brand: string, uid: string, deviceId: string, over: Partial<KeyRecord> = {}): KeyRecord => ({
      jti: randomUUID(),
      brand,
      uid,
      deviceId,
      keyHash: `key-hash-${randomUUID()}`,
      createdAt: NOW,
      expiresAt: NOW + 3_600_000,
      ...over,
    });
    const live = (k: KeyRecord) => ({ ...k, revokedAt: null, retiredAt: null, successorSealed: null });

    test('keys: rotateKey retires the old key with the sealed successor and saves the successor', async () => {
      await withStore(async (store) => {
        const u = await store.createUser('DOCDEMO', [{ type: 'MOBILE', value: '919999999993', verified: true }], null, NOW);
        const old = keyOf('DOCDEMO', u.uid, 'device-1');
        await store.saveKey(old);
        // The successor keeps the first key's absolute lifetime (a flow decision; the store keeps what it is given).
        const next = keyOf('DOCDEMO', u.uid, 'device-1', { createdAt: NOW + 60_000, expiresAt: old.expiresAt });
        assert.equal(await store.rotateKey(old.keyHash, next, 'sealed-successor-1', NOW + 60_000), 'rotated');
        assert.deepEqual(await store.findKeyByHash(old.keyHash), { ...old, revokedAt: null, retiredAt: NOW + 60_000, successorSealed: 'sealed-successor-1' });
        assert.deepEqual(await store.findKeyByHash(next.keyHash), live(next));

        // The successor is itself a live key: it can be rotated in turn.
        const third = keyOf('DOCDEMO', u.uid, 'device-1', { createdAt: NOW + 120_000 });
        assert.equal(await store.rotateKey(next.keyHash, third, 'sealed-successor-2', NOW + 120_000), 'rotated');
        assert.equal((await store.findKeyByHash(next.keyHash))?.successorSealed, 'sealed-successor-2');
        assert.deepEqual(await store.findKeyByHash(third.keyHash), live(third));
      });
    });

    test('keys: a second rotateKey of the same old key is lost and its successor is not saved', async () => {
      await withStore(async (store) => {
        const u = await store.createUser('DOCDEMO', [{ type: 'MOBILE', value: '919999999993', verified: true }], null, NOW);
        const old = keyOf('DOCDEMO', u.uid, 'device-1');
        await store.saveKey(old);
        const first = keyOf('DOCDEMO', u.uid, 'device-1');
        const second = keyOf('DOCDEMO', u.uid, 'device-1');
        assert.equal(await store.rotateKey(old.keyHash, first, 'sealed-first', NOW + 1_000), 'rotated');
        assert.equal(await store.rotateKey(old.keyHash, second, 'sealed-second', NOW + 2_000), 'lost');
        assert.equal(await store.findKeyByHash(second.keyHash), null);
        // The old key still points at the first successor, retired at the first rotation.
        assert.deepEqual(await store.findKeyByHash(old.keyHash), { ...old, revokedAt: null, retiredAt: NOW + 1_000, successorSealed: 'sealed-first' });
        assert.deepEqual(await store.findKeyByHash(first.keyHash), live(first));
      });
    });

    test('keys: rotateKey of an unknown key is lost and saves nothing', async () => {
      await withStore(async (store) => {
        const u = await store.createUser('DOCDEMO', [{ type: 'MOBILE', value: '919999999993', verified: true }], null, NOW);
        const next = keyOf('DOCDEMO', u.uid, 'device-1');
        assert.equal(await store.rotateKey('no-such-hash', next, 'sealed', NOW), 'lost');
        assert.equal(await store.findKeyByHash(next.keyHash), null);
      });
    });

    test('keys: rotateKey of a revoked key is lost: nothing retired, no successor', async () => {
      await withStore(async (store) => {
        const u = await store.createUser('DOCDEMO', [{ type: 'MOBILE', value: '919999999993', verified: true }], null, NOW);
        const old = keyOf('DOCDEMO', u.uid, 'device-1');
        await store.saveKey(old);
        assert.equal(await store.revokeKeys('DOCDEMO', u.uid, { deviceId: 'device-1' }, NOW + 1_000), 1);
        const next = keyOf('DOCDEMO', u.uid, 'device-1');
        assert.equal(await store.rotateKey(old.keyHash, next, 'sealed', NOW + 2_000), 'lost');
        assert.equal(await store.findKeyByHash(next.keyHash), null);
        assert.deepEqual(await store.findKeyByHash(old.keyHash), { ...old, revokedAt: NOW + 1_000, retiredAt: null, successorSealed: null });
      });
    });

    test('keys: 20 concurrent rotations of one key: exactly one rotates and only its successor exists', async () => {
      await withStore(async (store) => {
        const u = await store.createUser('DOCDEMO', [{ type: 'MOBILE', value: '919999999993', verified: true }], null, NOW);
        const old = keyOf('DOCDEMO', u.uid, 'device-1');
        await store.saveKey(old);
        const successors = Array.from({ length: 20 }, () => keyOf('DOCDEMO', u.uid, 'device-1', { createdAt: NOW + 1_000 }));
        // Every call is issued before any is awaited, so an async adapter really races.
        const pending = successors.map((next, i) => store.rotateKey(old.keyHash, next, `sealed-${i}`, NOW + 1_000));
        const outcomes = await Promise.all(pending);
        const winners = outcomes.flatMap((o, i) => (o === 'rotated' ? [i] : []));
        assert.equal(winners.length, 1, `outcomes: ${outcomes.join(',')}`);
        for (const o of outcomes) assert.ok(o === 'rotated' || o === 'lost');
        const w = winners[0];
        for (let i = 0; i < successors.length; i++) {
          const found = await store.findKeyByHash(successors[i].keyHash);
          if (i === w) assert.deepEqual(found, live(successors[i]));
          else assert.equal(found, null, `loser ${i} left its successor behind`);
        }
        assert.equal((await store.findKeyByHash(old.keyHash))?.successorSealed, `sealed-${w}`);
      });
    });

    test('keys: revokeKeys by device, all but one device, or all; counts only live keys of that user and brand', async () => {
      await withStore(async (store) => {
        const u = await store.createUser('BRAND_A', [{ type: 'MOBILE', value: '911111111111', verified: true }], null, NOW);
        const v = await store.createUser('BRAND_A', [{ type: 'MOBILE', value: '922222222222', verified: true }], null, NOW);
        const w = await store.createUser('BRAND_B', [{ type: 'MOBILE', value: '911111111111', verified: true }], null, NOW);
        const u1a = keyOf('BRAND_A', u.uid, 'device-1');
        const u1b = keyOf('BRAND_A', u.uid, 'device-1', { expiresAt: null });
        const u2 = keyOf('BRAND_A', u.uid, 'device-2');
        const u3 = keyOf('BRAND_A', u.uid, 'device-3');
        const v1 = keyOf('BRAND_A', v.uid, 'device-1');
        const w1 = keyOf('BRAND_B', w.uid, 'device-1');
        for (const k of [u1a, u1b, u2, u3, v1, w1]) await store.saveKey(k);
        const revokedAt = async (k: KeyRecord) => (await store.findKeyByHash(k.keyHash))?.revokedAt;

        // One device.
        assert.equal(await store.revokeKeys('BRAND_A', u.uid, { deviceId: 'device-1' }, NOW + 1), 2);
        assert.equal(await revokedAt(u1a), NOW + 1);
        assert.equal(await revokedAt(u1b), NOW + 1);
        for (const k of [u2, u3, v1, w1]) assert.equal(await revokedAt(k), null);
        // Already revoked: not counted again, revocation time kept.
        assert.equal(await store.revokeKeys('BRAND_A', u.uid, { deviceId: 'device-1' }, NOW + 2), 0);
        assert.equal(await revokedAt(u1a), NOW + 1);
        // A device without keys.
        assert.equal(await store.revokeKeys('BRAND_A', u.uid, { deviceId: 'device-9' }, NOW + 2), 0);

        // Every device but one: device-3 goes, device-2 stays, device-1 (already revoked) is not counted.
        assert.equal(await store.revokeKeys('BRAND_A', u.uid, { exceptDeviceId: 'device-2' }, NOW + 3), 1);
        assert.equal(await revokedAt(u3), NOW + 3);
        assert.equal(await revokedAt(u2), null);
        assert.equal(await revokedAt(u1b), NOW + 1);

        // Through another brand: nothing.
        assert.equal(await store.revokeKeys('BRAND_B', u.uid, {}, NOW + 4), 0);
        assert.equal(await revokedAt(u2), null);

        // All: the last live key of u; the other users' keys are untouched.
        assert.equal(await store.revokeKeys('BRAND_A', u.uid, {}, NOW + 5), 1);
        assert.equal(await revokedAt(u2), NOW + 5);
        assert.equal(await store.revokeKeys('BRAND_A', u.uid, {}, NOW + 6), 0);
        assert.equal(await revokedAt(v1), null);
        assert.equal(await revokedAt(w1), null);
        assert.deepEqual(await store.findKeyByHash(v1.keyHash), live(v1));
        assert.deepEqual(await store.findKeyByHash(w1.keyHash), live(w1));
      });
    });

    test('users: deleteUser erases the user, its identifiers and its keys; the identifiers are free again', async () => {
      await withStore(async (store) => {
        const ids: StoredIdentifier[] = [
          { type: 'USERNAME', value: 'erased', verified: true },
          { type: 'MOBILE', value: '919999999993', verified: true },
          { type: 'EMAIL', value: 'erased@example.com', verified: false },
        ];
        const u = await store.createUser('DOCDEMO', ids, 'erased-hash', NOW);
        const other = await store.createUser('DOCDEMO', [{ type: 'MOBILE', value: '918888888888', verified: true }], null, NOW);
        const sameValueOtherBrand = await store.createUser('OTHER', [{ type: 'MOBILE', value: '919999999993', verified: true }], null, NOW);
        const k1 = keyOf('DOCDEMO', u.uid, 'device-1');
        const k2 = keyOf('DOCDEMO', u.uid, 'device-2');
        const k2next = keyOf('DOCDEMO', u.uid, 'device-2');
        const otherKey = keyOf('DOCDEMO', other.uid, 'device-1');
        for (const k of [k1, k2, otherKey]) await store.saveKey(k);
        assert.equal(await store.rotateKey(k2.keyHash, k2next, 'sealed', NOW + 1), 'rotated');

        assert.equal(await store.deleteUser('DOCDEMO', u.uid), true);
        for (const id of ids) assert.equal(await store.findUser('DOCDEMO', { type: id.type, value: id.value }), null);
        for (const k of [k1, k2, k2next]) assert.equal(await store.findKeyByHash(k.keyHash), null);
        // Everyone else is untouched.
        assert.equal((await store.findUser('DOCDEMO', { type: 'MOBILE', value: '918888888888' }))?.uid, other.uid);
        assert.deepEqual(await store.findKeyByHash(otherKey.keyHash), live(otherKey));
        sameUser(await store.findUser('OTHER', { type: 'MOBILE', value: '919999999993' }), sameValueOtherBrand);

        // Once only.
        assert.equal(await store.deleteUser('DOCDEMO', u.uid), false);
        // The identifiers can make a new user, with a new uid.
        const again = await store.createUser('DOCDEMO', ids, null, NOW + 2);
        assert.notEqual(again.uid, u.uid);
        sameUser(await store.findUser('DOCDEMO', { type: 'EMAIL', value: 'erased@example.com' }), again);
      });
    });

    test('users: deleteUser of an unknown uid, or through another brand, is false and erases nothing', async () => {
      await withStore(async (store) => {
        const u = await store.createUser('BRAND_A', [{ type: 'MOBILE', value: '919999999993', verified: true }], 'hash', NOW);
        const k = keyOf('BRAND_A', u.uid, 'device-1');
        await store.saveKey(k);
        assert.equal(await store.deleteUser('BRAND_B', u.uid), false);
        assert.equal(await store.deleteUser('BRAND_A', '987654321'), false);
        sameUser(await store.findUser('BRAND_A', { type: 'MOBILE', value: '919999999993' }), u);
        assert.deepEqual(await store.findKeyByHash(k.keyHash), live(k));
      });
    });

    // ---- OutboxStore ---------------------------------------------------------------------

    test('outbox: newest first, with brand / identifier / to / limit filters', async () => {
      await withStore(async (store) => {
        const msg = (n: number, brand: string, identifier: string, to: string, channel = 'SMS'): OutboxMessage => ({
          brand,
          identifier,
          channel,
          to,
          text: `Your ${brand} code is ${100000 + n}.`,
          otp: String(100000 + n),
          createdAt: NOW + n * 1000,
        });
        const m = [
          msg(0, 'A', 'MOBILE|911111111111', '911111111111'),
          msg(1, 'B', 'MOBILE|911111111111', '911111111111'),
          msg(2, 'A', 'EMAIL|x@example.com', 'x@example.com', 'EMAIL'),
          msg(3, 'A', 'USERNAME|dave', '911111111111'),
          msg(4, 'A', 'MOBILE|911111111111', '911111111111'),
          msg(5, 'A', 'USERNAME|erin', '922222222222'),
        ];
        for (const x of m) await store.appendOutbox(x);

        assert.deepEqual(await store.listOutbox({ limit: 100 }), [m[5], m[4], m[3], m[2], m[1], m[0]]);
        assert.deepEqual(await store.listOutbox({ limit: 2 }), [m[5], m[4]]);
        assert.deepEqual(await store.listOutbox({ brand: 'A', limit: 100 }), [m[5], m[4], m[3], m[2], m[0]]);
        assert.deepEqual(await store.listOutbox({ brand: 'B', limit: 100 }), [m[1]]);
        assert.deepEqual(await store.listOutbox({ brand: 'C', limit: 100 }), []);
        assert.deepEqual(await store.listOutbox({ identifier: 'MOBILE|911111111111', limit: 100 }), [m[4], m[1], m[0]]);
        assert.deepEqual(await store.listOutbox({ brand: 'A', identifier: 'MOBILE|911111111111', limit: 100 }), [m[4], m[0]]);
        // identifier + to: the session identifier or the destination (a USERNAME login's code).
        assert.deepEqual(await store.listOutbox({ brand: 'A', identifier: 'MOBILE|911111111111', to: '911111111111', limit: 100 }), [m[4], m[3], m[0]]);
        assert.deepEqual(await store.listOutbox({ identifier: 'USERNAME|dave', to: 'dave', limit: 100 }), [m[3]]);
        assert.deepEqual(await store.listOutbox({ identifier: 'MOBILE|911111111111', to: '911111111111', limit: 1 }), [m[4]]);
        // to alone: the destination only.
        assert.deepEqual(await store.listOutbox({ to: '922222222222', limit: 100 }), [m[5]]);
        assert.deepEqual(await store.listOutbox({ brand: 'B', to: '922222222222', limit: 100 }), []);
      });
    });
  });
}
