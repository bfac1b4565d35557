// Runs the RevocationStore/AuditStore contract (test/contract/revocation-store.contract.ts,
// unchanged) against PgRevocationStore, plus: a revocation made through one pool (instance)
// is seen through another at once.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createPgPool } from '../../src/storage/postgres/pg-pool.ts';
import { PgRevocationStore } from '../../src/storage/postgres/pg-revocation-store.ts';
import { revocationStoreContract } from '../../test/contract/revocation-store.contract.ts';
import { createTestDatabase, makeOnDatabase, type TestDatabase } from '../helpers/pg.ts';

let db: TestDatabase;
before(async () => {
  db = await createTestDatabase();
});
after(async () => {
  await db?.drop();
});

revocationStoreContract('PgRevocationStore', makeOnDatabase(() => db, (pool) => new PgRevocationStore(pool)));

test('PgRevocationStore: a logout or a password change on one instance is seen by another', async () => {
  const other = createPgPool(db.url);
  try {
    const a = new PgRevocationStore(db.pool);
    const b = new PgRevocationStore(other);
    const jti = randomUUID();
    assert.equal(await b.isJtiRevoked(jti), false);
    await a.revokeJti(jti, 'DOCDEMO', Date.now() + 60_000);
    assert.equal(await b.isJtiRevoked(jti), true);
    const mark = { notBefore: Date.now() * 1000 + 1, exceptDevice: 'device-1', exceptJti: null, onlyDevice: null };
    await a.addUserMark('DOCDEMO', '12', mark);
    assert.deepEqual(await b.getUserMarks('DOCDEMO', '12'), [mark]);
    // A uid that no user can have is simply unmarked.
    assert.deepEqual(await b.getUserMarks('DOCDEMO', 'not-a-uid'), []);
  } finally {
    await other.end();
  }
});
