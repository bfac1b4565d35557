// Contract of the CredentialStore port: a credential change is applied whole or not at all.
// Adapter-neutral: the stores it checks through are the same deployment's ports.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AuditEvent, AuditStore, CredentialStore, KeyStore, RevocationStore, UserStore } from '../../src/ports/durable-store.ts';
import type { LimitStore } from '../../src/ports/limit-store.ts';
import { withFreshStore, type MakeStore } from '../helpers/store-contract.ts';

export interface CredentialStores {
  credentials: CredentialStore;
  users: UserStore;
  keys: KeyStore;
  revocations: RevocationStore;
  audit: AuditStore;
  limits: LimitStore;
}

const NOW = Date.UTC(2026, 10, 22, 12);
const WINDOW = 30 * 60_000;

/** A user with keys on two devices, a spent failure count and one revocable jti. */
async function seed(s: CredentialStores) {
  const user = await s.users.createUser('DOCDEMO', [{ type: 'MOBILE', value: '919999999993', verified: true }], 'old-hash', NOW);
  for (const device of ['device-1', 'device-2']) {
    await s.keys.saveKey({ jti: `jti-${device}`, brand: 'DOCDEMO', uid: user.uid, deviceId: device, keyHash: `hash-${device}`, createdAt: NOW, expiresAt: null });
  }
  await s.limits.recordFailure(`pw:DOCDEMO:${user.uid}`, NOW, WINDOW);
  return user;
}

const event = (type: string): AuditEvent => ({ type, brand: 'DOCDEMO', identifier: 'MOBILE|919999999993', deviceId: 'device-1', ip: '127.0.0.1', at: NOW, detail: { why: 'contract' } });

export function credentialStoreContract(name: string, make: MakeStore<CredentialStores>): void {
  test(`Credential store contract: ${name}: every part of a change is applied`, async () => {
    await withFreshStore(make, async (s) => {
      const user = await seed(s);
      const mark = { notBefore: NOW * 1000, exceptDevice: 'device-1', exceptJti: null, onlyDevice: null };
      await s.credentials.applyCredentialChange({
        brand: 'DOCDEMO',
        uid: user.uid,
        now: NOW + 1,
        passwordHash: 'new-hash',
        revokeKeys: { exceptDeviceId: 'device-1' },
        mark,
        revokeJti: { jti: 'token-jti', expiresAt: NOW + 60_000 },
        clearFailures: [`pw:DOCDEMO:${user.uid}`],
        audit: event('password_change'),
      });
      assert.equal((await s.users.findUser('DOCDEMO', { type: 'MOBILE', value: '919999999993' }))?.passwordHash, 'new-hash');
      assert.equal((await s.keys.findKeyByHash('hash-device-1'))?.revokedAt, null, 'the calling device keeps its key');
      assert.equal((await s.keys.findKeyByHash('hash-device-2'))?.revokedAt, NOW + 1, 'the other device is revoked');
      assert.deepEqual(await s.revocations.getUserMarks('DOCDEMO', user.uid), [mark]);
      assert.equal(await s.revocations.isJtiRevoked('token-jti'), true);
      assert.equal((await s.limits.getFailures(`pw:DOCDEMO:${user.uid}`, NOW + 2, WINDOW)).count, 0);
      assert.deepEqual((await s.audit.listAudit({ brand: 'DOCDEMO', limit: 5 })).map((e) => e.type), ['password_change']);
    });
  });

  test(`Credential store contract: ${name}: key scopes — one device, all devices`, async () => {
    await withFreshStore(make, async (s) => {
      const user = await seed(s);
      await s.credentials.applyCredentialChange({ brand: 'DOCDEMO', uid: user.uid, now: NOW + 1, revokeKeys: { deviceId: 'device-2' } });
      assert.equal((await s.keys.findKeyByHash('hash-device-1'))?.revokedAt, null);
      assert.equal((await s.keys.findKeyByHash('hash-device-2'))?.revokedAt, NOW + 1);
      await s.credentials.applyCredentialChange({ brand: 'DOCDEMO', uid: user.uid, now: NOW + 2, revokeKeys: {} });
      assert.equal((await s.keys.findKeyByHash('hash-device-1'))?.revokedAt, NOW + 2);
      assert.equal((await s.keys.findKeyByHash('hash-device-2'))?.revokedAt, NOW + 1, 'an earlier revocation keeps its time');
      // Another brand's change touches nothing of this brand.
      await s.credentials.applyCredentialChange({ brand: 'OTHER', uid: user.uid, now: NOW + 3, passwordHash: 'x', revokeKeys: {} });
      assert.equal((await s.users.findUser('DOCDEMO', { type: 'MOBILE', value: '919999999993' }))?.passwordHash, 'old-hash');
    });
  });

  test(`Credential store contract: ${name}: a change that cannot be stored whole leaves nothing behind`, async () => {
    await withFreshStore(make, async (s) => {
      const user = await seed(s);
      // The last part (an audit event without a type) violates the schema: everything before
      // it in the same change must be rolled back.
      await assert.rejects(
        s.credentials.applyCredentialChange({
          brand: 'DOCDEMO',
          uid: user.uid,
          now: NOW + 1,
          passwordHash: 'new-hash',
          revokeKeys: {},
          mark: { notBefore: NOW * 1000, exceptDevice: null, exceptJti: null, onlyDevice: null },
          revokeJti: { jti: 'token-jti', expiresAt: NOW + 60_000 },
          clearFailures: [`pw:DOCDEMO:${user.uid}`],
          audit: { ...event('x'), type: null as unknown as string },
        }),
      );
      assert.equal((await s.users.findUser('DOCDEMO', { type: 'MOBILE', value: '919999999993' }))?.passwordHash, 'old-hash', 'password unchanged');
      assert.equal((await s.keys.findKeyByHash('hash-device-1'))?.revokedAt, null, 'keys not revoked');
      assert.equal((await s.keys.findKeyByHash('hash-device-2'))?.revokedAt, null, 'keys not revoked');
      assert.deepEqual(await s.revocations.getUserMarks('DOCDEMO', user.uid), [], 'no mark');
      assert.equal(await s.revocations.isJtiRevoked('token-jti'), false, 'token not revoked');
      assert.equal((await s.limits.getFailures(`pw:DOCDEMO:${user.uid}`, NOW + 2, WINDOW)).count, 1, 'failure count kept');
      assert.deepEqual(await s.audit.listAudit({ brand: 'DOCDEMO', limit: 5 }), [], 'no audit event');
    });
  });
}
