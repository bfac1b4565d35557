// Counters behind the per-brand limits (spec §2): OTP send windows, password retry budgets and
// account locks. They are security state (a reset counter means unbounded guesses or sends),
// so every adapter keeps them durably and every method is atomic.

export interface WindowLimit {
  /** Counter name, already namespaced by brand and subject. */
  key: string;
  windowMs: number;
  max: number;
}

export type Reservation = { ok: true; id: string } | { ok: false; retryAfterMs: number };

export interface FailureState {
  /** Failures counted in the current window (0 when the window has passed). */
  count: number;
  lastFailureAt: number | null;
  lockedUntil: number | null;
}

export interface LimitStore {
  /**
   * Checks every limit and, only if all have room, records one event under each key:
   * all or nothing, atomically, so 50 concurrent sends cannot overrun a window.
   * When one is full, records nothing and says when the oldest event leaves its window.
   */
  reserve(limits: WindowLimit[], now: number): Promise<Reservation>;
  /** Takes back a reservation (delivery failed: the customer's quota is not spent). */
  release(id: string): Promise<void>;

  /**
   * Adds one failure under `key`. The count restarts at 1 when the last failure is older
   * than `windowMs`. With `lock`, the `lock.max`-th failure sets lockedUntil = now + lock.ms.
   */
  recordFailure(key: string, now: number, windowMs: number, lock?: { max: number; ms: number }): Promise<FailureState>;
  getFailures(key: string, now: number, windowMs: number): Promise<FailureState>;
  clearFailures(keys: string[]): Promise<void>;
}
