// The PostgreSQL connection pool and the error boundary of every PostgreSQL adapter.
//
// Recovery without a restart: pg.Pool opens new connections on demand, so once PostgreSQL is
// reachable again the next checkout simply connects. What must not happen is a dead or
// desynchronised connection going back into the pool: pool.query() already discards a client
// after any error, and withTransaction() below discards it after a connection-level failure, a
// client-side timeout (the query may still be running on it) or a failed ROLLBACK.
import type pg from 'pg';
import { lazyPackage } from '../../lazy-package.ts';
import { StoreUnavailableError } from '../../domain/errors.ts';

export interface PgPoolOptions {
  /** Connections per instance (default 10). */
  max?: number;
  /** Told about errors of idle connections (PostgreSQL restarted, network cut). Default: ignored. */
  onIdleError?: (err: Error) => void;
}

/** Server-side and client-side limit for one statement, in ms. */
export const STATEMENT_TIMEOUT_MS = 5000;

const pgPackage = lazyPackage<typeof pg>('pg');

export function createPgPool(url: string, opts: PgPoolOptions = {}): pg.Pool {
  const pool = new (pgPackage().Pool)({
    connectionString: url,
    max: opts.max ?? 10,
    // Fail fast (→ 503) instead of queueing requests behind an unreachable server.
    connectionTimeoutMillis: 2000,
    idleTimeoutMillis: 30_000,
    // Server-side limit (the server cancels the statement and the connection stays usable) …
    statement_timeout: STATEMENT_TIMEOUT_MS,
    // … and a slightly longer client-side one, for a server that no longer answers at all.
    query_timeout: STATEMENT_TIMEOUT_MS + 1000,
    // A transaction left open by a stuck client must not hold row or advisory locks forever.
    idle_in_transaction_session_timeout: 10_000,
    keepAlive: true,
    application_name: 'auth-engine',
  });
  // An idle client's connection error (server restart, network cut) is emitted on the pool;
  // without a listener it would be an uncaught 'error' event and crash the process. The pool
  // has already removed that client; the next checkout connects afresh.
  pool.on('error', (err) => opts.onIdleError?.(err));
  return pool;
}

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  // statement_timeout / a cancelled query: the store is too slow to answer in time.
  '57014',
  // A write reached a server that is (now) a read-only replica: failover in progress.
  '25006',
]);

const CONNECTION_MESSAGES = [
  /^Connection terminated/i,
  /timeout exceeded when trying to connect/i,
  /^Query read timeout$/,
  /not queryable/i,
  /Cannot use a pool after calling end/i,
  /connection (is )?(closed|ended|terminated)/i,
];

/** True for a failure of the connection or the server, as opposed to a bad statement or a constraint. */
export function isConnectionFailure(err: unknown): boolean {
  if (err === null || typeof err !== 'object') return false;
  const e = err as { code?: unknown; message?: unknown; errors?: unknown };
  const code = typeof e.code === 'string' ? e.code : '';
  if (CONNECTION_CODES.has(code)) return true;
  // SQLSTATE class 08 (connection exception), 53 (insufficient resources: disk full, too many
  // connections), 57P0x (server shutting down / starting up / crashed), 58 (system I/O error).
  if (/^(08|53|58)[0-9A-Z]{3}$/.test(code) || /^57P0[0-9]$/.test(code)) return true;
  const message = typeof e.message === 'string' ? e.message : '';
  if (CONNECTION_MESSAGES.some((re) => re.test(message))) return true;
  // Node reports a refused connection to several addresses as an AggregateError.
  if (Array.isArray(e.errors) && e.errors.length > 0) return e.errors.every(isConnectionFailure);
  return false;
}

/** Client-side timeout: the statement may still run on that connection, which is unusable now. */
const isClientTimeout = (err: unknown) => err instanceof Error && err.message === 'Query read timeout';

/**
 * Runs a storage step, turning connection-level failures into StoreUnavailableError (the HTTP
 * layer answers 503/1599). Everything else — constraint violations the adapter translates,
 * bugs — passes through unchanged.
 */
export async function pgCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof StoreUnavailableError) throw err;
    throw isConnectionFailure(err) ? new StoreUnavailableError(err) : err;
  }
}

/**
 * Runs `fn` inside BEGIN … COMMIT on one pooled client. Any error rolls back; the client is
 * destroyed instead of returned to the pool when it may be broken. Connection failures are
 * left to the caller's pgCall to translate.
 */
export async function withTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  // A checked-out client whose connection dies emits 'error'; without a listener that is an
  // uncaught exception. The pending query is rejected anyway, so only remember it.
  let broken: Error | null = null;
  const onError = (err: Error) => {
    broken = err;
  };
  client.on('error', onError);
  let destroy: Error | undefined;
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    if (broken || isClientTimeout(err) || isConnectionFailure(err)) {
      // Do not wait for a ROLLBACK on a dead or busy connection: closing it rolls back server-side.
      destroy = err instanceof Error ? err : new Error(String(err));
    } else {
      try {
        await client.query('ROLLBACK');
      } catch (rollbackErr) {
        destroy = rollbackErr instanceof Error ? rollbackErr : new Error(String(rollbackErr));
      }
    }
    throw err;
  } finally {
    client.removeListener('error', onError);
    client.release(destroy ?? broken ?? undefined);
  }
}
