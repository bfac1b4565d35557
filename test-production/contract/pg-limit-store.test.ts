// Runs the LimitStore contract (test/contract/limit-store.contract.ts, unchanged) against
// PgLimitStore, plus what only a shared server can show: two stores on two pools (two
// instances) share one budget, and reservations over overlapping keys in opposite orders
// do not deadlock.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createPgPool } from '../../src/storage/postgres/pg-pool.ts';
import { PgLimitStore } from '../../src/storage/postgres/pg-limit-store.ts';
import { limitStoreContract } from '../../test/contract/limit-store.contract.ts';
import { createTestDatabase, makeOnDatabase, type TestDatabase } from '../helpers/pg.ts';

let db: TestDatabase;
before(async () => {
  db = await createTestDatabase();
});
after(async () => {
  await db?.drop();
});

limitStoreContract('PgLimitStore', makeOnDatabase(() => db, (pool) => new PgLimitStore(pool)));

const MINUTE = 60_000;

test('PgLimitStore: two instances (two pools) share the window and the failure count', async () => {
  const other = createPgPool(db.url);
  try {
    const a = new PgLimitStore(db.pool);
    const b = new PgLimitStore(other);
    const now = Date.now();
    const win = { key: `two:${randomUUID()}`, windowMs: MINUTE, max: 7 };
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).reserve([win], now)));
    assert.equal(results.filter((r) => r.ok).length, 7);
    const k = `two-fail:${randomUUID()}`;
    const states = await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 ? a : b).recordFailure(k, now, MINUTE, { max: 10, ms: MINUTE })));
    assert.deepEqual(
      states.map((s) => s.count).sort((x, y) => x - y),
      Array.from({ length: 30 }, (_, i) => i + 1),
    );
    assert.deepEqual(await a.getFailures(k, now, MINUTE), { count: 30, lastFailureAt: now, lockedUntil: now + MINUTE });
  } finally {
    await other.end();
  }
});

test('PgLimitStore: reservations over the same keys listed in opposite orders neither deadlock nor overrun', async () => {
  const store = new PgLimitStore(db.pool);
  const now = Date.now();
  const x = { key: `x:${randomUUID()}`, windowMs: MINUTE, max: 10 };
  const y = { key: `y:${randomUUID()}`, windowMs: MINUTE, max: 10 };
  const z = { key: `z:${randomUUID()}`, windowMs: MINUTE, max: 100 };
  const results = await Promise.all(Array.from({ length: 60 }, (_, i) => store.reserve(i % 3 === 0 ? [x, y, z] : i % 3 === 1 ? [z, y, x] : [y, z, x], now)));
  assert.equal(results.filter((r) => r.ok).length, 10);
  const n = await db.pool.query('SELECT key, count(*)::int AS n FROM limit_events WHERE key = ANY($1) GROUP BY key ORDER BY key', [[x.key, y.key, z.key]]);
  assert.deepEqual(
    n.rows.map((r) => r.n),
    [10, 10, 10],
  );
});
