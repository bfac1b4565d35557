// Runs the SessionStore contract against the embedded SQLite adapter, plus what only a file
// can show: the sessions survive closing and reopening the database.
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SqliteSessionStore } from '../../src/storage/sqlite/sqlite-session-store.ts';
import { sessionStoreContract } from './session-store.contract.ts';
import { makeInTempDir, tempRoot } from '../helpers/store-contract.ts';

const root = tempRoot('ae-contract-sessions-');

sessionStoreContract('SqliteSessionStore', makeInTempDir(root, (dir) => new SqliteSessionStore(join(dir, 'sessions.db'))));

test('SqliteSessionStore: a session, its OTP, failures and consumed flag survive a reopen', async () => {
  const dir = mkdtempSync(join(root, 'reopen-'));
  const file = join(dir, 'sessions.db');
  const now = Date.now();
  const expiresAt = now + 20 * 60_000;
  const base = {
    brand: 'DOCDEMO',
    variant: 'mobile' as const,
    identifier: { type: 'MOBILE' as const, value: '919999999993' },
    deviceId: 'device-1',
    signup: null,
    destination: null,
    pendingPassword: { hash: 'pending-hash', purpose: 'register' as const },
    createdAt: now,
    expiresAt,
  };
  let store = new SqliteSessionStore(file);
  try {
    await store.create({ ...base, id: 'P-live' });
    await store.create({ ...base, id: 'P-used' });
    await store.setOtp('P-live', { hash: 'otp-hash', expiresAt: now + 600_000, sentAt: now }, now);
    await store.recordOtpFailure('P-live');
    assert.equal(await store.consume('P-used', { now }), true);
    await store.close();

    store = new SqliteSessionStore(file);
    assert.deepEqual(await store.get('P-live', now), {
      ...base,
      id: 'P-live',
      otpHash: 'otp-hash',
      otpExpiresAt: now + 600_000,
      otpSentAt: now,
      otpTo: null,
      otpFailures: 1,
      consumed: false,
    });
    assert.equal((await store.get('P-used', now))?.consumed, true);
    assert.equal(await store.consume('P-used', { now }), false);
    assert.equal(await store.consume('P-live', { now, otpHash: 'otp-hash', maxFailures: 5 }), true);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
