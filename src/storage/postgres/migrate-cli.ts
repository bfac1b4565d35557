// `npm run migrate`: applies the pending PostgreSQL migrations to DATABASE_URL and exits.
// Instances also migrate at start; this is for deployments that migrate as a separate step.
import { createPgPool } from './pg-pool.ts';
import { migrate } from './migrate.ts';

async function main(): Promise<number> {
  const url = process.env.DATABASE_URL;
  if (!url) {
    console.error('migrate: DATABASE_URL is not set (expected postgres://user@host:port/database)');
    return 1;
  }
  const pool = createPgPool(url, { max: 1 });
  try {
    const applied = await migrate(pool);
    console.log(applied === 0 ? 'migrate: schema is up to date (0 migrations applied)' : `migrate: applied ${applied} migration${applied === 1 ? '' : 's'}`);
    return 0;
  } catch (err) {
    // The message only: a connection string (with its password) must not reach the output.
    const message = err instanceof Error ? err.message : String(err);
    const code = (err as { code?: unknown } | null)?.code;
    console.error(`migrate: failed: ${message}${typeof code === 'string' ? ` (${code})` : ''}`);
    return 1;
  } finally {
    await pool.end().catch(() => undefined);
  }
}

process.exitCode = await main();
