// PostgreSQL for the production-mode suites: the server on this machine (PG_ADMIN_URL, default
// postgres://postgres@127.0.0.1:5432/postgres), a database unique to the caller
// (ae_test_<random>) with the schema migrated, and a drop() that removes exactly that
// database — never any other.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createPgPool } from '../../src/storage/postgres/pg-pool.ts';
import { migrate } from '../../src/storage/postgres/migrate.ts';
import type { MakeStore } from '../../test/helpers/store-contract.ts';

export const PG_ADMIN_URL = process.env.PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  /** Connection string of the new database. */
  url: string;
  name: string;
  /** A pool made by the production createPgPool, on the new database. */
  pool: pg.Pool;
  /** Ends `pool` and drops this database (WITH (FORCE): other connections to it are cut). */
  drop(): Promise<void>;
}

const TEST_DB = /^ae_test_[0-9a-f]{16}$/;

/** The admin connection string with another database name. */
export function urlFor(database: string, base: string = PG_ADMIN_URL): string {
  const u = new URL(base);
  u.pathname = `/${database}`;
  return u.toString();
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 5000 });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** Creates an empty database (no migration). Its name is ae_test_<16 hex>. */
export async function createEmptyDatabase(): Promise<{ name: string; url: string; drop(): Promise<void> }> {
  const name = `ae_test_${randomBytes(8).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  return { name, url: urlFor(name), drop: () => dropTestDatabase(name) };
}

/** Drops a database this helper created; refuses any other name. */
export async function dropTestDatabase(name: string): Promise<void> {
  if (!TEST_DB.test(name)) throw new Error(`refusing to drop ${JSON.stringify(name)}: not a test database`);
  await admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const db = await createEmptyDatabase();
  const pool = createPgPool(db.url);
  try {
    await migrate(pool);
  } catch (err) {
    await pool.end().catch(() => undefined);
    await db.drop();
    throw err;
  }
  let dropped = false;
  return {
    url: db.url,
    name: db.name,
    pool,
    drop: async () => {
      if (dropped) return;
      dropped = true;
      await pool.end().catch(() => undefined);
      await db.drop();
    },
  };
}

/**
 * Empties every table of the schema except schema_migrations. DELETE rather than TRUNCATE: on
 * tables this small it is several times faster. Sequences go on (uids are never reused anyway).
 */
export async function truncateAll(pool: pg.Pool): Promise<void> {
  const r = await pool.query<{ t: string }>(
    `SELECT quote_ident(tablename) AS t FROM pg_tables WHERE schemaname = current_schema() AND tablename <> 'schema_migrations'
      ORDER BY tablename = 'users'`,
  );
  // Children before users (identifiers and keys reference it).
  if (r.rows.length) await pool.query(r.rows.map((x) => `DELETE FROM ${x.t};`).join(' '));
}

/**
 * A contract `make` over one test database per file: each store starts on empty tables (the
 * contracts run their tests one after another), and cleanup empties them again.
 */
export function makeOnDatabase<S>(db: () => TestDatabase, open: (pool: pg.Pool) => S): MakeStore<S> {
  return async () => {
    const { pool } = db();
    await truncateAll(pool);
    return { store: open(pool), cleanup: () => truncateAll(pool) };
  };
}
