// PostgreSQL adapter for the limit port: sliding-window event logs and failure counters.
// Atomic across instances: reserve() serialises on one transaction-scoped advisory lock per
// key (taken in one fixed order, so two reservations sharing keys cannot deadlock) before it
// counts; recordFailure() is a single INSERT … ON CONFLICT DO UPDATE, serialised by the row
// lock, that restarts the window and sets the lock in SQL.
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { FailureState, LimitStore, Reservation, WindowLimit } from '../../ports/limit-store.ts';
import { pgCall, withTransaction } from './pg-pool.ts';
import type { PgStoreOptions } from './pg-durable-store.ts';

type Row = Record<string, unknown>;

const Q = {
  // Sorted by the lock id itself: a total order shared by every caller. The subquery's ORDER BY
  // fixes the order in which the outer query calls the (volatile) lock function.
  lockKeys: `SELECT pg_advisory_xact_lock(h) FROM (
               SELECT DISTINCT hashtextextended(k, 0) AS h FROM unnest($1::text[]) AS k ORDER BY h
             ) AS s`,
  // Per limit: forget events that left its window, then look at the `max` newest events inside
  // it. The DELETE only removes rows the SELECT would not count anyway (at <= since), so one
  // statement snapshot is enough. With `max` of them the window is full, and the oldest of
  // those says when a slot frees up.
  window: `WITH l AS (
             SELECT * FROM unnest($1::text[], $2::bigint[], $3::int[]) WITH ORDINALITY AS l(key, since, max, i)
           ), pruned AS (
             DELETE FROM limit_events e USING l WHERE e.key = l.key AND e.at <= l.since
           )
           SELECT l.i, l.max, w.n, w.oldest
             FROM l CROSS JOIN LATERAL (
               SELECT count(*)::int AS n, min(x.at) AS oldest
                 FROM (SELECT at FROM limit_events e WHERE e.key = l.key AND e.at > l.since ORDER BY at DESC LIMIT l.max) AS x
             ) AS w
            ORDER BY l.i`,
  insert: 'INSERT INTO limit_events (key, at, reservation) SELECT k, $2::bigint, $3::text FROM unnest($1::text[]) AS k',
  release: 'DELETE FROM limit_events WHERE reservation = $1',
  // The count restarts at 1 once the window since the last failure has passed (unless a lock
  // is still running); the max-th failure sets the lock; an expired lock is cleared. Every SET
  // expression reads the old row, under the row lock ON CONFLICT takes.
  recordFailure: `INSERT INTO failures AS f (key, count, last_at, locked_until)
                  VALUES ($1, 1, $2::bigint, CASE WHEN $4::int IS NOT NULL AND 1 >= $4::int THEN $2::bigint + $5::bigint END)
                  ON CONFLICT (key) DO UPDATE SET
                    count = CASE WHEN $2::bigint - f.last_at >= $3::bigint AND NOT COALESCE(f.locked_until > $2::bigint, FALSE) THEN 0 ELSE f.count END + 1,
                    last_at = $2::bigint,
                    locked_until = CASE
                      WHEN f.locked_until > $2::bigint THEN f.locked_until
                      WHEN $4::int IS NOT NULL
                       AND (CASE WHEN $2::bigint - f.last_at >= $3::bigint THEN 0 ELSE f.count END) + 1 >= $4::int
                        THEN $2::bigint + $5::bigint
                    END
                  RETURNING count, last_at, locked_until`,
  getFailure: 'SELECT count, last_at, locked_until FROM failures WHERE key = $1',
  clearFailures: 'DELETE FROM failures WHERE key = ANY($1::text[])',
} as const;

type QueryName = keyof typeof Q;
export const limitQuery = (name: QueryName, values: unknown[]): pg.QueryConfig => ({ name: `ae_limits_${name}`, text: Q[name], values });

export class PgLimitStore implements LimitStore {
  constructor(
    readonly pool: pg.Pool,
    private readonly opts: PgStoreOptions = {},
  ) {}

  reserve(limits: WindowLimit[], now: number) {
    return pgCall(async (): Promise<Reservation> => {
      if (limits.length === 0) return { ok: true, id: randomUUID() };
      return withTransaction(this.pool, async (c): Promise<Reservation> => {
        const keys = limits.map((l) => l.key);
        await c.query(limitQuery('lockKeys', [keys]));
        const rows = (await c.query<Row>(limitQuery('window', [keys, limits.map((l) => now - l.windowMs), limits.map((l) => Math.max(0, l.max))]))).rows;
        let wait = 0;
        rows.forEach((r, idx) => {
          const l = limits[idx];
          if (Number(r.n) < l.max) return;
          // A limit of 0 is always full; its slot "frees up" a whole window from now.
          const oldest = r.oldest === null ? now : Number(r.oldest);
          wait = Math.max(wait, oldest + l.windowMs - now, 1);
        });
        if (wait > 0) return { ok: false, retryAfterMs: wait };
        const id = randomUUID();
        await c.query(limitQuery('insert', [keys, now, id]));
        return { ok: true, id };
      });
    });
  }

  release(id: string) {
    return pgCall(async () => void (await this.pool.query(limitQuery('release', [id]))));
  }

  recordFailure(key: string, now: number, windowMs: number, lock?: { max: number; ms: number }) {
    return pgCall(async (): Promise<FailureState> => {
      const r = (await this.pool.query<Row>(limitQuery('recordFailure', [key, now, windowMs, lock ? lock.max : null, lock ? lock.ms : null]))).rows[0];
      return { count: Number(r.count), lastFailureAt: Number(r.last_at), lockedUntil: r.locked_until === null ? null : Number(r.locked_until) };
    });
  }

  getFailures(key: string, now: number, windowMs: number) {
    return pgCall(async (): Promise<FailureState> => {
      const r = (await this.pool.query<Row>(limitQuery('getFailure', [key]))).rows[0];
      if (!r) return { count: 0, lastFailureAt: null, lockedUntil: null };
      // Same reading as recordFailure: the count restarts once the window has passed; a lock outlives it.
      const lastAt = Number(r.last_at);
      const lockedUntil = r.locked_until === null ? null : Number(r.locked_until);
      const live = lockedUntil !== null && lockedUntil > now;
      return { count: now - lastAt >= windowMs && !live ? 0 : Number(r.count), lastFailureAt: lastAt, lockedUntil: live ? lockedUntil : null };
    });
  }

  clearFailures(keys: string[]) {
    return pgCall(async () => {
      if (keys.length) await this.pool.query(limitQuery('clearFailures', [keys]));
    });
  }

  /** Ends the pool only when this store owns it; otherwise a no-op. */
  async close() {
    if (this.opts.ownsPool) await this.pool.end();
  }
}
