// Latency samples and percentiles. Samples are kept whole (a 10 s run at a few thousand
// operations per second is well under a million doubles) and sorted once, so percentiles are
// exact rather than bucketed.

export class Samples {
  private data = new Float64Array(4096);
  private n = 0;

  add(v: number): void {
    if (this.n === this.data.length) {
      const bigger = new Float64Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.n++] = v;
  }

  get count(): number {
    return this.n;
  }

  /** Nearest-rank percentiles (p in 0..100) in the samples' unit, rounded to 0.01. */
  percentiles(ps: number[]): number[] {
    if (this.n === 0) return ps.map(() => NaN);
    const sorted = this.data.slice(0, this.n).sort();
    return ps.map((p) => {
      const rank = Math.min(this.n - 1, Math.max(0, Math.ceil((p / 100) * this.n) - 1));
      return Math.round((sorted[rank] as number) * 100) / 100;
    });
  }
}

export const round = (v: number | null, digits = 2): number | null => (v === null || !Number.isFinite(v) ? null : Math.round(v * 10 ** digits) / 10 ** digits);
