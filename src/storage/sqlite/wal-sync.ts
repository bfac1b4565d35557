// Durable acknowledgement without blocking the event loop (auth.db, AUTH_SQLITE_SYNC=FULL).
//
// With `PRAGMA synchronous = FULL` SQLite fsyncs the WAL inside every COMMIT, on the calling
// thread: the whole service waits for the disk once per write transaction. Instead auth.db
// runs at `synchronous = NORMAL` (commits are written to the WAL, not synced) and every write
// is acknowledged only after an fsync of the WAL file that *started after* the write
// committed. That fsync runs on the libuv pool, and every write committed while one is in
// flight shares the next one (group commit for the disk flush). The guarantee to a client is
// the same as FULL: nothing is answered before it is on disk. A power loss can drop commits
// that no client was told about; SQLite's WAL recovery (checksummed frames) then keeps a
// prefix of the committed transactions, as it does for NORMAL.
//
// The WAL file is not replaced while our connection is open (SQLite deletes it only when the
// last connection closes; a checkpoint rewinds or truncates it in place), so one descriptor
// opened at the first sync stays valid. NORMAL also syncs the WAL before each checkpoint and
// the database file after it, so content moved out of the WAL is durable too.
//
// A failed fsync poisons the database for writes (PostgreSQL's answer to "fsyncgate"): after
// an I/O error the kernel may have dropped the dirty pages, and retrying fsync can report
// success for data that never reached the disk. Writes and the readiness ping then fail until
// the process restarts and SQLite recovers from what is really on disk.
import { closeSync, fsync as nodeFsync, openSync } from 'node:fs';

export type FsyncFn = (fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => void;

export class WalSync {
  private fd: number | null = null;
  /** The fsync in flight, if any. */
  private current: Promise<void> | null = null;
  /** The fsync queued behind it, shared by everyone who wrote while `current` ran. */
  private queued: Promise<void> | null = null;
  private poisoned: unknown = null;

  constructor(
    private readonly walFile: string,
    private readonly fsync: FsyncFn = nodeFsync,
  ) {}

  /** Why writes are refused (a failed fsync), or null. */
  get failure(): unknown {
    return this.poisoned;
  }

  /** Resolves once everything committed before this call is on disk. */
  sync(): Promise<void> {
    if (this.poisoned !== null) return Promise.reject(this.poisoned);
    // An fsync already running may have started before the caller's commit: wait for the next.
    if (this.queued !== null) return this.queued;
    if (this.current !== null) {
      this.queued = this.current.then(
        () => this.startNext(),
        () => this.startNext(),
      );
      return this.queued;
    }
    return this.start();
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }

  private startNext(): Promise<void> {
    this.queued = null;
    return this.start();
  }

  private start(): Promise<void> {
    const run = this.flush();
    this.current = run;
    const clear = () => {
      if (this.current === run) this.current = null;
    };
    run.then(clear, clear);
    return run;
  }

  private flush(): Promise<void> {
    if (this.poisoned !== null) return Promise.reject(this.poisoned);
    return new Promise<void>((resolve, reject) => {
      try {
        // Opened read-only: fsync flushes the file's dirty pages whatever descriptor asks.
        this.fd ??= openSync(this.walFile, 'r');
      } catch (err) {
        // Nothing was flushed, nothing was lost: this caller fails (1599), the next one retries.
        reject(err);
        return;
      }
      this.fsync(this.fd, (err) => {
        if (err) {
          this.poisoned = err;
          reject(err);
        } else resolve();
      });
    });
  }
}
