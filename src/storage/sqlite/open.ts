// Opens an embedded SQLite database file and applies its forward-only migrations.
// The libsql driver is synchronous: each statement runs to completion on the event loop,
// so a read-modify-write inside one db.transaction() cannot interleave with another
// request in this process. That is what makes consume/increment atomic here.
import type Database from 'libsql';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { StoreUnavailableError } from '../../domain/errors.ts';
import { groupCommit } from '../group-commit.ts';
import { WalSync, type FsyncFn } from './wal-sync.ts';
import { lazyPackage } from '../../lazy-package.ts';

const libsql = lazyPackage<typeof Database>('libsql');

export type Db = InstanceType<typeof Database>;

export interface OpenOptions {
  /**
   * 'FULL': a write through write()/writeBatched() settles only once it is on disk (durable
   * across power loss), by a shared fsync off the event loop (wal-sync.ts). 'NORMAL': writes
   * survive a process crash; an OS crash may lose the last commits.
   */
  synchronous: 'FULL' | 'NORMAL';
  migrations: string[];
  /** For tests: replaces fs.fsync of the WAL file. */
  fsync?: FsyncFn;
}

const walSyncs = new WeakMap<Db, WalSync>();

export function openDatabase(file: string, opts: OpenOptions): Db {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const db = new (libsql())(file);
  db.pragma('journal_mode = WAL');
  // Migrations are synced by SQLite itself; afterwards FULL is provided by WalSync.
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
  if (opts.synchronous === 'FULL') {
    db.pragma('synchronous = NORMAL');
    walSyncs.set(db, new WalSync(`${file}-wal`, opts.fsync));
  }
  return db;
}

/** Closes the database and, in FULL mode, its WAL descriptor. */
export function closeDatabase(db: Db): void {
  walSyncs.get(db)?.close();
  db.close();
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

/** Set once an fsync of this database failed: it refuses writes until the process restarts. */
export function syncFailure(db: Db): StoreUnavailableError | null {
  const failure = walSyncs.get(db)?.failure;
  return failure === undefined || failure === null ? null : new StoreUnavailableError(failure);
}

/** Resolves once every commit made before the call is on disk (at once in NORMAL mode). */
function durable(db: Db): Promise<void> {
  const wal = walSyncs.get(db);
  return wal === undefined ? Promise.resolve() : wal.sync().catch((err: unknown) => Promise.reject(new StoreUnavailableError(err)));
}

/**
 * A storage step that writes: like guard(), and in FULL mode its result is handed over only
 * after the commit is on disk. Every write to a FULL database goes through here or
 * writeBatched(), so no client is answered about a change a power loss could undo.
 */
export function write<T>(db: Db, fn: () => T): Promise<T> {
  const refused = syncFailure(db);
  if (refused !== null) return Promise.reject(refused);
  return guard(fn).then((value) => durable(db).then(() => value));
}

const batches = new WeakMap<Db, (write: () => void) => Promise<void>>();

/**
 * Group commit for a database's append-only writes (audit rows, outbox messages, new keys):
 * every such write made in one event-loop turn commits in one transaction (group-commit.ts).
 * The promise settles when the write is committed and, in FULL mode, on disk.
 */
export function writeBatched(db: Db, append: () => void): Promise<void> {
  let batch = batches.get(db);
  if (batch === undefined) {
    batch = groupCommit<() => void>((appends) => write(db, () => db.transaction(() => appends.forEach((a) => a()))()), {
      deferStart: true,
      isFatal: (err) => err instanceof StoreUnavailableError,
    });
    batches.set(db, batch);
  }
  return batch(append);
}
