// Runs the RevocationStore/AuditStore contract against the embedded SQLite adapter (a store
// over auth.db), plus what only a file can show: revocations, marks and the audit log survive
// a reopen (a logout or a password reset must not be undone by a restart).
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openAuthDb } from '../../src/storage/sqlite/sqlite-durable-store.ts';
import { SqliteRevocationStore } from '../../src/storage/sqlite/sqlite-revocation-store.ts';
import { revocationStoreContract, type MakeRevocationStore } from './revocation-store.contract.ts';
import { tempRoot } from '../helpers/store-contract.ts';

const root = tempRoot('ae-contract-revocations-');

const make: MakeRevocationStore = async () => {
  const dir = mkdtempSync(join(root, 'store-'));
  const db = openAuthDb(join(dir, 'auth.db'));
  return {
    store: new SqliteRevocationStore(db),
    cleanup: async () => {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
};

revocationStoreContract('SqliteRevocationStore', make);

test('SqliteRevocationStore: revoked jtis, user marks and the audit log survive closing and reopening the file', async () => {
  const dir = mkdtempSync(join(root, 'reopen-'));
  const file = join(dir, 'auth.db');
  const now = Date.UTC(2026, 10, 22, 12, 0, 0);
  const jti = randomUUID();
  const mark = { notBefore: now * 1000 + 7, exceptDevice: 'device-1', exceptJti: randomUUID(), onlyDevice: null };
  const events = [
    { type: 'logout', brand: 'DOCDEMO', identifier: 'MOBILE|919999999993', deviceId: 'device-1', ip: '127.0.0.1', at: now, detail: { uid: '1' } },
    { type: 'password_change', brand: 'DOCDEMO', identifier: null, deviceId: null, ip: null, at: now + 1, detail: { uid: '1', revoked: 2 } },
  ];
  let db = openAuthDb(file);
  try {
    let store = new SqliteRevocationStore(db);
    await store.revokeJti(jti, 'DOCDEMO', now + 3_600_000);
    await store.addUserMark('DOCDEMO', '1', mark);
    for (const e of events) await store.appendAudit(e);
    db.close();

    db = openAuthDb(file);
    store = new SqliteRevocationStore(db);
    assert.equal(await store.isJtiRevoked(jti), true);
    assert.equal(await store.isJtiRevoked(randomUUID()), false);
    assert.deepEqual(await store.getUserMarks('DOCDEMO', '1'), [mark]);
    assert.deepEqual(await store.listAudit({ brand: 'DOCDEMO', limit: 10 }), [events[1], events[0]]);
    // Appending after the reopen still lists newest first.
    const later = { ...events[0], type: 'login_success', at: now + 2 };
    await store.appendAudit(later);
    assert.deepEqual(await store.listAudit({ limit: 1 }), [later]);
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
