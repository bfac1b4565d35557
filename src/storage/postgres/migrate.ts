// Forward-only schema migrations for PostgreSQL: migrations/NNN_name.sql, applied in order,
// each in its own transaction together with its row in schema_migrations. The whole run holds
// a session-level advisory lock, so instances starting at once apply each file exactly once:
// the first applies, the others wait on the lock and then find nothing left to do.
import { readdirSync, readFileSync } from 'node:fs';
import type pg from 'pg';
import { MIGRATIONS_DIR } from '../../paths.ts';

/** pg_advisory_lock key of the migration run ("authmig" in ASCII). Fixed: never change it. */
export const MIGRATION_LOCK_KEY = '27413964906228071';

export { MIGRATIONS_DIR };

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** The migration files in version order; a malformed or duplicate number is a startup error. */
export function loadMigrations(dir: string = MIGRATIONS_DIR): Migration[] {
  const out: Migration[] = [];
  for (const name of readdirSync(dir).sort()) {
    if (!name.endsWith('.sql')) continue;
    const m = /^(\d+)_[\w-]+\.sql$/.exec(name);
    if (!m) throw new Error(`migration file name must be NNN_name.sql: ${name}`);
    const version = Number(m[1]);
    if (out.some((x) => x.version === version)) throw new Error(`duplicate migration version ${version}: ${name}`);
    out.push({ version, name, sql: readFileSync(`${dir}/${name}`, 'utf8') });
  }
  return out.sort((a, b) => a.version - b.version);
}

// A migration may legitimately take longer than the pool's per-statement limits, and waiting
// for another instance's run must not time out after 5 s.
const LONG = 10 * 60_000;

/**
 * Applies the pending migrations. @returns how many were applied by this call (0 when the
 * schema was already current, including when another instance applied them meanwhile).
 */
export async function migrate(pool: pg.Pool, migrations: Migration[] = loadMigrations()): Promise<number> {
  const client = await pool.connect();
  let broken: Error | undefined;
  const onError = (err: Error) => {
    broken = err;
  };
  client.on('error', onError);
  const q = (text: string, values?: unknown[]) => client.query({ text, values, query_timeout: LONG } as pg.QueryConfig);
  let locked = false;
  try {
    await q(`SET statement_timeout = ${LONG}`);
    await q(`SET lock_timeout = ${LONG}`);
    await q('SELECT pg_advisory_lock($1::bigint)', [MIGRATION_LOCK_KEY]);
    locked = true;
    await q('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())');
    const done = new Set((await q('SELECT version FROM schema_migrations')).rows.map((r: { version: number }) => Number(r.version)));
    let applied = 0;
    for (const m of migrations) {
      if (done.has(m.version)) continue;
      try {
        await q('BEGIN');
        await q(m.sql);
        await q('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, now())', [m.version]);
        await q('COMMIT');
      } catch (err) {
        await q('ROLLBACK').catch(() => undefined);
        throw new Error(`migration ${m.name} failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      }
      applied++;
    }
    return applied;
  } finally {
    if (locked && !broken) await q('SELECT pg_advisory_unlock($1::bigint)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    client.removeListener('error', onError);
    // Closing this connection also releases the advisory lock and drops the session settings
    // above, so nothing of the migration run leaks into a pooled connection.
    client.release(broken ?? new Error('migration connection is not reused'));
  }
}
