// Runs the LimitStore contract against the embedded SQLite adapter (a store over auth.db),
// plus what only a file can show: counters, reservations and locks survive a reopen (a
// restart must not hand out a fresh send quota or a fresh set of password guesses).
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openAuthDb } from '../../src/storage/sqlite/sqlite-durable-store.ts';
import { SqliteLimitStore } from '../../src/storage/sqlite/sqlite-limit-store.ts';
import { limitStoreContract } from './limit-store.contract.ts';
import { tempRoot, type MakeStore } from '../helpers/store-contract.ts';
import type { LimitStore } from '../../src/ports/limit-store.ts';

const root = tempRoot('ae-contract-limits-');

const make: MakeStore<LimitStore> = async () => {
  const dir = mkdtempSync(join(root, 'store-'));
  const db = openAuthDb(join(dir, 'auth.db'));
  return {
    store: new SqliteLimitStore(db),
    cleanup: async () => {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
};

limitStoreContract('SqliteLimitStore', make);

test('SqliteLimitStore: window events, released slots, failure counts and locks survive closing and reopening the file', async () => {
  const dir = mkdtempSync(join(root, 'reopen-'));
  const file = join(dir, 'auth.db');
  const now = Date.UTC(2026, 10, 22, 12, 0, 0);
  const W = 10 * 60_000;
  const win = { key: 'otp:DOCDEMO:MOBILE|919999999993:window', windowMs: W, max: 2 };
  let db = openAuthDb(file);
  try {
    let store = new SqliteLimitStore(db);
    const first = await store.reserve([win], now);
    assert.equal(first.ok, true);
    assert.equal((await store.reserve([win], now + 1_000)).ok, true);
    // Give the first back (a failed delivery), then take the freed slot: events at +1 s and +2 s.
    if (first.ok) await store.release(first.id);
    assert.equal((await store.reserve([win], now + 2_000)).ok, true);
    await store.recordFailure('pw:DOCDEMO:1', now, W);
    await store.recordFailure('pw:DOCDEMO:1', now + 1_000, W);
    for (let i = 0; i < 3; i++) await store.recordFailure('lock:DOCDEMO:uid:1', now + i, W, { max: 3, ms: 30 * 60_000 });
    db.close();

    db = openAuthDb(file);
    store = new SqliteLimitStore(db);
    assert.deepEqual(await store.reserve([win], now + 3_000), { ok: false, retryAfterMs: W - 2_000 });
    assert.deepEqual(await store.getFailures('pw:DOCDEMO:1', now + 2_000, W), { count: 2, lastFailureAt: now + 1_000, lockedUntil: null });
    assert.deepEqual(await store.getFailures('lock:DOCDEMO:uid:1', now + 20 * 60_000, W), { count: 3, lastFailureAt: now + 2, lockedUntil: now + 2 + 30 * 60_000 });
    assert.equal((await store.recordFailure('pw:DOCDEMO:1', now + 3_000, W)).count, 3);
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
