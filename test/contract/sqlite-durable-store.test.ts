// Runs the durable-store contract against the embedded SQLite adapter, plus what only a file
// can show: committed data survives closing and reopening the database.
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SqliteDurableStore } from '../../src/storage/sqlite/sqlite-durable-store.ts';
import { brandConfig, durableStoreContract } from './durable-store.contract.ts';
import { makeInTempDir, tempRoot } from '../helpers/store-contract.ts';

const root = tempRoot('ae-contract-durable-');

durableStoreContract('SqliteDurableStore', makeInTempDir(root, (dir) => new SqliteDurableStore(join(dir, 'auth.db'))));

test('SqliteDurableStore: brands, users, keys and the outbox survive closing and reopening the file', async () => {
  const dir = mkdtempSync(join(root, 'reopen-'));
  const file = join(dir, 'auth.db');
  const now = Date.UTC(2026, 10, 22, 12, 0, 0);
  const cfg = brandConfig({ passwordEnabled: true, otpLength: 8 });
  let store = new SqliteDurableStore(file);
  try {
    await store.putBrand('DOCDEMO', cfg, now);
    await store.putBrand('DELETED', brandConfig(), now);
    await store.deleteBrand('DELETED');
    const user = await store.createUser(
      'DOCDEMO',
      [
        { type: 'USERNAME', value: 'alice', verified: true },
        { type: 'MOBILE', value: '919999999993', verified: false },
      ],
      null,
      now,
    );
    await store.updateUser('DOCDEMO', user.uid, { passwordHash: 'alice-hash', verify: [{ type: 'MOBILE', value: '919999999993' }] });
    const key = { jti: 'jti-1', brand: 'DOCDEMO', uid: user.uid, deviceId: 'device-1', keyHash: 'key-hash-1', createdAt: now, expiresAt: null };
    await store.saveKey(key);
    const msg = { brand: 'DOCDEMO', identifier: 'MOBILE|919999999993', channel: 'SMS', to: '919999999993', text: 'code 12345678', otp: '12345678', createdAt: now };
    await store.appendOutbox(msg);
    await store.close();

    store = new SqliteDurableStore(file);
    assert.deepEqual(await store.getBrand('DOCDEMO'), cfg);
    assert.equal(await store.getBrand('DELETED'), null);
    assert.deepEqual(await store.findUser('DOCDEMO', { type: 'MOBILE', value: '919999999993' }), {
      uid: user.uid,
      brand: 'DOCDEMO',
      identifiers: [
        { type: 'USERNAME', value: 'alice', verified: true },
        { type: 'MOBILE', value: '919999999993', verified: true },
      ],
      passwordHash: 'alice-hash',
      createdAt: now,
    });
    assert.deepEqual(await store.findKeyByHash('key-hash-1'), { ...key, revokedAt: null, retiredAt: null, successorSealed: null });
    assert.deepEqual(await store.listOutbox({ limit: 10 }), [msg]);
    // Uniqueness holds across the reopen: the identifier is still taken, and uids are not reused.
    await assert.rejects(store.createUser('DOCDEMO', [{ type: 'USERNAME', value: 'alice', verified: true }], null, now), { name: 'IdentifierTakenError' });
    const next = await store.createUser('DOCDEMO', [{ type: 'USERNAME', value: 'bob', verified: true }], null, now);
    assert.notEqual(next.uid, user.uid);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
