// Group commit for append-only writes (audit events, outbox messages): appends that arrive
// while a write is in flight are written together by the next one, so under load many rows
// share one statement / one transaction (one WAL flush or fsync) instead of one each. A caller's
// promise settles only when its own row is committed: nothing is acknowledged before it is
// durable, and an idle service writes each row at once (no timer, no added latency).
//
// A failed batch is retried row by row, so one bad row fails only its own caller; a failure
// that `isFatal` recognises (the store is unreachable) fails the whole batch at once instead.

export interface GroupCommitOptions {
  /** Rows per write at most. */
  maxBatch?: number;
  /**
   * Start a write on the next macrotask instead of at once. For synchronous stores (SQLite),
   * where nothing is ever "in flight": appends made in the same event-loop turn share a
   * transaction.
   */
  deferStart?: boolean;
  isFatal?: (err: unknown) => boolean;
}

interface Pending<T> {
  item: T;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export function groupCommit<T>(write: (items: T[]) => Promise<void>, opts: GroupCommitOptions = {}): (item: T) => Promise<void> {
  const maxBatch = opts.maxBatch ?? 200;
  const isFatal = opts.isFatal ?? (() => false);
  let queue: Pending<T>[] = [];
  let running = false;

  async function drain(): Promise<void> {
    while (queue.length > 0) {
      const batch = queue.slice(0, maxBatch);
      queue = queue.slice(batch.length);
      try {
        await write(batch.map((p) => p.item));
        for (const p of batch) p.resolve();
      } catch (err) {
        if (batch.length === 1 || isFatal(err)) {
          for (const p of batch) p.reject(err);
          continue;
        }
        for (const p of batch) {
          try {
            await write([p.item]);
            p.resolve();
          } catch (one) {
            p.reject(one);
          }
        }
      }
    }
    running = false;
  }

  return (item) =>
    new Promise<void>((resolve, reject) => {
      queue.push({ item, resolve, reject });
      if (running) return;
      running = true;
      if (opts.deferStart) setImmediate(() => void drain());
      else void drain();
    });
}
