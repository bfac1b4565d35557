// Runs the durable-store contract (test/contract/durable-store.contract.ts, unchanged) against
// PgDurableStore on a fresh PostgreSQL database, plus what only PostgreSQL can show: the
// identifier order of a user, and a store that outlives its pool's connections.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPgPool } from '../../src/storage/postgres/pg-pool.ts';
import { PgDurableStore } from '../../src/storage/postgres/pg-durable-store.ts';
import { durableStoreContract, brandConfig } from '../../test/contract/durable-store.contract.ts';
import { createTestDatabase, makeOnDatabase, truncateAll, type TestDatabase } from '../helpers/pg.ts';

let db: TestDatabase;
before(async () => {
  db = await createTestDatabase();
});
after(async () => {
  await db?.drop();
});

durableStoreContract('PgDurableStore', makeOnDatabase(() => db, (pool) => new PgDurableStore(pool)));

const NOW = Date.UTC(2026, 10, 22, 12, 0, 0);

test('PgDurableStore: a user keeps its identifiers in the order they were given (tokens and responses list them)', async () => {
  await truncateAll(db.pool);
  const store = new PgDurableStore(db.pool);
  const ids = [
    { type: 'USERNAME' as const, value: 'zed', verified: true },
    { type: 'MOBILE' as const, value: '919999999993', verified: false },
    { type: 'EMAIL' as const, value: 'zed@example.com', verified: true },
  ];
  const u = await store.createUser('DOCDEMO', ids, null, NOW);
  assert.deepEqual(u.identifiers, ids);
  assert.deepEqual((await store.findUser('DOCDEMO', { type: 'EMAIL', value: 'zed@example.com' }))?.identifiers, ids);
});

test('PgDurableStore: an identifier given twice in one createUser is taken, and nothing is written', async () => {
  await truncateAll(db.pool);
  const store = new PgDurableStore(db.pool);
  await assert.rejects(
    store.createUser(
      'DOCDEMO',
      [
        { type: 'USERNAME', value: 'twice', verified: true },
        { type: 'USERNAME', value: 'twice', verified: false },
      ],
      null,
      NOW,
    ),
    (err: unknown) => err instanceof Error && err.name === 'IdentifierTakenError',
  );
  assert.equal(await store.findUser('DOCDEMO', { type: 'USERNAME', value: 'twice' }), null);
  assert.equal(Number((await db.pool.query('SELECT count(*) AS n FROM users')).rows[0].n), 0);
});

test('PgDurableStore: sign-ups sharing identifiers in opposite orders do not deadlock', async () => {
  await truncateAll(db.pool);
  const store = new PgDurableStore(db.pool);
  const a = { type: 'EMAIL' as const, value: 'a@example.com', verified: true };
  const b = { type: 'MOBILE' as const, value: '911111111111', verified: true };
  const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => store.createUser('DOCDEMO', i % 2 ? [a, b] : [b, a], null, NOW)));
  assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
  for (const r of results) if (r.status === 'rejected') assert.equal((r.reason as Error).name, 'IdentifierTakenError', String(r.reason));
});

test('PgDurableStore: close() leaves the shared pool open; a store given ownsPool ends it', async () => {
  const store = new PgDurableStore(db.pool);
  await store.close();
  await store.ping();
  await store.putBrand('STILL', brandConfig(), NOW);
  assert.deepEqual(await store.getBrand('STILL'), brandConfig());

  const own = createPgPool(db.url);
  const owner = new PgDurableStore(own, { ownsPool: true });
  await owner.ping();
  await owner.close();
  assert.equal(own.ended, true);
});
