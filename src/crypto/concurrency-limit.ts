// At most N tasks at once, the rest waiting in arrival order (FIFO). password-hasher.ts runs
// argon2 through one: its jobs go to the libuv pool (4 threads by default), and 4 concurrent
// 19 MiB hashes on 2 cores each run slower than one at a time would, while WebCrypto, fs and
// DNS wait behind them in the same pool. Capping at the core count keeps every running hash
// on its own core; shrinking the whole pool instead would starve those other users.

export class ConcurrencyLimit {
  private running = 0;
  // A queue of resolvers; `head` avoids Array#shift's O(n) on long queues.
  private readonly waiting: (() => void)[] = [];
  private head = 0;

  constructor(readonly max: number) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`concurrency limit must be a positive integer, got ${max}`);
  }

  /** Tasks running now. */
  get active(): number {
    return this.running;
  }

  /** Tasks waiting for a slot. */
  get queued(): number {
    return this.waiting.length - this.head;
  }

  /** Runs `task` when a slot is free; the slot is released however the task ends. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running < this.max) this.running++;
    else await new Promise<void>((resolve) => this.waiting.push(resolve)); // the releaser hands its slot over
    try {
      return await task();
    } finally {
      this.release();
    }
  }

  private release(): void {
    if (this.head < this.waiting.length) {
      const next = this.waiting[this.head] as () => void;
      this.waiting[this.head++] = undefined as never; // let the closure be collected
      if (this.head > 1024 && this.head * 2 > this.waiting.length) {
        this.waiting.splice(0, this.head);
        this.head = 0;
      }
      next(); // `running` stays the same: the slot passes to the next task
    } else {
      this.running--;
    }
  }
}
