// Opens an embedded SQLite database file and applies its forward-only migrations.
// The libsql driver is synchronous: each statement runs to completion on the event loop,
// so a read-modify-write inside one db.transaction() cannot interleave with another
// request in this process. That is what makes consume/increment atomic here.
import Database from 'libsql';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { StoreUnavailableError } from '../../domain/errors.ts';
import { groupCommit } from '../group-commit.ts';

export type Db = InstanceType<typeof Database>;

export interface OpenOptions {
  /** 'FULL' fsyncs every commit (durable across power loss); 'NORMAL' survives a process crash. */
  synchronous: 'FULL' | 'NORMAL';
  migrations: string[];
}

export function openDatabase(file: string, opts: OpenOptions): Db {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${opts.synchronous}`);
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  // libsql's pragma() returns rows ([{ user_version: n }]) even with `simple: true` (unlike
  // better-sqlite3), so read the column explicitly; NaN here re-ran every migration on reopen.
  const rows = db.pragma('user_version') as unknown;
  const row = (Array.isArray(rows) ? rows[0] : rows) as { user_version?: unknown } | undefined;
  const current = Number(row?.user_version ?? 0);
  opts.migrations.forEach((sql, i) => {
    if (i < current) return;
    db.transaction(() => {
      db.exec(sql);
      db.pragma(`user_version = ${i + 1}`);
    })();
  });
  return db;
}

const codeOf = (err: unknown): string => {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : '';
};
const isConstraint = (err: unknown) => codeOf(err).startsWith('SQLITE_CONSTRAINT');
/** A driver-level failure (I/O, disk full, closed handle) as opposed to a bug in our code. */
const isDriverFailure = (err: unknown) =>
  (codeOf(err).startsWith('SQLITE_') && !isConstraint(err)) || (err instanceof Error && /database (connection )?is (not open|closed)/i.test(err.message));

/**
 * Runs a storage step, turning driver failures (disk full, I/O error, closed database)
 * into StoreUnavailableError so the HTTP layer answers 1599 without internals.
 * Constraint violations pass through: adapters translate them into domain outcomes.
 */
export function guard<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (err) {
    return Promise.reject(isDriverFailure(err) ? new StoreUnavailableError(err) : err);
  }
}

export { isConstraint };

const batches = new WeakMap<Db, (write: () => void) => Promise<void>>();

/**
 * Group commit for a database's append-only writes (audit rows, outbox messages, new keys):
 * every such write made in one event-loop turn commits in one transaction, hence one fsync
 * (group-commit.ts). The promise settles when the write is committed.
 */
export function writeBatched(db: Db, write: () => void): Promise<void> {
  let batch = batches.get(db);
  if (batch === undefined) {
    batch = groupCommit<() => void>((writes) => guard(() => db.transaction(() => writes.forEach((w) => w()))()), {
      deferStart: true,
      isFatal: (err) => err instanceof StoreUnavailableError,
    });
    batches.set(db, batch);
  }
  return batch(write);
}
