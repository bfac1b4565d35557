// Embedded adapter for the limit port: sliding-window event logs and failure counters in
// auth.db. Each method is one synchronous transaction, hence atomic within the process.
import { randomUUID } from 'node:crypto';
import type { FailureState, LimitStore, Reservation, WindowLimit } from '../../ports/limit-store.ts';
import { guard, write, type Db } from './open.ts';

type Row = Record<string, unknown>;

export class SqliteLimitStore implements LimitStore {
  private readonly q;

  constructor(private readonly db: Db) {
    const p = (sql: string) => db.prepare(sql);
    this.q = {
      // The `max` newest events inside the window, newest first: if there are `max` of them
      // the window is full, and the last one's age says when a slot frees up.
      window: p('SELECT at FROM limit_events WHERE key = ? AND at > ? ORDER BY at DESC LIMIT ?'),
      insert: p('INSERT INTO limit_events (key, at, reservation) VALUES (?, ?, ?)'),
      release: p('DELETE FROM limit_events WHERE reservation = ?'),
      prune: p('DELETE FROM limit_events WHERE key = ? AND at <= ?'),
      getFailure: p('SELECT count, last_at, locked_until FROM failures WHERE key = ?'),
      putFailure: p('INSERT INTO failures (key, count, last_at, locked_until) VALUES (?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET count = excluded.count, last_at = excluded.last_at, locked_until = excluded.locked_until'),
      clearFailure: p('DELETE FROM failures WHERE key = ?'),
    };
  }

  reserve(limits: WindowLimit[], now: number) {
    return write(this.db, () =>
      this.db.transaction((): Reservation => {
        let wait = 0;
        for (const l of limits) {
          this.q.prune.run(l.key, now - l.windowMs);
          const rows = this.q.window.all(l.key, now - l.windowMs, l.max) as Row[];
          if (rows.length >= l.max) wait = Math.max(wait, Number(rows[rows.length - 1].at) + l.windowMs - now);
        }
        if (wait > 0) return { ok: false, retryAfterMs: wait };
        const id = randomUUID();
        for (const l of limits) this.q.insert.run(l.key, now, id);
        return { ok: true, id };
      })(),
    );
  }

  release(id: string) {
    return write(this.db, () => void this.q.release.run(id));
  }

  recordFailure(key: string, now: number, windowMs: number, lock?: { max: number; ms: number }) {
    return write(this.db, () =>
      this.db.transaction((): FailureState => {
        const cur = this.read(key, now, windowMs);
        const count = cur.count + 1;
        let lockedUntil = cur.lockedUntil;
        if (lock && count >= lock.max && (lockedUntil === null || lockedUntil <= now)) lockedUntil = now + lock.ms;
        this.q.putFailure.run(key, count, now, lockedUntil);
        return { count, lastFailureAt: now, lockedUntil };
      })(),
    );
  }

  getFailures(key: string, now: number, windowMs: number) {
    return guard(() => this.read(key, now, windowMs));
  }

  clearFailures(keys: string[]) {
    return write(this.db, () => this.db.transaction(() => this.clearFailuresSync(keys))());
  }

  /** Synchronous form, for SqliteCredentialStore's single transaction. */
  clearFailuresSync(keys: string[]): void {
    for (const k of keys) this.q.clearFailure.run(k);
  }

  /** The count restarts once the window since the last failure has passed; a lock outlives it. */
  private read(key: string, now: number, windowMs: number): FailureState {
    const r = this.q.getFailure.get(key) as Row | undefined;
    if (!r) return { count: 0, lastFailureAt: null, lockedUntil: null };
    const lastAt = Number(r.last_at);
    const lockedUntil = r.locked_until === null ? null : Number(r.locked_until);
    const live = lockedUntil !== null && lockedUntil > now;
    return { count: now - lastAt >= windowMs && !live ? 0 : Number(r.count), lastFailureAt: lastAt, lockedUntil: live ? lockedUntil : null };
  }
}
