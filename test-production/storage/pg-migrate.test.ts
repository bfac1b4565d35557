// The PostgreSQL migrations: forward-only files applied once each, in order, each in its own
// transaction, under an advisory lock (several instances starting at once), and the
// `npm run migrate` command.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createPgPool } from '../../src/storage/postgres/pg-pool.ts';
import { loadMigrations, migrate, type Migration } from '../../src/storage/postgres/migrate.ts';
import { createEmptyDatabase } from '../helpers/pg.ts';
import type pg from 'pg';

const FILES = loadMigrations();

const versions = async (pool: pg.Pool) => (await pool.query('SELECT version FROM schema_migrations ORDER BY version')).rows.map((r) => Number(r.version));
const tables = async (pool: pg.Pool) =>
  (await pool.query(`SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename`)).rows.map((r) => String(r.tablename));

const SCHEMA = ['audit', 'brands', 'failures', 'identifiers', 'keys', 'limit_events', 'outbox', 'revoked_tokens', 'schema_migrations', 'user_marks', 'users'];

test('migration files are NNN_name.sql, numbered from 1 without gaps', () => {
  assert.ok(FILES.length >= 1);
  assert.deepEqual(
    FILES.map((m) => m.version),
    FILES.map((_, i) => i + 1),
  );
  assert.equal(FILES[0].name, '001_init.sql');
});

test('migrate on a fresh database applies every file; a second run applies nothing and changes nothing', async () => {
  const db = await createEmptyDatabase();
  const pool = createPgPool(db.url);
  try {
    assert.equal(await migrate(pool), FILES.length);
    assert.deepEqual(await tables(pool), SCHEMA);
    assert.deepEqual(
      await versions(pool),
      FILES.map((m) => m.version),
    );
    const appliedAt = (await pool.query('SELECT applied_at FROM schema_migrations ORDER BY version')).rows;
    assert.equal(await migrate(pool), 0);
    assert.deepEqual((await pool.query('SELECT applied_at FROM schema_migrations ORDER BY version')).rows, appliedAt);
    assert.deepEqual(await tables(pool), SCHEMA);
  } finally {
    await pool.end();
    await db.drop();
  }
});

test('5 instances migrating one fresh database at once: the schema is applied exactly once, no error', async () => {
  const db = await createEmptyDatabase();
  // One pool per "instance", as five processes starting together would have.
  const pools = Array.from({ length: 5 }, () => createPgPool(db.url));
  try {
    const applied = await Promise.all(pools.map((p) => migrate(p)));
    assert.equal(
      applied.reduce((a, b) => a + b, 0),
      FILES.length,
      `applied per instance: ${applied.join(',')}`,
    );
    // Files are not split between instances: whoever got the lock first applied them all.
    assert.equal(applied.filter((n) => n > 0).length, 1);
    assert.deepEqual(
      await versions(pools[0]),
      FILES.map((m) => m.version),
    );
    assert.deepEqual(await tables(pools[0]), SCHEMA);
    // The same again with the schema current: nobody applies anything.
    assert.deepEqual(await Promise.all(pools.map((p) => migrate(p))), [0, 0, 0, 0, 0]);
    // The lock was released: nothing in the database still holds it.
    const held = await pools[0].query(`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`);
    assert.equal(held.rows[0].n, 0);
  } finally {
    await Promise.all(pools.map((p) => p.end()));
    await db.drop();
  }
});

test('a failing migration rolls back whole, is not recorded, and the ones before it stay applied', async () => {
  const db = await createEmptyDatabase();
  const pool = createPgPool(db.url);
  const one: Migration = { version: 1, name: '001_one.sql', sql: 'CREATE TABLE one (x int);' };
  const bad: Migration = { version: 2, name: '002_bad.sql', sql: 'CREATE TABLE two (x int); INSERT INTO two VALUES (1); SELECT 1 / 0;' };
  const good: Migration = { version: 2, name: '002_good.sql', sql: 'CREATE TABLE two (x int);' };
  try {
    await assert.rejects(migrate(pool, [one, bad]), /migration 002_bad\.sql failed: division by zero/);
    assert.deepEqual(await versions(pool), [1]);
    assert.deepEqual(await tables(pool), ['one', 'schema_migrations']);
    // The lock is not left behind by the failure: the next run proceeds.
    assert.equal(await migrate(pool, [one, good]), 1);
    assert.deepEqual(await versions(pool), [1, 2]);
    assert.deepEqual(await tables(pool), ['one', 'schema_migrations', 'two']);
  } finally {
    await pool.end();
    await db.drop();
  }
});

const cli = (env: Record<string, string | undefined>) => {
  const childEnv: NodeJS.ProcessEnv = { ...process.env };
  delete childEnv.DATABASE_URL;
  for (const [k, v] of Object.entries(env)) if (v !== undefined) childEnv[k] = v;
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/storage/postgres/migrate-cli.ts'], { env: childEnv, encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, out: r.stdout, err: r.stderr };
};

test('npm run migrate: applies, then reports nothing to do; fails with exit code 1 and a clear message', async () => {
  const db = await createEmptyDatabase();
  try {
    let r = cli({ DATABASE_URL: db.url });
    assert.equal(r.status, 0, r.err);
    assert.match(r.out, new RegExp(`applied ${FILES.length} migration`));
    r = cli({ DATABASE_URL: db.url });
    assert.equal(r.status, 0, r.err);
    assert.match(r.out, /up to date \(0 migrations applied\)/);

    r = cli({});
    assert.equal(r.status, 1);
    assert.match(r.err, /DATABASE_URL is not set/);

    // Nothing listens on port 1: refused at once.
    r = cli({ DATABASE_URL: 'postgres://postgres:s3cret-pw@127.0.0.1:1/nowhere' });
    assert.equal(r.status, 1);
    assert.match(r.err, /^migrate: failed: .*ECONNREFUSED/m);
    assert.doesNotMatch(r.err + r.out, /s3cret-pw/);
  } finally {
    await db.drop();
  }
});
